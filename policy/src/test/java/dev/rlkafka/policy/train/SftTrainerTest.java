package dev.rlkafka.policy.train;

import ai.djl.Device;
import ai.djl.engine.Engine;
import dev.rlkafka.policy.model.ModelConfig;
import dev.rlkafka.policy.model.Policy;
import dev.rlkafka.policy.optim.AdamWConfig;
import dev.rlkafka.policy.task.Tasks;
import dev.rlkafka.policy.tokenizer.ByteTokenizer;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SftTrainerTest {
    @Test
    void lossFallsAndProgressIsReportedEveryStep() {
        Engine.getInstance();
        List<Float> losses = new ArrayList<>();
        try (Policy policy = Policy.create(new ModelConfig(ByteTokenizer.VOCAB_SIZE, 16, 32, 1, 2), Device.cpu(), 1)) {
            SftTrainer.Result result = SftTrainer.train(policy, Tasks.byName("arithmetic"),
                    new SftConfig(60, 32, AdamWConfig.DEFAULT.withLr(3e-3), 5, 1.0, 1),
                    (step, steps, loss, tokensPerSecond) -> losses.add(loss));
            assertEquals(60, losses.size());
            assertTrue(result.finalLoss() < losses.get(0) - 1.0, "loss " + losses.get(0) + " -> " + result.finalLoss());
            assertTrue(result.tokensPerSecond() > 0);
        }
    }

    @Test
    void warmupThenCosineDecay() {
        SftConfig config = new SftConfig(110, 8, AdamWConfig.DEFAULT.withLr(1e-3), 10, 1.0, 1);
        assertEquals(1e-4, config.learningRate(0), 1e-12);
        assertEquals(1e-3, config.learningRate(9), 1e-12);
        assertEquals(1e-3, config.learningRate(10), 1e-12);
        assertEquals(1e-4, config.learningRate(110), 1e-12);
    }
}
