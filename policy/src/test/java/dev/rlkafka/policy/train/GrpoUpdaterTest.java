package dev.rlkafka.policy.train;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.rlkafka.policy.loss.GrpoConfig;
import dev.rlkafka.policy.loss.GrpoLoss;
import dev.rlkafka.policy.model.LogProbs;
import dev.rlkafka.policy.model.ModelConfig;
import dev.rlkafka.policy.model.NoGrad;
import dev.rlkafka.policy.model.Policy;
import dev.rlkafka.policy.optim.AdamW;
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
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class GrpoUpdaterTest {
    private static final ModelConfig TINY = new ModelConfig(ByteTokenizer.VOCAB_SIZE, 16, 32, 1, 2);

    private static List<RlGroup> batch(Policy policy, double[] advantages) {
        int[] prompt = ByteTokenizer.encodePrompt("12+34=");
        List<int[]> prompts = new ArrayList<>();
        for (int i = 0; i < advantages.length; i++) prompts.add(prompt);
        List<Completion> completions = new Sampler(policy).sample(prompts, SamplingParams.plain(3, 4));
        List<RlSample> samples = new ArrayList<>();
        for (int i = 0; i < advantages.length; i++) {
            Completion c = completions.get(i);
            samples.add(new RlSample(prompt, c.tokenIds(), c.logprobs(), advantages[i], advantages[i], 0));
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
    void positiveAdvantageMakesItsCompletionMoreLikely() {
        Engine.getInstance();
        try (Policy policy = Policy.create(TINY, Device.cpu(), 1);
             Policy reference = WeightCodec.decode(WeightCodec.encode(policy), Device.cpu());
             GrpoUpdater updater = new GrpoUpdater(policy, reference,
                     new GrpoUpdater.Config(new GrpoConfig(0.2, 0.0, 2.0), AdamWConfig.DEFAULT.withLr(1e-2), 1.0))) {
            List<RlSample> samples = batch(policy, new double[]{1.0, -1.0}).get(0).rollouts();
            double before = totalLogprob(policy, samples.get(0)) - totalLogprob(policy, samples.get(1));
            for (int i = 0; i < 5; i++) updater.update(List.of(new RlGroup(samples)));
            double after = totalLogprob(policy, samples.get(0)) - totalLogprob(policy, samples.get(1));
            assertTrue(after > before + 0.1, "favoured minus disfavoured log-prob " + before + " -> " + after);
            assertEquals(5, updater.stepCount());
        }
    }

    @Test
    void updatesWorkOnAThreadThatDidNotLoadTheEngine() throws Exception {
        Engine.getInstance();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread worker = new Thread(() -> {
            try (Policy policy = Policy.create(TINY, Device.cpu(), 2);
                 Policy reference = WeightCodec.decode(WeightCodec.encode(policy), Device.cpu());
                 GrpoUpdater updater = new GrpoUpdater(policy, reference, GrpoUpdater.Config.DEFAULT)) {
                String before = Sha256.hex(WeightCodec.encode(policy));
                updater.update(batch(policy, new double[]{0.5, -0.5}));
                assertNotEquals(before, Sha256.hex(WeightCodec.encode(policy)));
            } catch (Throwable t) {
                failure.set(t);
            }
        }, "service-thread");
        worker.start();
        worker.join();
        assertNull(failure.get(), () -> "update on a service thread failed: " + failure.get());
    }

    @Test
    void cosineDecayGoesFromTheLearningRateToATenthOfIt() {
        GrpoUpdater.Config config = GrpoUpdater.Config.DEFAULT.withDecaySteps(100);
        double lr = config.optimizer().lr();
        assertEquals(lr, config.learningRate(0), 1e-12);
        assertEquals(lr * 0.55, config.learningRate(50), 1e-12);
        assertEquals(lr * 0.1, config.learningRate(100), 1e-12);
        assertEquals(lr * 0.1, config.learningRate(1000), 1e-12);
        assertEquals(lr, GrpoUpdater.Config.DEFAULT.learningRate(1000), 1e-12, "0 decay steps = constant");
    }

    @Test
    void aRestoredOptimizerTakesTheIdenticalNextStep() {
        Engine.getInstance();
        try (Policy policy = Policy.create(TINY, Device.cpu(), 1);
             Policy reference = WeightCodec.decode(WeightCodec.encode(policy), Device.cpu());
             GrpoUpdater first = new GrpoUpdater(policy, reference, GrpoUpdater.Config.DEFAULT)) {
            first.update(batch(policy, new double[]{1.0, -1.0}));
            var state = first.optimizerState();
            try (Policy copy = WeightCodec.decode(WeightCodec.encode(policy), Device.cpu());
                 GrpoUpdater second = new GrpoUpdater(copy, reference, GrpoUpdater.Config.DEFAULT)) {
                second.loadOptimizerState(state);
                assertEquals(first.stepCount(), second.stepCount());
                List<RlGroup> next = batch(policy, new double[]{1.0, -1.0});
                first.update(next);
                second.update(next);
                assertEquals(Sha256.hex(WeightCodec.encode(policy)),
                        Sha256.hex(WeightCodec.encode(copy)), "a restored optimiser takes the identical next step");
            }
        }
    }

    /**
     * The updater takes π_prox from the differentiable forward, detached, instead of a forward pass of its own:
     * its step must equal the textbook one, where π_prox comes from a separate no-grad forward of the same
     * policy. The behaviour log-probs are shifted so the capped weight π_prox/π_behav is not 1.
     */
    @Test
    void theProximalLogprobsAreThePolicyBeforeTheStep() {
        Engine.getInstance();
        GrpoUpdater.Config config = new GrpoUpdater.Config(new GrpoConfig(0.2, 0.05, 2.0), AdamWConfig.DEFAULT.withLr(1e-2), 1.0);
        try (Policy policy = Policy.create(TINY, Device.cpu(), 3);
             Policy textbook = WeightCodec.decode(WeightCodec.encode(policy), Device.cpu());
             Policy reference = WeightCodec.decode(WeightCodec.encode(policy), Device.cpu());
             GrpoUpdater updater = new GrpoUpdater(policy, reference, config);
             AdamW optimizer = new AdamW(config.optimizer(), textbook.parameters(), textbook.weightMatrixNames()::contains)) {
            List<RlSample> stale = new ArrayList<>();
            for (RlSample s : batch(policy, new double[]{1.0, -0.5, 0.25}).get(0).rollouts()) {
                float[] behaviour = s.behaviourLogprobs().clone();
                for (int t = 0; t < behaviour.length; t++) behaviour[t] -= 0.3f * (t + 1);
                stale.add(new RlSample(s.promptTokens(), s.completionTokens(), behaviour, s.reward(), s.advantage(), 0));
            }
            List<int[]> prompts = stale.stream().map(RlSample::promptTokens).toList();
            List<int[]> completions = stale.stream().map(RlSample::completionTokens).toList();
            int tc = completions.stream().mapToInt(c -> c.length).max().orElseThrow();
            float[] behaviour = new float[stale.size() * tc];
            double[] advantages = new double[stale.size()];
            for (int b = 0; b < stale.size(); b++) {
                System.arraycopy(stale.get(b).behaviourLogprobs(), 0, behaviour, b * tc, stale.get(b).behaviourLogprobs().length);
                advantages[b] = stale.get(b).advantage();
            }

            float updaterLoss = updater.update(List.of(new RlGroup(stale))).loss();

            float textbookLoss;
            try (NDManager step = textbook.manager().newSubManager()) {
                NDArray refLogp = NoGrad.call(() -> LogProbs.compute(reference, step, prompts, completions).logp());
                NDArray proximalLogp = NoGrad.call(() -> LogProbs.compute(textbook, step, prompts, completions).logp());
                try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                    LogProbs current = LogProbs.compute(textbook, step, prompts, completions);
                    GrpoLoss.Result result = GrpoLoss.compute(current.logp(), proximalLogp, step.create(behaviour, new Shape(stale.size(), tc)),
                            refLogp, step.create(advantages), current.mask(), config.loss());
                    collector.backward(result.loss());
                    textbookLoss = result.loss().getFloat();
                }
            }
            OptimizerSteps.clipAndStep(optimizer, textbook.parameters(), config.maxGradNorm(), config.learningRate(0));

            assertEquals(textbookLoss, updaterLoss, 1e-6f);
            textbook.parameters().forEach((name, expected) -> assertArrayEquals(expected.getArray().toFloatArray(),
                    policy.parameters().get(name).getArray().toFloatArray(), 1e-6f, name));
        }
    }
}
