package dev.rlkafka.schemas;

import dev.rlkafka.schemas.avro.DeadLetter;
import dev.rlkafka.schemas.serde.RecordDecodingException;
import dev.rlkafka.schemas.serde.RlSerdes;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.time.Instant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DeadLettersTest {

    @Test
    void aDeadLetterKeepsTheOriginalBytesUnchangedThroughItsOwnSerde() {
        byte[] key = {'g', '-', '1'};
        byte[] value = {(byte) 0xC3, 0x01, 0, (byte) 0xFF, 7};
        DeadLetter letter = DeadLetters.builder(new ConsumerRecord<>("rl.rewards", 2, 41L, key, value))
                .errorType("NON_FINITE_SCORE").reason("score NaN from scorer judge for rollout g-1/0 is not finite")
                .serviceId("reward-service").at(Instant.ofEpochMilli(5)).build();

        DeadLetter read = RlSerdes.deadLetter().deserializer().deserialize("rl.dead-letters",
                RlSerdes.deadLetter().serializer().serialize("rl.dead-letters", letter));

        assertEquals("rl.rewards", read.getSourceTopic());
        assertEquals(2, read.getSourcePartition());
        assertEquals(41L, read.getSourceOffset());
        assertArrayEquals(key, bytes(read.getSourceKey()));
        assertArrayEquals(value, bytes(read.getOriginalBytes()));
        assertEquals("NON_FINITE_SCORE", read.getErrorType());
    }

    @Test
    void aDecodingFailureBecomesAnUndecodableDeadLetterWithItsMessage() {
        byte[] garbage = {1, 2, 3};
        var rec = new ConsumerRecord<>("rl.rollouts", 0, 7L, new byte[] {'k'}, garbage);
        var e = assertThrows(RecordDecodingException.class, () -> RlSerdes.rollout().codec().decode(rec));

        DeadLetter fromRecord = DeadLetters.undecodable(rec, e, "generator-1");
        DeadLetter fromException = DeadLetters.undecodable(e, new byte[] {'k'}, "generator-1");

        for (DeadLetter letter : new DeadLetter[] {fromRecord, fromException}) {
            assertEquals("UNDECODABLE", letter.getErrorType());
            assertEquals(e.getMessage(), letter.getReason());
            assertTrue(letter.getReason().contains("rl.rollouts-0@7"), letter.getReason());
            assertEquals(7L, letter.getSourceOffset());
            assertArrayEquals(garbage, bytes(letter.getOriginalBytes()));
            assertArrayEquals(new byte[] {'k'}, bytes(letter.getSourceKey()));
        }
    }

    @Test
    void aNullKeyOrValueStaysNull() {
        DeadLetter letter = DeadLetters.builder().source("rl.prompts", -1, -1).errorType("X").reason("r").serviceId("s").build();
        assertNull(letter.getSourceKey());
        assertNull(letter.getOriginalBytes());
    }

    @Test
    void missingRequiredFieldsAreNamed() {
        var e = assertThrows(IllegalArgumentException.class,
                () -> DeadLetters.builder().source("rl.prompts", 1, 3).errorType("X").serviceId("s").build());
        assertTrue(e.getMessage().contains("reason") && e.getMessage().contains("rl.prompts-1@3"), e.getMessage());
        var noTopic = assertThrows(IllegalArgumentException.class,
                () -> DeadLetters.builder().errorType("X").reason("r").serviceId("s").build());
        assertTrue(noTopic.getMessage().contains("sourceTopic"), noTopic.getMessage());
    }

    private static byte[] bytes(ByteBuffer buffer) {
        byte[] out = new byte[buffer.remaining()];
        buffer.duplicate().get(out);
        return out;
    }
}
