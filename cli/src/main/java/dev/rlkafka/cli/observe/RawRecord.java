package dev.rlkafka.cli.observe;

import java.nio.charset.StandardCharsets;

/**
 * One record as Kafka handed it over, before decoding: what the cores here read, so that they need no Kafka
 * client. Arrays are kept as given (not copied): a record is read once, right after the poll that made it.
 *
 * @param key   the key bytes (UTF-8 text on every rl topic), or null
 * @param value the value bytes, or null
 */
public record RawRecord(String topic, int partition, long offset, byte[] key, byte[] value) {
    public RawRecord {
        if (topic == null || topic.isBlank()) throw new IllegalArgumentException("topic must be non-blank, got '" + topic + "'");
    }

    /** {@code topic-partition@offset}, as our error messages name a record. */
    public String where() {
        return topic + "-" + partition + "@" + offset;
    }

    /** The key as text; null when there is none. */
    public String keyText() {
        return key == null ? null : new String(key, StandardCharsets.UTF_8);
    }
}
