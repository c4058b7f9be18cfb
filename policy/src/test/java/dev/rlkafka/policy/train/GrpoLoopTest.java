package dev.rlkafka.policy.train;

import ai.djl.Device;
import ai.djl.engine.Engine;
import dev.rlkafka.policy.loss.GrpoConfig;
import dev.rlkafka.policy.model.ModelConfig;
import dev.rlkafka.policy.model.Policy;
import dev.rlkafka.policy.optim.AdamWConfig;
import dev.rlkafka.policy.sampling.SamplingParams;
import dev.rlkafka.policy.task.Task;
import dev.rlkafka.policy.task.Tasks;
import dev.rlkafka.policy.weights.WeightCodec;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** SFT on the default task's imperfect demonstrations, then GRPO in-process (no Kafka): held-out accuracy rises. */
class GrpoLoopTest {

    @Test
    void grpoLiftsHeldOutSampledAccuracyAfterSft() {
        Engine.getInstance();
        Policy.setIntraOpThreads(1);
        Task task = Tasks.byName("arithmetic");
        try (Policy policy = Policy.create(ModelConfig.DEFAULT, Device.cpu(), 1)) {
            SftTrainer.train(policy, task, SftConfig.DEFAULT, null);
            double sft = Evaluator.evaluate(policy, task, 300, 7, SamplingParams.plain(7, 6)).accuracy();
            try (Policy reference = WeightCodec.decode(WeightCodec.encode(policy), Device.cpu())) {
                GrpoLoop loop = new GrpoLoop(policy, reference, task,
                        new GrpoLoop.Config(8, 8, SamplingParams.plain(11, 6), true, 99),
                        new GrpoUpdater.Config(GrpoConfig.DEFAULT, AdamWConfig.DEFAULT.withLr(3e-4), 1.0, 80));
                for (int i = 0; i < 80; i++) loop.step();
            }
            double rl = Evaluator.evaluate(policy, task, 300, 7, SamplingParams.plain(7, 6)).accuracy();
            assertTrue(sft > 0.3 && sft < 0.7, "SFT on half-wrong demonstrations samples the right answer about half the time, got " + sft);
            assertTrue(rl > sft + 0.2, "held-out sampled accuracy after SFT " + sft + ", after 80 GRPO steps " + rl);
        }
    }
}
