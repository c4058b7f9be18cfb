package dev.rlkafka.policy.train;

import ai.djl.Device;
import ai.djl.engine.Engine;
import dev.rlkafka.policy.model.ModelConfig;
import dev.rlkafka.policy.model.Policy;
import dev.rlkafka.policy.sampling.SamplingParams;
import dev.rlkafka.policy.task.Task;
import dev.rlkafka.policy.task.Tasks;
import dev.rlkafka.policy.tokenizer.ByteTokenizer;
import dev.rlkafka.policy.weights.WeightCodec;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EvaluatorTest {
    private static final ModelConfig TINY = new ModelConfig(ByteTokenizer.VOCAB_SIZE, 16, 32, 1, 2);

    @Test
    void klToReferenceIsZeroForTheReferenceItselfAndPositiveForAnotherPolicy() {
        Engine.getInstance();
        Task task = Tasks.byName("arithmetic");
        try (Policy policy = Policy.create(TINY, Device.cpu(), 1);
             Policy copy = WeightCodec.decode(WeightCodec.encode(policy), Device.cpu());
             Policy other = Policy.create(TINY, Device.cpu(), 2)) {
            SamplingParams params = SamplingParams.plain(3, 4);
            assertEquals(0.0, Evaluator.klToReference(policy, copy, task, 70, 1, params), 1e-6);
            double kl = Evaluator.klToReference(policy, other, task, 70, 1, params);
            assertTrue(kl > 1e-4 && Double.isFinite(kl), "two random initialisations differ: " + kl);
        }
    }
}
