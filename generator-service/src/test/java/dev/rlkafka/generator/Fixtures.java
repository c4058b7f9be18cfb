package dev.rlkafka.generator;

import ai.djl.Device;
import dev.rlkafka.policy.model.ModelConfig;
import dev.rlkafka.policy.model.Policy;
import dev.rlkafka.policy.tokenizer.ByteTokenizer;
import dev.rlkafka.policy.weights.WeightCodec;
import dev.rlkafka.schemas.avro.Prompt;

import java.time.Instant;

/** Tiny models and prompts: small enough that a test's sampling takes milliseconds on 2 cores. */
final class Fixtures {
    /** Context 32 holds a short prompt plus a few completion tokens. */
    static final ModelConfig TINY = new ModelConfig(ByteTokenizer.VOCAB_SIZE, 32, 32, 1, 2);

    private Fixtures() {
    }

    static Policy policy(long seed) {
        return Policy.create(TINY, Device.cpu(), seed);
    }

    /** Encoded weights of a fresh tiny policy initialised from {@code seed}. */
    static byte[] weights(ModelConfig config, long seed) {
        try (Policy policy = Policy.create(config, Device.cpu(), seed)) {
            return WeightCodec.encode(policy);
        }
    }

    static Prompt prompt(String id, String text, int groupSize) {
        return Prompt.newBuilder().setPromptId(id).setTask("arithmetic").setText(text).setReferenceAnswer("42")
                .setGroupSize(groupSize).setCreatedAtMs(Instant.now()).build();
    }
}
