package dev.rlkafka.schemas;

import dev.rlkafka.schemas.avro.WeightChunk;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class WeightChunksTest {
    private static byte[] weights(int size) {
        byte[] bytes = new byte[size];
        new Random(size).nextBytes(bytes);
        return bytes;
    }

    @Test
    void chunksReassembleInAnyOrder() {
        byte[] weights = weights(10_001);
        List<WeightChunk> chunks = new ArrayList<>(WeightChunks.split(3, 30, weights, 1000, Instant.EPOCH));
        assertEquals(11, chunks.size());
        Collections.shuffle(chunks, new Random(1));
        WeightChunks.Assembler assembler = new WeightChunks.Assembler();
        Optional<byte[]> whole = Optional.empty();
        for (int i = 0; i < chunks.size(); i++) {
            whole = assembler.add(chunks.get(i));
            assertEquals(i == chunks.size() - 1, whole.isPresent(), "complete only after the last chunk");
        }
        assertArrayEquals(weights, whole.orElseThrow());
        assertEquals(0, assembler.pending());
    }

    @Test
    void aCorruptedChunkFailsTheChecksumAndNamesTheVersion() {
        List<WeightChunk> chunks = WeightChunks.split(7, 70, weights(3000), 1000, Instant.EPOCH);
        byte[] bad = new byte[1000];
        chunks.get(1).getBytes().duplicate().get(bad);
        bad[5] ^= 1;
        chunks.get(1).setBytes(ByteBuffer.wrap(bad));
        WeightChunks.Assembler assembler = new WeightChunks.Assembler();
        assembler.add(chunks.get(0));
        assembler.add(chunks.get(1));
        var e = assertThrows(WeightChunks.InvalidWeightsException.class, () -> assembler.add(chunks.get(2)));
        assertEquals(7, e.version());
        assertTrue(e.getMessage().contains("sha256"), e.getMessage());
        assertEquals(0, assembler.pending(), "a bad version is dropped");
    }

    @Test
    void chunksThatDisagreeAreRejected() {
        List<WeightChunk> a = WeightChunks.split(1, 0, weights(2000), 1000, Instant.EPOCH);
        List<WeightChunk> b = WeightChunks.split(1, 0, weights(2001), 1000, Instant.EPOCH);
        WeightChunks.Assembler assembler = new WeightChunks.Assembler();
        assembler.add(a.get(0));
        assertThrows(WeightChunks.InvalidWeightsException.class, () -> assembler.add(b.get(1)));
    }
}
