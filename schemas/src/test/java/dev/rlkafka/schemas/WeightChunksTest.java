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

    @Test
    void aHugeChunkCountIsRejectedByNameBeforeAnythingIsAllocated() {
        WeightChunk first = WeightChunks.split(7, 70, weights(3000), 1000, Instant.EPOCH).get(0);
        first.setChunkCount(2_000_000_000);   // an array of that many chunks would be 8 GB
        WeightChunks.Assembler assembler = new WeightChunks.Assembler();
        var e = assertThrows(WeightChunks.InvalidWeightsException.class, () -> assembler.add(first));
        assertEquals(7, e.version());
        assertTrue(e.getMessage().contains("chunkCount 2000000000"), e.getMessage());
        assertEquals(0, assembler.pending());
    }

    @Test
    void aHugeChunkCountOnTheLastChunkIsRejectedToo() {
        WeightChunk last = WeightChunks.split(7, 70, weights(3000), 1000, Instant.EPOCH).get(2);
        last.setChunkCount(2_000_000_000);
        last.setChunkIndex(1_999_999_999);
        WeightChunks.Assembler assembler = new WeightChunks.Assembler();
        var e = assertThrows(WeightChunks.InvalidWeightsException.class, () -> assembler.add(last));
        assertTrue(e.getMessage().contains("chunkCount 2000000000") && e.getMessage().contains("at most 2001"), e.getMessage());
    }

    @Test
    void aNewerCompleteVersionDropsOlderPartials() {
        List<WeightChunk> v1 = WeightChunks.split(1, 10, weights(3000), 1000, Instant.EPOCH);
        List<WeightChunk> v2 = WeightChunks.split(2, 20, weights(3001), 1000, Instant.EPOCH);
        WeightChunks.Assembler assembler = new WeightChunks.Assembler();
        assembler.add(v1.get(0));
        for (WeightChunk chunk : v2) assembler.add(chunk);
        assertEquals(0, assembler.pending(), "version 1 can no longer matter once version 2 is complete");
    }

    @Test
    void twoInterleavedVersionsBothComplete() {
        byte[] weights1 = weights(3000);
        byte[] weights2 = weights(2500);
        List<WeightChunk> v1 = WeightChunks.split(1, 10, weights1, 1000, Instant.EPOCH);
        List<WeightChunk> v2 = WeightChunks.split(2, 20, weights2, 1000, Instant.EPOCH);
        WeightChunks.Assembler assembler = new WeightChunks.Assembler();
        List<byte[]> complete = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            assembler.add(v1.get(i)).ifPresent(complete::add);
            assembler.add(v2.get(i)).ifPresent(complete::add);
        }
        assertEquals(2, complete.size());
        assertArrayEquals(weights1, complete.get(0));
        assertArrayEquals(weights2, complete.get(1));
        assertEquals(0, assembler.pending());
    }

    @Test
    void aVersionWithAnOutOfRangeChunkLeavesNothingBehind() {
        List<WeightChunk> bad = WeightChunks.split(5, 50, weights(4000), 1000, Instant.EPOCH);
        WeightChunks.Assembler assembler = new WeightChunks.Assembler();
        assembler.add(bad.get(0));
        bad.get(1).setChunkIndex(9);
        var e = assertThrows(WeightChunks.InvalidWeightsException.class, () -> assembler.add(bad.get(1)));
        assertTrue(e.getMessage().contains("chunk index 9 of 4"), e.getMessage());
        assertEquals(Optional.empty(), assembler.add(bad.get(2)), "the rest of a rejected version is ignored");
        assertEquals(Optional.empty(), assembler.add(bad.get(3)));
        assertEquals(0, assembler.pending(), "no partial of the rejected version");

        for (WeightChunk chunk : WeightChunks.split(6, 60, weights(2000), 1000, Instant.EPOCH)) assembler.add(chunk);
        assertEquals(0, assembler.pending());
    }

    @Test
    void chunksThatDisagreeLeaveNothingBehindOnceALaterVersionCompletes() {
        List<WeightChunk> a = WeightChunks.split(1, 0, weights(3000), 1000, Instant.EPOCH);
        List<WeightChunk> b = WeightChunks.split(1, 0, weights(3001), 1000, Instant.EPOCH);
        WeightChunks.Assembler assembler = new WeightChunks.Assembler();
        assembler.add(a.get(0));
        assertThrows(WeightChunks.InvalidWeightsException.class, () -> assembler.add(b.get(1)));
        assembler.add(a.get(1));
        assembler.add(b.get(2));
        byte[] next = weights(1500);
        Optional<byte[]> whole = Optional.empty();
        for (WeightChunk chunk : WeightChunks.split(2, 10, next, 1000, Instant.EPOCH)) whole = assembler.add(chunk);
        assertArrayEquals(next, whole.orElseThrow(), "a later good version still loads");
        assertEquals(0, assembler.pending());
    }
}
