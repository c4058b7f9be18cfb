package dev.rlkafka.policy.train;

import ai.djl.Device;
import ai.djl.engine.Engine;
import dev.rlkafka.policy.model.ModelConfig;
import dev.rlkafka.policy.model.Policy;
import dev.rlkafka.policy.sampling.SamplingParams;
import dev.rlkafka.policy.task.Task;
import dev.rlkafka.policy.task.Tasks;
import dev.rlkafka.policy.weights.WeightCodec;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * One SFT run on the default task's imperfect demonstrations, then each algorithm in-process (no Kafka) from
 * that same checkpoint: held-out sampled accuracy rises well past SFT's. The SFT run is shared because it
 * costs more than the three RL runs together.
 */
class RlLoopTest {
    private static final Task TASK = Tasks.byName("arithmetic");
    private static final double LR = 3e-4;

    private static byte[] sft;
    private static double sftAccuracy;

    @BeforeAll
    static void supervisedFineTuning() {
        Engine.getInstance();
        Policy.setIntraOpThreads(1);
        try (Policy policy = Policy.create(ModelConfig.DEFAULT, Device.cpu(), 1)) {
            SftTrainer.train(policy, TASK, SftConfig.DEFAULT, null);
            sft = WeightCodec.encode(policy);
            sftAccuracy = heldOutAccuracy(policy);
        }
        assertTrue(sftAccuracy > 0.3 && sftAccuracy < 0.7,
                "SFT on half-wrong demonstrations samples the right answer about half the time, got " + sftAccuracy);
    }

    private static double heldOutAccuracy(Policy policy) {
        return Evaluator.evaluate(policy, TASK, 300, 7, SamplingParams.plain(7, 6)).accuracy();
    }

    /** {@code steps} steps of 8 groups of 8 from the SFT checkpoint, learning rate decaying over the run. */
    private static double accuracyAfter(Algorithm algorithm, int steps) {
        try (Policy policy = WeightCodec.decode(sft, Device.cpu()); Policy reference = WeightCodec.decode(sft, Device.cpu());
             RlLoop loop = new RlLoop(policy, reference, TASK, new RlLoop.Config(8, 8, SamplingParams.plain(11, 6), true, 99),
                     algorithm.config(LR, algorithm.defaultBeta(), steps, 1.0))) {
            for (int i = 0; i < steps; i++) loop.step();
            return heldOutAccuracy(policy);
        }
    }

    @Test
    void grpoLiftsHeldOutSampledAccuracyAfterSft() {
        double rl = accuracyAfter(Algorithm.GRPO, 80);
        assertTrue(rl > sftAccuracy + 0.2, "held-out sampled accuracy after SFT " + sftAccuracy + ", after 80 GRPO steps " + rl);
    }

    @Test
    void ppoLiftsHeldOutSampledAccuracyAfterSft() {
        double rl = accuracyAfter(Algorithm.PPO, 50);
        assertTrue(rl > sftAccuracy + 0.2, "held-out sampled accuracy after SFT " + sftAccuracy + ", after 50 PPO steps " + rl);
    }

    @Test
    void onlineDpoLiftsHeldOutSampledAccuracyAfterSft() {
        double rl = accuracyAfter(Algorithm.DPO, 50);
        assertTrue(rl > sftAccuracy + 0.2, "held-out sampled accuracy after SFT " + sftAccuracy + ", after 50 DPO steps " + rl);
    }
}
