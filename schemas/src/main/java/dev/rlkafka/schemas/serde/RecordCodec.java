package dev.rlkafka.schemas.serde;

import dev.rlkafka.schemas.serde.RecordDecodingException.Reason;
import dev.rlkafka.schemas.serde.RecordDecodingException.Source;
import org.apache.avro.Schema;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.errors.SerializationException;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.HexFormat;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * Encodes one record type to Avro single-object bytes and decodes them back, resolving older
 * writer schemas by fingerprint through {@link WriterSchemas}; thread-safe.
 *
 * <p>Format (Avro spec, "Single object encoding"): {@code C3 01}, the writer schema's
 * CRC-64-AVRO fingerprint as 8 little-endian bytes, then the binary body. Encoding is Avro's own
 * {@link BinaryMessageEncoder}. Decoding parses the header itself only to say precisely what is
 * wrong (and to reject trailing bytes, which {@code BinaryMessageDecoder} ignores); the body is
 * read by a standard {@link SpecificDatumReader} with writer and reader schemas.
 */
public final class RecordCodec<T extends SpecificRecord> {
    static {
        AvroTrust.install();  // every serde path passes here, so no user needs Avro's system property
    }

    static final int HEADER_BYTES = 10;
    private static final byte MARKER_0 = (byte) 0xC3;
    private static final byte MARKER_1 = (byte) 0x01;

    private final Class<T> type;
    private final Schema readerSchema;
    private final SpecificData model;
    private final BinaryMessageEncoder<T> encoder;
    private final ConcurrentMap<Long, SpecificDatumReader<T>> readersByWriter = new ConcurrentHashMap<>();

    private RecordCodec(Class<T> type) {
        if (!WriterSchemas.TOPIC_VALUE_TYPES.contains(type)) {
            throw new IllegalArgumentException("no codec for " + type.getName() + "; topic value types are "
                    + WriterSchemas.TOPIC_VALUE_TYPES.stream().map(Class::getSimpleName).toList());
        }
        this.type = type;
        // the class's own model carries its logical-type conversions (timestamp-millis -> Instant)
        this.model = SpecificData.getForClass(type);
        this.readerSchema = model.getSchema(type);
        this.encoder = new BinaryMessageEncoder<>(model, readerSchema);
    }

    /** A codec for one of {@link WriterSchemas#TOPIC_VALUE_TYPES}. */
    public static <T extends SpecificRecord> RecordCodec<T> of(Class<T> type) {
        return new RecordCodec<>(type);
    }

    public Class<T> type() {
        return type;
    }

    /** The schema this codec writes and reads into. */
    public Schema schema() {
        return readerSchema;
    }

    /**
     * Single-object bytes of {@code record}.
     *
     * @param topic only for the error message
     * @throws SerializationException when the record cannot be written (e.g. a required field is null)
     */
    public byte[] encode(String topic, T record) {
        var out = new ByteArrayOutputStream(256);
        try {
            encoder.encode(record, out);
        } catch (IOException | RuntimeException e) {
            throw new SerializationException("cannot encode %s for topic %s: %s".formatted(
                    type.getSimpleName(), topic, e), e);
        }
        return out.toByteArray();
    }

    /** Decodes a consumed record's value; errors name topic-partition@offset. */
    public T decode(ConsumerRecord<?, byte[]> record) {
        return decode(record.value(), new Source(record.topic(), record.partition(), record.offset()));
    }

    /** Decodes bytes whose partition and offset are unknown (Kafka's {@code Deserializer} API). */
    public T decode(String topic, byte[] bytes) {
        return decode(bytes, new Source(topic, -1, -1));
    }

    /** Decodes bytes from {@code topic}-{@code partition}@{@code offset}. */
    public T decode(String topic, int partition, long offset, byte[] bytes) {
        return decode(bytes, new Source(topic, partition, offset));
    }

    private T decode(byte[] bytes, Source source) {
        String expected = type.getSimpleName();
        if (bytes == null) {
            throw new RecordDecodingException(source, null, expected, Reason.NULL_VALUE,
                    "value is null, expected a single-object Avro record", null, null);
        }
        if (bytes.length < 2 || bytes[0] != MARKER_0 || bytes[1] != MARKER_1) {
            throw new RecordDecodingException(source, null, expected, Reason.NOT_SINGLE_OBJECT,
                    "%d bytes starting %s, not the single-object marker C3 01".formatted(bytes.length, head(bytes)),
                    bytes, null);
        }
        if (bytes.length < HEADER_BYTES) {
            throw new RecordDecodingException(source, null, expected, Reason.NOT_SINGLE_OBJECT,
                    "only %d bytes (%s); the single-object header alone is %d".formatted(bytes.length, head(bytes), HEADER_BYTES),
                    bytes, null);
        }
        long fingerprint = littleEndianLong(bytes, 2);
        SpecificDatumReader<T> reader = readerFor(fingerprint, source, bytes);
        try {
            BinaryDecoder in = DecoderFactory.get().binaryDecoder(bytes, HEADER_BYTES, bytes.length - HEADER_BYTES, null);
            T value = reader.read(null, in);
            if (!in.isEnd()) {
                throw new RecordDecodingException(source, fingerprint, expected, Reason.CORRUPT_BODY,
                        "extra bytes after the record (%d bytes in all)".formatted(bytes.length), bytes, null);
            }
            return value;
        } catch (RecordDecodingException e) {
            throw e;
        } catch (SecurityException e) {
            throw e;  // Avro's class trust: our setup, not the input's fault
        } catch (IOException | RuntimeException e) {
            // input bytes drive the decoder: a truncated body ends in EOFException, a corrupt one in
            // anything from a negative length to an out-of-range union index
            throw new RecordDecodingException(source, fingerprint, expected, Reason.CORRUPT_BODY,
                    "%d-byte body does not decode as %s: %s".formatted(bytes.length - HEADER_BYTES, expected, e),
                    bytes, e);
        }
    }

    private SpecificDatumReader<T> readerFor(long fingerprint, Source source, byte[] bytes) {
        SpecificDatumReader<T> cached = readersByWriter.get(fingerprint);
        if (cached != null) {
            return cached;
        }
        var writer = WriterSchemas.find(type, fingerprint);
        if (writer.isEmpty()) {
            String expected = type.getSimpleName();
            var other = WriterSchemas.typeWithFingerprint(fingerprint);
            if (other.isPresent()) {
                throw new RecordDecodingException(source, fingerprint, expected, Reason.WRONG_TYPE,
                        "the bytes are a %s, not a %s".formatted(other.get(), type.getName()), bytes, null);
            }
            throw new RecordDecodingException(source, fingerprint, expected, Reason.UNKNOWN_FINGERPRINT,
                    "no known %s writer schema has this fingerprint (known: %s); register the writer's schema with WriterSchemas.register"
                            .formatted(expected, WriterSchemas.knownFingerprints(type).stream().map(RecordDecodingException::hex).toList()),
                    bytes, null);
        }
        return readersByWriter.computeIfAbsent(fingerprint,
                fp -> new SpecificDatumReader<>(writer.get(), readerSchema, model));
    }

    private static long littleEndianLong(byte[] bytes, int from) {
        long value = 0;
        for (int i = 7; i >= 0; i--) {
            value = (value << 8) | (bytes[from + i] & 0xFFL);
        }
        return value;
    }

    /** The first bytes in hex, for messages about headers. */
    private static String head(byte[] bytes) {
        int n = Math.min(bytes.length, HEADER_BYTES);
        return n == 0 ? "<empty>" : HexFormat.ofDelimiter(" ").withUpperCase().formatHex(bytes, 0, n);
    }
}
