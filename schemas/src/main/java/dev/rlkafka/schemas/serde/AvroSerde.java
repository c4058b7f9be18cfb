package dev.rlkafka.schemas.serde;

import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;

/**
 * Kafka {@link Serde} for one record type, writing Avro single-object encoding (see {@link RecordCodec}).
 *
 * <p>Follows Kafka's convention that {@code null} is a tombstone: it serialises to {@code null} and
 * deserialises to {@code null}. Anything else that is not a readable record throws
 * {@link RecordDecodingException}; services that must dead-letter the original bytes consume
 * {@code byte[]} and call {@link #codec()}{@code .decode(ConsumerRecord)} instead, which also names
 * partition@offset.
 */
public final class AvroSerde<T extends SpecificRecord> implements Serde<T> {
    private final RecordCodec<T> codec;
    private final Serializer<T> serializer;
    private final Deserializer<T> deserializer;

    public AvroSerde(Class<T> type) {
        this.codec = RecordCodec.of(type);
        this.serializer = new AvroSerializer<>(codec);
        this.deserializer = new AvroDeserializer<>(codec);
    }

    public RecordCodec<T> codec() {
        return codec;
    }

    @Override
    public Serializer<T> serializer() {
        return serializer;
    }

    @Override
    public Deserializer<T> deserializer() {
        return deserializer;
    }

    /** Kafka serializer over a codec. */
    public static final class AvroSerializer<T extends SpecificRecord> implements Serializer<T> {
        private final RecordCodec<T> codec;

        public AvroSerializer(RecordCodec<T> codec) {
            this.codec = codec;
        }

        @Override
        public byte[] serialize(String topic, T data) {
            return data == null ? null : codec.encode(topic, data);
        }

        @Override
        public byte[] serialize(String topic, Headers headers, T data) {
            return serialize(topic, data);
        }
    }

    /** Kafka deserializer over a codec. */
    public static final class AvroDeserializer<T extends SpecificRecord> implements Deserializer<T> {
        private final RecordCodec<T> codec;

        public AvroDeserializer(RecordCodec<T> codec) {
            this.codec = codec;
        }

        @Override
        public T deserialize(String topic, byte[] data) {
            return data == null ? null : codec.decode(topic, data);
        }

        @Override
        public T deserialize(String topic, Headers headers, byte[] data) {
            return deserialize(topic, data);
        }
    }
}
