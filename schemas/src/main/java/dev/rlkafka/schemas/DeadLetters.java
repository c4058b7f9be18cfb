package dev.rlkafka.schemas;

import dev.rlkafka.schemas.avro.DeadLetter;
import dev.rlkafka.schemas.serde.RecordDecodingException;
import org.apache.kafka.clients.consumer.ConsumerRecord;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;

/** Builds {@link DeadLetter}s: a rejected record's origin, why, and its original bytes unchanged. */
public final class DeadLetters {
    /** Error type of bytes that are not a readable record ({@link RecordDecodingException}). */
    public static final String UNDECODABLE = RecordDecodingException.ERROR_TYPE;
    /** Error type of a group the reward-service expired without every required score: it is never trained ({@link #aboutGroup}). */
    public static final String GROUP_TIMEOUT = "GROUP_TIMEOUT";

    private DeadLetters() {
    }

    /** A builder with nothing set. */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * A builder for a dead letter about a whole group rather than one of its records (the reward-service expired it,
     * or could not score it): no record to return, so its source is the rollouts topic at partition and offset −1,
     * and its key the group id. Generators read these ({@link #isAboutGroup}) to give the group's admission place back.
     */
    public static Builder aboutGroup(String rolloutsTopic, String groupId) {
        return new Builder().source(rolloutsTopic, -1, -1).key(groupId == null ? null : groupId.getBytes(StandardCharsets.UTF_8));
    }

    /** Whether {@code letter} is one {@link #aboutGroup} built: about a whole group of {@code rolloutsTopic}. */
    public static boolean isAboutGroup(DeadLetter letter, String rolloutsTopic) {
        return rolloutsTopic.equals(letter.getSourceTopic()) && letter.getSourceOffset() < 0;
    }

    /** The group id a letter built by {@link #aboutGroup} names (its key, UTF-8); null when it has no key. */
    public static String groupId(DeadLetter letter) {
        ByteBuffer key = letter.getSourceKey();
        return key == null ? null : StandardCharsets.UTF_8.decode(key.duplicate()).toString();
    }

    /** A builder with source topic, partition, offset, key and value taken from {@code rec}. */
    public static Builder builder(ConsumerRecord<byte[], byte[]> rec) {
        return new Builder().source(rec.topic(), rec.partition(), rec.offset()).key(rec.key()).value(rec.value());
    }

    /** The dead letter of a record that could not be decoded: its reason is the exception's message. */
    public static DeadLetter undecodable(ConsumerRecord<byte[], byte[]> rec, RecordDecodingException e, String serviceId) {
        return builder(rec).errorType(UNDECODABLE).reason(e.getMessage()).serviceId(serviceId).build();
    }

    /**
     * The dead letter of a decoding failure when only the exception is at hand: source and value come
     * from it (partition/offset -1 when it had none), the key from the caller.
     */
    public static DeadLetter undecodable(RecordDecodingException e, byte[] key, String serviceId) {
        return builder().source(e.topic(), e.partition(), e.offset()).key(key).value(e.originalBytes())
                .errorType(UNDECODABLE).reason(e.getMessage()).serviceId(serviceId).build();
    }

    /** Collects a dead letter's fields; {@link #build()} checks the required ones. */
    public static final class Builder {
        private String sourceTopic;
        private int sourcePartition = -1;
        private long sourceOffset = -1;
        private byte[] key;
        private byte[] value;
        private String errorType;
        private String reason;
        private String serviceId;
        private Instant at;

        private Builder() {
        }

        /** Where the record came from; partition and offset -1 when unknown. */
        public Builder source(String topic, int partition, long offset) {
            this.sourceTopic = topic;
            this.sourcePartition = partition;
            this.sourceOffset = offset;
            return this;
        }

        /** The original key bytes, or null; kept as they are (not copied, never re-encoded). */
        public Builder key(byte[] key) {
            this.key = key;
            return this;
        }

        /** The original value bytes, or null; kept as they are. */
        public Builder value(byte[] value) {
            this.value = value;
            return this;
        }

        /** Short error class, e.g. {@link #UNDECODABLE}, {@code NON_FINITE_SCORE}, {@code BAD_CHECKSUM}. */
        public Builder errorType(String errorType) {
            this.errorType = errorType;
            return this;
        }

        /** What is wrong, naming the bad value and where it came from. */
        public Builder reason(String reason) {
            this.reason = reason;
            return this;
        }

        /** The service that rejected it. */
        public Builder serviceId(String serviceId) {
            this.serviceId = serviceId;
            return this;
        }

        /** When it was rejected; now when not set. */
        public Builder at(Instant at) {
            this.at = at;
            return this;
        }

        public DeadLetter build() {
            require("sourceTopic", sourceTopic);
            require("errorType", errorType);
            require("reason", reason);
            require("serviceId", serviceId);
            if (sourcePartition < -1 || sourceOffset < -1) {
                throw new IllegalArgumentException("dead letter source partition/offset must be >= 0 or -1 (unknown), got %d@%d"
                        .formatted(sourcePartition, sourceOffset));
            }
            return DeadLetter.newBuilder()
                    .setSourceTopic(sourceTopic)
                    .setSourcePartition(sourcePartition)
                    .setSourceOffset(sourceOffset)
                    .setSourceKey(key == null ? null : ByteBuffer.wrap(key))
                    .setOriginalBytes(value == null ? null : ByteBuffer.wrap(value))
                    .setErrorType(errorType)
                    .setReason(reason)
                    .setServiceId(serviceId)
                    .setTimestampMs(at == null ? Instant.now() : at)
                    .build();
        }

        private void require(String field, String value) {
            if (value == null || value.isBlank()) {
                throw new IllegalArgumentException("dead letter " + field + " must be set, got '" + value
                        + "' (source " + sourceTopic + "-" + sourcePartition + "@" + sourceOffset + ")");
            }
        }
    }
}
