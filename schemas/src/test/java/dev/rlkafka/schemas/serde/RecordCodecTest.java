package dev.rlkafka.schemas.serde;

import dev.rlkafka.schemas.Samples;
import dev.rlkafka.schemas.avro.Prompt;
import dev.rlkafka.schemas.avro.Reward;
import dev.rlkafka.schemas.avro.Rollout;
import dev.rlkafka.schemas.serde.RecordDecodingException.Reason;
import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RecordCodecTest {
    private static final String TOPIC = "rl.rewards";
    private final RecordCodec<Reward> rewards = RlSerdes.reward().codec();

    @Test
    void bytesStartWithMarkerThenLittleEndianFingerprintOfTheWriterSchema() {
        byte[] bytes = rewards.encode(TOPIC, Samples.reward());

        assertEquals((byte) 0xC3, bytes[0]);
        assertEquals((byte) 0x01, bytes[1]);
        long expected = SchemaNormalization.parsingFingerprint64(Reward.getClassSchema());
        assertEquals(expected, ByteBuffer.wrap(bytes, 2, 8).order(ByteOrder.LITTLE_ENDIAN).getLong());
    }

    static List<SpecificRecord> samples() {
        return Samples.all();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("samples")
    @SuppressWarnings({"unchecked", "rawtypes"})
    void everyTopicValueTypeRoundTripsThroughItsSerde(SpecificRecord sample) {
        AvroSerde serde = RlSerdes.of(sample.getClass());
        byte[] bytes = serde.serializer().serialize("any-topic", sample);
        assertEquals(sample, serde.deserializer().deserialize("any-topic", bytes));
    }

    @Test
    void bytesInteroperateWithAvrosOwnSingleObjectEncoder() throws Exception {
        // the format is Avro's standard one: Avro's generated decoder reads ours and we read Avro's
        Reward sample = Samples.reward();
        assertEquals(sample, Reward.fromByteBuffer(ByteBuffer.wrap(rewards.encode(TOPIC, sample))));
        ByteBuffer avros = sample.toByteBuffer();
        byte[] avroBytes = new byte[avros.remaining()];
        avros.get(avroBytes);
        assertEquals(sample, rewards.decode(TOPIC, avroBytes));
    }

    @Test
    void nullIsATombstoneForTheKafkaSerdeButAnErrorForServiceDecoding() {
        assertNull(RlSerdes.reward().serializer().serialize(TOPIC, null));
        assertNull(RlSerdes.reward().deserializer().deserialize(TOPIC, null));

        var e = assertThrows(RecordDecodingException.class,
                () -> rewards.decode(new ConsumerRecord<>(TOPIC, 1, 9L, new byte[0], null)));
        assertEquals(Reason.NULL_VALUE, e.reason());
        assertTrue(e.getMessage().contains("rl.rewards-1@9"), e.getMessage());
    }

    @Test
    void emptyBytesAreNotSingleObjectAndTheMessageSaysNoFingerprint() {
        var e = assertThrows(RecordDecodingException.class, () -> RlSerdes.reward().deserializer().deserialize(TOPIC, new byte[0]));

        assertEquals(Reason.NOT_SINGLE_OBJECT, e.reason());
        assertTrue(e.fingerprint().isEmpty());
        assertMessage(e, "Reward", "rl.rewards (partition/offset unknown)", "fingerprint none", "<empty>");
    }

    @Test
    void garbageBytesNameTheirFirstBytesAndTheMissingMarker() {
        byte[] garbage = "{\"score\": 1.0}".getBytes();
        var e = assertThrows(RecordDecodingException.class, () -> rewards.decode(TOPIC, garbage));

        assertEquals(Reason.NOT_SINGLE_OBJECT, e.reason());
        assertMessage(e, "rl.rewards", "fingerprint none", "7B 22 73", "not the single-object marker C3 01");
        assertSame(garbage, e.originalBytes(), "the original bytes are kept for the dead letter");
    }

    @Test
    void aHeaderCutShortIsNotSingleObject() {
        byte[] bytes = Arrays.copyOf(rewards.encode(TOPIC, Samples.reward()), 6);
        var e = assertThrows(RecordDecodingException.class, () -> rewards.decode(TOPIC, bytes));

        assertEquals(Reason.NOT_SINGLE_OBJECT, e.reason());
        assertMessage(e, "only 6 bytes", "header alone is 10");
    }

    @Test
    void aTruncatedBodyIsCorruptAndNamesTheFingerprint() {
        byte[] whole = rewards.encode(TOPIC, Samples.reward());
        byte[] truncated = Arrays.copyOf(whole, whole.length - 5);
        var e = assertThrows(RecordDecodingException.class, () -> rewards.decode(TOPIC, truncated));

        assertEquals(Reason.CORRUPT_BODY, e.reason());
        assertEquals(SchemaNormalization.parsingFingerprint64(Reward.getClassSchema()), e.fingerprint().orElseThrow());
        assertMessage(e, "rl.rewards", RecordDecodingException.hex(e.fingerprint().orElseThrow()), "does not decode as Reward");
    }

    @Test
    void extraBytesAfterTheRecordAreCorrupt() {
        byte[] whole = rewards.encode(TOPIC, Samples.reward());
        byte[] longer = Arrays.copyOf(whole, whole.length + 3);
        var e = assertThrows(RecordDecodingException.class, () -> rewards.decode(TOPIC, longer));

        assertEquals(Reason.CORRUPT_BODY, e.reason());
        assertMessage(e, "extra bytes after the record");
    }

    @Test
    void anUnknownFingerprintNamesItInHexAndTheKnownOnes() {
        byte[] bytes = rewards.encode(TOPIC, Samples.reward());
        ByteBuffer.wrap(bytes, 2, 8).order(ByteOrder.LITTLE_ENDIAN).putLong(0x0123456789abcdefL);
        var e = assertThrows(RecordDecodingException.class, () -> rewards.decode(TOPIC, 4, 100L, bytes));

        assertEquals(Reason.UNKNOWN_FINGERPRINT, e.reason());
        assertEquals(0x0123456789abcdefL, e.fingerprint().orElseThrow());
        assertMessage(e, "rl.rewards-4@100", "0x0123456789abcdef",
                RecordDecodingException.hex(SchemaNormalization.parsingFingerprint64(Reward.getClassSchema())), "WriterSchemas.register");
    }

    @Test
    void aRecordOfAnotherTypeIsNamedAsSuch() {
        byte[] prompt = RlSerdes.prompt().serializer().serialize(TOPIC, Samples.prompt());
        var e = assertThrows(RecordDecodingException.class, () -> rewards.decode(TOPIC, prompt));

        assertEquals(Reason.WRONG_TYPE, e.reason());
        assertMessage(e, "the bytes are a dev.rlkafka.schemas.avro.Prompt, not a dev.rlkafka.schemas.avro.Reward");
    }

    @Test
    void anOlderWriterSchemaIsUnknownUntilRegisteredThenReadWithTheNewDefaults() {
        // Reward as an external scorer might still write it: no metadata map
        Schema old = new Schema.Parser().parse("""
                {"type": "record", "name": "Reward", "namespace": "dev.rlkafka.schemas.avro", "fields": [
                  {"name": "rolloutId", "type": "string"},
                  {"name": "groupId", "type": "string"},
                  {"name": "scorerId", "type": "string"},
                  {"name": "score", "type": "double"},
                  {"name": "rationale", "type": ["null", "string"], "default": null},
                  {"name": "createdAtMs", "type": {"type": "long", "logicalType": "timestamp-millis"}}]}""");
        GenericRecord record = new GenericData.Record(old);
        record.put("rolloutId", "g-9/1");
        record.put("groupId", "g-9");
        record.put("scorerId", "external-judge");
        record.put("score", 0.25);
        record.put("rationale", "close");
        record.put("createdAtMs", 1_000L);
        byte[] bytes = encodeGeneric(old, record);

        var before = assertThrows(RecordDecodingException.class, () -> rewards.decode(TOPIC, bytes));
        assertEquals(Reason.UNKNOWN_FINGERPRINT, before.reason());

        assertEquals(SchemaNormalization.parsingFingerprint64(old), WriterSchemas.register(old));
        Reward read = rewards.decode(TOPIC, bytes);

        assertEquals("g-9/1", read.getRolloutId());
        assertEquals(0.25, read.getScore());
        assertEquals("close", read.getRationale());
        assertEquals(Map.of(), read.getMetadata(), "metadata takes its default");
        assertEquals(1_000L, read.getCreatedAtMs().toEpochMilli());
    }

    @Test
    void registeringASchemaTheCurrentClassCannotReadFailsNamingTheProblem() {
        // no 'score' and the reader has no default for it
        Schema incompatible = new Schema.Parser().parse("""
                {"type": "record", "name": "Reward", "namespace": "dev.rlkafka.schemas.avro", "fields": [
                  {"name": "rolloutId", "type": "string"}, {"name": "groupId", "type": "string"},
                  {"name": "scorerId", "type": "string"},
                  {"name": "createdAtMs", "type": {"type": "long", "logicalType": "timestamp-millis"}}]}""");
        var e = assertThrows(IllegalArgumentException.class, () -> WriterSchemas.register(incompatible));
        assertTrue(e.getMessage().contains("dev.rlkafka.schemas.avro.Reward") && e.getMessage().contains("score"), e.getMessage());

        Schema stranger = new Schema.Parser().parse("""
                {"type": "record", "name": "Stranger", "namespace": "elsewhere", "fields": []}""");
        var e2 = assertThrows(IllegalArgumentException.class, () -> WriterSchemas.register(stranger));
        assertTrue(e2.getMessage().contains("elsewhere.Stranger"), e2.getMessage());
    }

    @Test
    void encodingARecordWithAMissingRequiredFieldNamesTypeAndTopic() {
        Rollout broken = Samples.rollout(0);
        broken.setGeneratorId(null);
        var e = assertThrows(org.apache.kafka.common.errors.SerializationException.class,
                () -> RlSerdes.rollout().serializer().serialize("rl.rollouts", broken));
        assertTrue(e.getMessage().contains("Rollout") && e.getMessage().contains("rl.rollouts"), e.getMessage());
    }

    @Test
    void aCodecOnlyExistsForTopicValueTypes() {
        var e = assertThrows(IllegalArgumentException.class,
                () -> RecordCodec.of(dev.rlkafka.schemas.avro.SamplingParams.class));
        assertTrue(e.getMessage().contains("SamplingParams"), e.getMessage());
        assertSame(RlSerdes.prompt(), RlSerdes.of(Prompt.class));
    }

    static byte[] encodeGeneric(Schema schema, GenericRecord record) {
        try {
            ByteBuffer buffer = new BinaryMessageEncoder<GenericRecord>(GenericData.get(), schema).encode(record);
            byte[] bytes = new byte[buffer.remaining()];
            buffer.get(bytes);
            return bytes;
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static void assertMessage(RecordDecodingException e, String... parts) {
        for (String part : parts) {
            assertTrue(e.getMessage().contains(part), "expected '" + part + "' in: " + e.getMessage());
        }
    }
}
