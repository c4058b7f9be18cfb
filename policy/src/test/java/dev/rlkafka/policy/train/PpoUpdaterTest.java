package dev.rlkafka.policy.train;

import ai.djl.Device;
import ai.djl.engine.Engine;
import dev.rlkafka.policy.loss.PpoConfig;
import dev.rlkafka.policy.model.LogProbs;
import dev.rlkafka.policy.model.ModelConfig;
import dev.rlkafka.policy.model.NoGrad;
import dev.rlkafka.policy.model.Policy;
import dev.rlkafka.policy.optim.AdamWConfig;
import dev.rlkafka.policy.sampling.Completion;
import dev.rlkafka.policy.sampling.Sampler;
import dev.rlkafka.policy.sampling.SamplingParams;
import dev.rlkafka.policy.tokenizer.ByteTokenizer;
import dev.rlkafka.policy.weights.Tensor;
import dev.rlkafka.policy.weights.WeightCodec;
import dev.rlkafka.schemas.Sha256;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PpoUpdaterTest {
    private static final ModelConfig TINY = new ModelConfig(ByteTokenizer.VOCAB_SIZE, 16, 32, 1, 2);

    private static PpoUpdater.Config config(double lr) {
        return config(lr, 3 * lr, PpoConfig.DEFAULT);
    }

    private static PpoUpdater.Config config(double lr, double criticLr, PpoConfig loss) {
        return new PpoUpdater.Config(loss, AdamWConfig.DEFAULT.withLr(lr), AdamWConfig.DEFAULT.withLr(criticLr), 1.0, 0);
    }

    /** One group of rollouts of "12+34=" sampled from {@code policy}, with the given rewards. */
    private static List<RlGroup> batch(Policy policy, double[] rewards, long seed) {
        int[] prompt = ByteTokenizer.encodePrompt("12+34=");
        List<int[]> prompts = new ArrayList<>();
        for (int i = 0; i < rewards.length; i++) prompts.add(prompt);
        List<Completion> completions = new Sampler(policy).sample(prompts, SamplingParams.plain(seed, 4));
        List<RlSample> samples = new ArrayList<>();
        for (int i = 0; i < rewards.length; i++) {
            Completion c = completions.get(i);
            samples.add(new RlSample(prompt, c.tokenIds(), c.logprobs(), rewards[i], 0, 0));
        }
        return List.of(new RlGroup(samples));
    }

    private static double totalLogprob(Policy policy, RlSample sample) {
        try (var step = policy.manager().newSubManager()) {
            return NoGrad.call(() -> LogProbs.compute(policy, step, List.of(sample.promptTokens()),
                    List.of(sample.completionTokens())).logp().sum().getFloat());
        }
    }

    @Test
    void theRewardedCompletionBecomesMoreLikelyAndTheCriticLearnsTheReturns() {
        Engine.getInstance();
        try (Policy policy = Policy.create(TINY, Device.cpu(), 1);
             Policy reference = WeightCodec.decode(WeightCodec.encode(policy), Device.cpu());
             // β = 0: the value targets then depend on the rewards only, not on how far the policy has moved
             PpoUpdater updater = new PpoUpdater(policy, reference, config(1e-2, 3e-3, PpoConfig.DEFAULT.withBeta(0)))) {
            List<RlGroup> batch = batch(policy, new double[] {1.0, 0.0}, 3);
            List<RlSample> samples = batch.get(0).rollouts();
            double before = totalLogprob(policy, samples.get(0)) - totalLogprob(policy, samples.get(1));
            UpdateStats first = updater.update(batch);
            UpdateStats last = first;
            for (int i = 0; i < 9; i++) last = updater.update(batch);
            double after = totalLogprob(policy, samples.get(0)) - totalLogprob(policy, samples.get(1));
            assertTrue(after > before + 0.1, "rewarded minus unrewarded log-prob " + before + " -> " + after);
            assertEquals(0.0, first.diagnostics().get("value_mean"), 1e-9, "a fresh critic's head is zero");
            assertTrue(last.diagnostics().get("value_loss") < first.diagnostics().get("value_loss") / 2,
                    "value loss " + first.diagnostics().get("value_loss") + " -> " + last.diagnostics().get("value_loss"));
            assertTrue(last.diagnostics().get("value_mean") > 0.1, "values move towards the returns (about 0.5 on average): "
                    + last.diagnostics().get("value_mean"));
            assertEquals(10, updater.stepCount());
            assertEquals(2, first.rollouts());
        }
    }

    @Test
    void aRestoredUpdaterTakesTheIdenticalNextStepCriticIncluded() {
        Engine.getInstance();
        try (Policy policy = Policy.create(TINY, Device.cpu(), 1);
             Policy reference = WeightCodec.decode(WeightCodec.encode(policy), Device.cpu());
             PpoUpdater first = new PpoUpdater(policy, reference, config(1e-3))) {
            first.update(batch(policy, new double[] {1.0, 0.0, 0.5}, 5));
            Map<String, Tensor> state = first.optimizerState();
            assertTrue(state.containsKey("critic.weights.value.weight") && state.containsKey("critic.optim.step")
                    && state.containsKey("step"), "policy optimiser, critic weights and critic optimiser: " + state.keySet().stream().limit(5).toList());
            try (Policy copy = WeightCodec.decode(WeightCodec.encode(policy), Device.cpu());
                 PpoUpdater second = new PpoUpdater(copy, reference, config(1e-3))) {
                second.loadOptimizerState(state);
                assertEquals(first.stepCount(), second.stepCount());
                List<RlGroup> next = batch(policy, new double[] {0.0, 1.0, 0.2}, 6);
                UpdateStats a = first.update(next);
                UpdateStats b = second.update(next);
                assertEquals(a.diagnostics().get("value_loss"), b.diagnostics().get("value_loss"), "the restored critic gives the same values");
                assertEquals(Sha256.hex(WeightCodec.encode(policy)), Sha256.hex(WeightCodec.encode(copy)));
                assertEquals(first.optimizerState(), second.optimizerState(), "critic weights and both optimisers match after the step");
            }
        }
    }

    @Test
    void aGrpoStateCannotResumePpoNorAPpoStateGrpo() {
        Engine.getInstance();
        try (Policy policy = Policy.create(TINY, Device.cpu(), 1);
             Policy reference = WeightCodec.decode(WeightCodec.encode(policy), Device.cpu());
             PpoUpdater ppo = new PpoUpdater(policy, reference, config(1e-3));
             GrpoUpdater grpo = new GrpoUpdater(policy, reference, GrpoUpdater.Config.DEFAULT)) {
            var e = assertThrows(IllegalArgumentException.class, () -> ppo.loadOptimizerState(grpo.optimizerState()));
            assertTrue(e.getMessage().contains("written by a grpo or dpo run"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> grpo.loadOptimizerState(ppo.optimizerState()));
            assertTrue(e.getMessage().contains("cannot resume as grpo"), e.getMessage());
        }
    }
}
