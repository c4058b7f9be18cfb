package dev.rlkafka.cli;

import dev.rlkafka.policy.model.ModelConfig;
import dev.rlkafka.schemas.TopicSpec;
import dev.rlkafka.schemas.KafkaClientConfig;
import dev.rlkafka.schemas.Topics;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;

/**
 * Keeps a demo run's policy-weights topic to its newest versions. TopicSpec keeps every version forever, and
 * the demo publishes one per trainer step: 300 versions of a 0.7 MB policy are 210 MB in runs/<id>/kafka,
 * none of which replay or rescore read. Generators and a restarted trainer need only the newest complete
 * version, so the topic keeps at least {@link #retentionBytes} (three versions, or 16 MiB if more) and Kafka
 * deletes older segments at its retention check.
 */
final class WeightsRetention {
    static final long MIN_RETENTION_BYTES = 16L * 1024 * 1024;
    /** Small segments, so that old versions go in small steps; at least max.message.bytes (a segment holds a whole batch). */
    static final long MIN_SEGMENT_BYTES = 16L * 1024 * 1024;

    private WeightsRetention() {
    }

    /**
     * Kafka never deletes below {@code retention.bytes} of a partition: three versions keep the newest complete one
     * even while the next is half written (its chunks may straddle a segment boundary).
     */
    static long retentionBytes(ModelConfig model) {
        long versionBytes = 4 * model.parameterCount() + 64 * 1024;   // float32 weights + tensor names and shapes
        return Math.max(MIN_RETENTION_BYTES, 3 * versionBytes);
    }

    static Map<String, String> configs(Topics topics, ModelConfig model) {
        TopicSpec weights = TopicSpec.forRun(topics, 1).stream()
                .filter(s -> s.name().equals(topics.policyWeights())).findFirst().orElseThrow();
        long segment = Math.max(MIN_SEGMENT_BYTES, weights.maxMessageBytes());
        return Map.of(TopicConfig.RETENTION_BYTES_CONFIG, Long.toString(retentionBytes(model)),
                TopicConfig.SEGMENT_BYTES_CONFIG, Long.toString(segment),
                // a deleted segment's file goes after this delay (default 60 s): a demo's broker may stop sooner
                TopicConfig.FILE_DELETE_DELAY_MS_CONFIG, "1000");
    }

    /** Sets {@link #configs} on the run's weights topic, which must exist. */
    static void apply(String bootstrap, KafkaClientConfig client, Topics topics, ModelConfig model)
            throws InterruptedException, ExecutionException {
        ConfigResource topic = new ConfigResource(ConfigResource.Type.TOPIC, topics.policyWeights());
        List<AlterConfigOp> ops = configs(topics, model).entrySet().stream()
                .map(e -> new AlterConfigOp(new ConfigEntry(e.getKey(), e.getValue()), AlterConfigOp.OpType.SET)).toList();
        try (Admin admin = Admin.create(client.with(bootstrap))) {
            admin.incrementalAlterConfigs(Map.of(topic, ops)).all().get();
        }
    }
}
