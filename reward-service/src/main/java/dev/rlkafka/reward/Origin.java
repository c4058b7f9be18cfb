package dev.rlkafka.reward;

/**
 * Where an input record came from and its original bytes, kept so that a later rejection can dead-letter
 * it unchanged.
 *
 * @param partition -1 when unknown
 * @param offset    -1 when unknown
 * @param key       original key bytes, or null; not copied (never modified)
 * @param value     original value bytes, or null; not copied (never modified)
 */
record Origin(String topic, int partition, long offset, byte[] key, byte[] value) {
    Origin {
        if (topic == null || topic.isBlank()) throw new IllegalArgumentException("origin topic must be set, got '" + topic + "'");
    }

    /** {@code topic-partition@offset}, as Kafka's own messages write it. */
    @Override
    public String toString() {
        return topic + "-" + partition + "@" + offset;
    }
}
