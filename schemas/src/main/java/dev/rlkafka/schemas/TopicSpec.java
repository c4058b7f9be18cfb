package dev.rlkafka.schemas;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * How one topic is created: partitions and the topic configs we manage.
 *
 * <p>Producers writing to a topic must set {@code max.request.size} to at least
 * {@link #maxMessageBytes()} (the client default is 1 MiB), or large records fail on send.
 *
 * @param name            full topic name (prefix included)
 * @param partitions      partition count, >= 1
 * @param cleanupPolicy   {@code delete} or {@code compact}
 * @param retentionMs     how long records are kept; -1 = forever
 * @param maxMessageBytes largest record batch the broker accepts on this topic
 */
public record TopicSpec(String name, int partitions, String cleanupPolicy, long retentionMs, int maxMessageBytes) {
    public static final String CLEANUP_POLICY = "cleanup.policy";
    public static final String RETENTION_MS = "retention.ms";
    public static final String MAX_MESSAGE_BYTES = "max.message.bytes";
    /** The configs every spec sets; {@link TopicAdmin#describe} reports their effective values. */
    public static final List<String> MANAGED_CONFIGS = List.of(CLEANUP_POLICY, RETENTION_MS, MAX_MESSAGE_BYTES);

    static final int MIB = 1024 * 1024;
    /** Size of one inline {@code WeightChunk}'s bytes; the trainer splits weights into chunks of at most this. */
    public static final int WEIGHT_CHUNK_BYTES = 8 * MIB;
    /** Forever: run data is the audit trail and replay source; a finished run's topics are deleted by prefix. */
    static final long KEEP_FOREVER = -1;

    public TopicSpec {
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("topic name must be set, got '" + name + "'");
        }
        if (partitions < 1) {
            throw new IllegalArgumentException("partitions of " + name + " must be >= 1, got " + partitions);
        }
        if (!"delete".equals(cleanupPolicy) && !"compact".equals(cleanupPolicy)) {
            throw new IllegalArgumentException("cleanup.policy of " + name + " must be delete or compact, got '" + cleanupPolicy + "'");
        }
        if (retentionMs < -1 || retentionMs == 0) {
            throw new IllegalArgumentException("retention.ms of " + name + " must be > 0 or -1 (forever), got " + retentionMs);
        }
        if (maxMessageBytes < 1024) {
            throw new IllegalArgumentException("max.message.bytes of " + name + " must be >= 1024, got " + maxMessageBytes);
        }
    }

    /** The topic configs to create it with. */
    public Map<String, String> configs() {
        return Map.of(CLEANUP_POLICY, cleanupPolicy,
                RETENTION_MS, Long.toString(retentionMs),
                MAX_MESSAGE_BYTES, Integer.toString(maxMessageBytes));
    }

    /**
     * The specs of every topic of a run.
     *
     * @param partitions partition count of prompts, rollouts, rewards and scored-groups (one count:
     *                   a group's rollouts and rewards must meet in one Streams task without a repartition)
     */
    public static List<TopicSpec> forRun(Topics topics, int partitions) {
        if (partitions < 1) {
            throw new IllegalArgumentException("partitions must be >= 1, got " + partitions);
        }
        List<TopicSpec> specs = new ArrayList<>();
        specs.add(new TopicSpec(topics.prompts(), partitions, "delete", KEEP_FOREVER, MIB));
        // a rollout is O(tokens): ids + log-probs + text, ~10 bytes a token; 2 MiB is ~200k tokens
        specs.add(new TopicSpec(topics.rollouts(), partitions, "delete", KEEP_FOREVER, 2 * MIB));
        specs.add(new TopicSpec(topics.rewards(), partitions, "delete", KEEP_FOREVER, MIB));
        // a scored group holds all G rollouts of a prompt
        specs.add(new TopicSpec(topics.scoredGroups(), partitions, "delete", KEEP_FOREVER, 16 * MIB));
        // one partition: every generator reads every chunk of every version, in order; delete, not
        // compact, because all chunks of a version share its key; kept so any version can be reloaded
        specs.add(new TopicSpec(topics.policyWeights(), 1, "delete", KEEP_FOREVER, WEIGHT_CHUNK_BYTES + 2 * MIB));
        specs.add(new TopicSpec(topics.metrics(), 1, "delete", Duration.ofDays(30).toMillis(), MIB));
        // a dead letter carries another topic's record whole, plus the reason
        int largest = specs.stream().mapToInt(TopicSpec::maxMessageBytes).max().orElseThrow();
        specs.add(new TopicSpec(topics.deadLetters(), 1, "delete", Duration.ofDays(30).toMillis(), largest + MIB));
        return List.copyOf(specs);
    }

    /** The largest {@link #maxMessageBytes()} of a run's topics: the max.request.size of a producer that may write any of them. */
    public static int largestRecordBytes(Topics topics) {
        return forRun(topics, 1).stream().mapToInt(TopicSpec::maxMessageBytes).max().orElseThrow();
    }
}
