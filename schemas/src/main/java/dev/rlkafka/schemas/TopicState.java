package dev.rlkafka.schemas;

import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * A run topic as the cluster has it now.
 *
 * @param name              full topic name
 * @param exists            false when the topic has not been created; the other fields are then 0 / empty
 * @param partitions        partition count
 * @param replicationFactor replicas of partition 0
 * @param configs           effective values of {@link TopicSpec#MANAGED_CONFIGS} plus every config set on the topic itself, sorted by key
 */
public record TopicState(String name, boolean exists, int partitions, int replicationFactor, SortedMap<String, String> configs) {
    public TopicState {
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("topic name must be set, got '" + name + "'");
        }
        configs = configs == null ? new TreeMap<>() : new TreeMap<>(configs);
    }

    static TopicState missing(String name) {
        return new TopicState(name, false, 0, 0, new TreeMap<>());
    }

    /** Configs are a copy; the record stays immutable in practice. */
    @Override
    public SortedMap<String, String> configs() {
        return new TreeMap<>(configs);
    }

    /** One line for {@code rlkafka topics list}. */
    public String summary() {
        if (!exists) {
            return name + "  (missing)";
        }
        StringBuilder line = new StringBuilder()
                .append(name).append("  partitions=").append(partitions).append("  replicas=").append(replicationFactor);
        for (Map.Entry<String, String> e : configs.entrySet()) {
            line.append("  ").append(e.getKey()).append('=').append(e.getValue());
        }
        return line.toString();
    }
}
