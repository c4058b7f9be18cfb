package dev.rlkafka.cli;

import dev.rlkafka.policy.model.ModelConfig;
import dev.rlkafka.policy.tokenizer.ByteTokenizer;
import dev.rlkafka.schemas.TopicSpec;
import dev.rlkafka.schemas.Topics;
import org.apache.kafka.common.config.TopicConfig;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class WeightsRetentionTest {
    private static final Topics RUN = Topics.withPrefix("run-1.");

    @Test
    void aSmallPolicyKeepsSixteenMebibytesAndALargeOneThreeVersions() {
        assertEquals(WeightsRetention.MIN_RETENTION_BYTES, WeightsRetention.retentionBytes(ModelConfig.DEFAULT));
        ModelConfig large = new ModelConfig(ByteTokenizer.VOCAB_SIZE, 256, 512, 8, 8);   // ~25 M parameters, ~100 MB a version
        long version = 4 * large.parameterCount();
        assertTrue(WeightsRetention.retentionBytes(large) >= 3 * version, "newest complete version survives a half-written next one");
    }

    @Test
    void segmentsHoldTheLargestWeightChunkBatch() {
        Map<String, String> configs = WeightsRetention.configs(RUN, ModelConfig.DEFAULT);
        long maxMessage = TopicSpec.forRun(RUN, 1).stream().filter(s -> s.name().equals(RUN.policyWeights()))
                .findFirst().orElseThrow().maxMessageBytes();
        assertTrue(Long.parseLong(configs.get(TopicConfig.SEGMENT_BYTES_CONFIG)) >= maxMessage);
        assertEquals(Long.toString(WeightsRetention.retentionBytes(ModelConfig.DEFAULT)), configs.get(TopicConfig.RETENTION_BYTES_CONFIG));
    }
}
