package dev.rlkafka.policy.train;

import ai.djl.Device;
import ai.djl.engine.Engine;
import dev.rlkafka.policy.loss.DpoConfig;
import dev.rlkafka.policy.model.LogProbs;
import dev.rlkafka.policy.model.ModelConfig;
import dev.rlkafka.policy.model.NoGrad;
import dev.rlkafka.policy.model.Policy;
import dev.rlkafka.policy.optim.AdamWConfig;
import dev.rlkafka.policy.sampling.Completion;
import dev.rlkafka.policy.sampling.Sampler;
import dev.rlkafka.policy.sampling.SamplingParams;
import dev.rlkafka.policy.tokenizer.ByteTokenizer;
import dev.rlkafka.policy.weights.WeightCodec;
import dev.rlkafka.schemas.Sha256;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DpoUpdaterTest {
    private static final ModelConfig TINY = new ModelConfig(ByteTokenizer.VOCAB_SIZE, 16, 32, 1, 2);
    private static final DpoUpdater.Config CONFIG = new DpoUpdater.Config(DpoConfig.DEFAULT, AdamWConfig.DEFAULT.withLr(1e-2), 1.0, 0);

    private static RlGroup group(Policy policy, String prompt, double[] rewards, long seed) {
        int[] tokens = ByteTokenizer.encodePrompt(prompt);
        List<int[]> prompts = new ArrayList<>();
        for (int i = 0; i < rewards.length; i++) prompts.add(tokens);
        List<Completion> completions = new Sampler(policy).sample(prompts, SamplingParams.plain(seed, 4));
        List<RlSample> samples = new ArrayList<>();
        for (int i = 0; i < rewards.length; i++) {
            samples.add(new RlSample(tokens, completions.get(i).tokenIds(), completions.get(i).logprobs(), rewards[i], 0, 0));
        }
        return new RlGroup(samples);
    }

    private static double totalLogprob(Policy policy, RlSample sample) {
        try (var step = policy.manager().newSubManager()) {
            return NoGrad.call(() -> LogProbs.compute(policy, step, List.of(sample.promptTokens()),
                    List.of(sample.completionTokens())).logp().sum().getFloat());
        }
    }

    @Test
    void theChosenCompletionGainsOnTheRejectedOne() {
        Engine.getInstance();
        try (Policy policy = Policy.create(TINY, Device.cpu(), 1);
             Policy reference = WeightCodec.decode(WeightCodec.encode(policy), Device.cpu());
             DpoUpdater updater = new DpoUpdater(policy, reference, CONFIG)) {
            RlGroup a = group(policy, "12+34=", new double[] {0.0, 1.1, 0.1}, 3);
            RlGroup tied = group(policy, "5+5=", new double[] {1.0, 1.0}, 4);
            RlGroup.PreferencePair pair = a.preferencePair().orElseThrow();
            double before = totalLogprob(policy, pair.chosen()) - totalLogprob(policy, pair.rejected());
            UpdateStats first = updater.update(List.of(a, tied));
            for (int i = 0; i < 4; i++) updater.update(List.of(a, tied));
            double after = totalLogprob(policy, pair.chosen()) - totalLogprob(policy, pair.rejected());
            assertTrue(after > before + 0.1, "chosen minus rejected log-prob " + before + " -> " + after);
            assertEquals(1.0, first.diagnostics().get("pairs"), "the tied group gives no pair");
            assertEquals(2, first.rollouts());
            assertEquals(Math.log(2), first.loss(), 1e-5, "policy = reference at the first step: −log σ(0)");
            assertEquals(0f, first.kl(), 1e-6f);
        }
    }

    @Test
    void aBatchOfTiedGroupsTakesNoStep() {
        Engine.getInstance();
        try (Policy policy = Policy.create(TINY, Device.cpu(), 1);
             Policy reference = WeightCodec.decode(WeightCodec.encode(policy), Device.cpu());
             DpoUpdater updater = new DpoUpdater(policy, reference, CONFIG)) {
            String before = Sha256.hex(WeightCodec.encode(policy));
            UpdateStats stats = updater.update(List.of(group(policy, "1+1=", new double[] {0, 0, 0}, 1),
                    group(policy, "2+2=", new double[] {1.1, 1.1}, 2)));
            assertEquals(0.0, stats.diagnostics().get("pairs"));
            assertEquals(0, stats.rollouts());
            assertEquals(0, updater.stepCount());
            assertEquals(before, Sha256.hex(WeightCodec.encode(policy)), "weights unchanged");
        }
    }
}
