package dev.rlkafka.schemas.serde;

import org.apache.kafka.common.errors.SerializationException;

import java.util.OptionalLong;

/**
 * Bytes that are not a readable single-object Avro record of the expected type.
 *
 * <p>The message names the topic, partition@offset when known, the writer-schema fingerprint
 * (hex of the 64-bit CRC-64-AVRO value; on the wire it is stored little-endian) and the reason.
 * The original value bytes are kept (not copied) so the caller can dead-letter them unchanged.
 */
public final class RecordDecodingException extends SerializationException {
    /** The {@code DeadLetter.errorType} for every decoding failure. */
    public static final String ERROR_TYPE = "UNDECODABLE";

    /** Why the bytes could not be read. */
    public enum Reason {
        /** null instead of bytes (a tombstone where none is expected). */
        NULL_VALUE,
        /** Empty, shorter than the 10-byte header, or not starting with the C3 01 marker. */
        NOT_SINGLE_OBJECT,
        /** Fingerprint of no known schema of any of our types. */
        UNKNOWN_FINGERPRINT,
        /** Fingerprint of a known schema of another type (e.g. a Prompt on the rollouts topic). */
        WRONG_TYPE,
        /** Header fine, body truncated, corrupt, or followed by extra bytes. */
        CORRUPT_BODY
    }

    private final String topic;
    private final int partition;
    private final long offset;
    private final Long fingerprint;
    private final String expectedType;
    private final Reason reason;
    private final byte[] originalBytes;

    RecordDecodingException(Source source, Long fingerprint, String expectedType, Reason reason,
                            String detail, byte[] originalBytes, Throwable cause) {
        super(message(source, fingerprint, expectedType, reason, detail), cause);
        this.topic = source.topic();
        this.partition = source.partition();
        this.offset = source.offset();
        this.fingerprint = fingerprint;
        this.expectedType = expectedType;
        this.reason = reason;
        this.originalBytes = originalBytes;
    }

    private static String message(Source source, Long fingerprint, String expectedType, Reason reason, String detail) {
        return "cannot decode %s from %s (fingerprint %s): %s: %s".formatted(
                expectedType, source, fingerprint == null ? "none" : hex(fingerprint), reason, detail);
    }

    /** A fingerprint as people see it in our messages and {@code rlkafka schemas}: {@code 0x} + 16 hex digits. */
    public static String hex(long fingerprint) {
        return "0x%016x".formatted(fingerprint);
    }

    public String topic() {
        return topic;
    }

    /** The partition, or -1 when the caller did not know it (Kafka's {@code Deserializer} API). */
    public int partition() {
        return partition;
    }

    /** The offset, or -1 when the caller did not know it. */
    public long offset() {
        return offset;
    }

    /** The writer-schema fingerprint from the header; empty when the bytes have no valid header. */
    public OptionalLong fingerprint() {
        return fingerprint == null ? OptionalLong.empty() : OptionalLong.of(fingerprint);
    }

    /** Simple name of the record type the caller expected, e.g. {@code Reward}. */
    public String expectedType() {
        return expectedType;
    }

    public Reason reason() {
        return reason;
    }

    /** The value bytes as received (not a copy; null for {@link Reason#NULL_VALUE}). */
    public byte[] originalBytes() {
        return originalBytes;
    }

    /** Where bytes came from: a topic and, when the caller knows them, partition and offset (-1 otherwise). */
    record Source(String topic, int partition, long offset) {
        Source {
            if (topic == null) {
                topic = "<no topic>";  // Kafka passes null topics in some Streams paths; still say so
            }
        }

        @Override
        public String toString() {
            return partition < 0 ? topic + " (partition/offset unknown)" : topic + "-" + partition + "@" + offset;
        }
    }
}
