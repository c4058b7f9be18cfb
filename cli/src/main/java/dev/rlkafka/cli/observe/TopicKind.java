package dev.rlkafka.cli.observe;

import dev.rlkafka.schemas.Topics;
import dev.rlkafka.schemas.avro.DeadLetter;
import dev.rlkafka.schemas.avro.Metric;
import dev.rlkafka.schemas.avro.Prompt;
import dev.rlkafka.schemas.avro.Reward;
import dev.rlkafka.schemas.avro.Rollout;
import dev.rlkafka.schemas.avro.ScoredGroup;
import dev.rlkafka.schemas.avro.WeightChunk;
import dev.rlkafka.schemas.serde.RecordCodec;
import dev.rlkafka.schemas.serde.RlSerdes;
import org.apache.avro.specific.SpecificRecord;

import java.util.Arrays;
import java.util.Comparator;
import java.util.Optional;

/**
 * The rl topics by what their values are: a topic's name says which Avro type to decode it with, whatever
 * the run prefix, and also for topics derived from one (e.g. {@code rl.rewards.rescore-format} holds Rewards).
 */
public enum TopicKind {
    PROMPTS(Topics.PROMPTS, Prompt.class),
    ROLLOUTS(Topics.ROLLOUTS, Rollout.class),
    REWARDS(Topics.REWARDS, Reward.class),
    SCORED_GROUPS(Topics.SCORED_GROUPS, ScoredGroup.class),
    POLICY_WEIGHTS(Topics.POLICY_WEIGHTS, WeightChunk.class),
    METRICS(Topics.METRICS, Metric.class),
    DEAD_LETTERS(Topics.DEAD_LETTERS, DeadLetter.class);

    private static final String RL = "rl.";

    private final String defaultName;
    private final Class<? extends SpecificRecord> valueType;

    TopicKind(String defaultName, Class<? extends SpecificRecord> valueType) {
        this.defaultName = defaultName;
        this.valueType = valueType;
    }

    /** The name without prefix, e.g. {@code rl.rollouts}. */
    public String defaultName() {
        return defaultName;
    }

    /** The name people type, e.g. {@code rollouts}. */
    public String shortName() {
        return defaultName.substring(RL.length());
    }

    public Class<? extends SpecificRecord> valueType() {
        return valueType;
    }

    /** The shared codec of this kind's value type. */
    public RecordCodec<? extends SpecificRecord> codec() {
        return RlSerdes.of(valueType).codec();
    }

    /**
     * The value of {@code raw}, decoded as this kind's type.
     *
     * @throws dev.rlkafka.schemas.serde.RecordDecodingException naming topic-partition@offset and the reason
     */
    public SpecificRecord decode(RawRecord raw) {
        return codec().decode(raw.topic(), raw.partition(), raw.offset(), raw.value());
    }

    /**
     * The full topic name {@code name} stands for in a run: {@code rollouts} and {@code rl.rollouts} become
     * {@code <prefix>rl.rollouts}, {@code rewards.rescore-format} becomes {@code <prefix>rl.rewards.rescore-format};
     * any other name is taken as a full name.
     */
    public static String resolve(String name, Topics topics) {
        if (name == null || name.isBlank()) throw new IllegalArgumentException("topic name must be non-blank, got '" + name + "'");
        if (name.startsWith(RL)) return topics.prefix() + name;
        for (TopicKind kind : values()) {
            if (name.equals(kind.shortName()) || name.startsWith(kind.shortName() + ".")) return topics.prefix() + RL + name;
        }
        return name;
    }

    /**
     * The kind of a full topic name: the default name it ends with ({@code run-7.rl.rollouts}), or that it
     * extends ({@code run-7.rl.rewards.rescore-format}).
     */
    public static Optional<TopicKind> of(String topic) {
        // longest first, so a default name that is another's prefix cannot shadow it
        TopicKind[] byLength = values().clone();
        Arrays.sort(byLength, Comparator.comparingInt((TopicKind k) -> k.defaultName.length()).reversed());
        for (TopicKind kind : byLength) {
            if (topic.endsWith(kind.defaultName)) return Optional.of(kind);
        }
        for (TopicKind kind : byLength) {
            if (topic.contains(kind.defaultName + ".")) return Optional.of(kind);
        }
        return Optional.empty();
    }

    /** {@link #of} or an error naming the topic and the names we know. */
    public static TopicKind require(String topic) {
        return of(topic).orElseThrow(() -> new IllegalArgumentException("cannot tell what topic '" + topic
                + "' holds: an rl topic's name ends in, or extends, one of "
                + Arrays.stream(values()).map(TopicKind::defaultName).toList()));
    }
}
