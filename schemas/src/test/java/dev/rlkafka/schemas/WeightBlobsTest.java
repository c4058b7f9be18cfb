package dev.rlkafka.schemas;

import dev.rlkafka.schemas.WeightChunks.InvalidWeightsException;
import dev.rlkafka.schemas.avro.WeightChunk;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Policy versions in a file blob store: the pointer that rides the topic, what a reader accepts, and pruning. */
class WeightBlobsTest {
    private static final byte[] WEIGHTS = "pretend these are 40 bytes of weights..".getBytes();

    @Test
    void aVersionWrittenToTheStoreIsReadBackThroughItsPointer(@TempDir Path dir) throws Exception {
        WeightChunk pointer = WeightBlobs.write(dir.resolve("store"), 7, 70, WEIGHTS, Instant.ofEpochMilli(1000));

        assertEquals(7, pointer.getVersion());
        assertEquals(1, pointer.getChunkCount());
        assertNull(pointer.getBytes(), "only the pointer rides the topic");
        assertEquals(WEIGHTS.length, pointer.getTotalBytes());
        assertEquals(Sha256.hex(WEIGHTS), pointer.getSha256());
        String name = "policy-v7-" + Sha256.hex(WEIGHTS).substring(0, 16) + ".weights";
        assertTrue(pointer.getBlobUri().startsWith("file:/") && pointer.getBlobUri().endsWith(name), pointer.getBlobUri());
        assertEquals(List.of(dir.resolve("store").resolve(name)), Files.list(dir.resolve("store")).toList(), "no file left aside");
        assertArrayEquals(WEIGHTS, WeightBlobs.read(pointer));
    }

    static Path fileOf(WeightChunk pointer) {
        return Path.of(java.net.URI.create(pointer.getBlobUri()));
    }

    @Test
    void aDamagedOrMissingVersionIsRefusedAsAPublishedVersion(@TempDir Path dir) throws Exception {
        WeightChunk pointer = WeightBlobs.write(dir, 3, 3, WEIGHTS, Instant.now());
        Path file = fileOf(pointer);
        byte[] damaged = WEIGHTS.clone();
        damaged[0] ^= 1;
        Files.write(file, damaged);
        var e = assertThrows(InvalidWeightsException.class, () -> WeightBlobs.read(pointer));
        assertTrue(e.whole() && e.getMessage().contains("has sha256"), e.getMessage());

        Files.write(file, new byte[]{1, 2, 3});
        e = assertThrows(InvalidWeightsException.class, () -> WeightBlobs.read(pointer));
        assertTrue(e.whole() && e.getMessage().contains("holds 3 bytes"), e.getMessage());

        Files.delete(file);
        e = assertThrows(InvalidWeightsException.class, () -> WeightBlobs.read(pointer));
        assertTrue(e.whole() && e.getMessage().contains("does not exist here"), e.getMessage());
    }

    @Test
    void aPointerThisReaderCannotFollowIsRefusedWithItsReason(@TempDir Path dir) throws Exception {
        WeightChunk pointer = WeightBlobs.write(dir, 1, 1, WEIGHTS, Instant.now());

        WeightChunk s3 = WeightChunk.newBuilder(pointer).setBlobUri("s3://bucket/policy-v1.weights").build();
        var e = assertThrows(InvalidWeightsException.class, () -> WeightBlobs.read(s3));
        assertTrue(e.getMessage().contains("only file: blob stores"), e.getMessage());

        WeightChunk twoChunks = WeightChunk.newBuilder(pointer).setChunkCount(2).build();
        e = assertThrows(InvalidWeightsException.class, () -> WeightBlobs.read(twoChunks));
        assertTrue(e.getMessage().contains("chunk 0 of 2"), e.getMessage());
        assertFalse(e.whole(), "a malformed pointer may claim any version");

        WeightChunk withBytes = WeightChunk.newBuilder(pointer).setBytes(ByteBuffer.wrap(WEIGHTS)).build();
        assertThrows(InvalidWeightsException.class, () -> WeightBlobs.read(withBytes));

        WeightChunk notAUri = WeightChunk.newBuilder(pointer).setBlobUri("file:/a b").build();
        e = assertThrows(InvalidWeightsException.class, () -> WeightBlobs.read(notAUri));
        assertTrue(e.getMessage().contains("not a file URI"), e.getMessage());
    }

    @Test
    void theChunkAssemblerLeavesPointersToTheStore(@TempDir Path dir) throws Exception {
        WeightChunk pointer = WeightBlobs.write(dir, 2, 2, WEIGHTS, Instant.now());
        var e = assertThrows(InvalidWeightsException.class, () -> new WeightChunks.Assembler().add(pointer));
        assertTrue(e.getMessage().contains("WeightBlobs.read"), e.getMessage());
    }

    @Test
    void aVersionWrittenTwiceWithOtherWeightsLeavesTheFirstFileAlone(@TempDir Path dir) throws Exception {
        // a trainer replaced by another, not yet fenced, may write the same version number with other weights
        WeightChunk committed = WeightBlobs.write(dir, 5, 5, WEIGHTS, Instant.now());
        byte[] other = WEIGHTS.clone();
        other[1] ^= 1;
        WeightChunk stale = WeightBlobs.write(dir, 5, 5, other, Instant.now());
        assertArrayEquals(WEIGHTS, WeightBlobs.read(committed));
        assertArrayEquals(other, WeightBlobs.read(stale));
    }

    @Test
    void pruningDeletesOnlyOlderVersionsOfTheStore(@TempDir Path dir) throws Exception {
        for (long v = 1; v <= 4; v++) WeightBlobs.write(dir, v, v, WEIGHTS, Instant.now());
        Files.writeString(dir.resolve("notes.txt"), "not a version");
        Files.writeString(dir.resolve("policy-v2-123.tmp"), "left aside by a crashed writer");
        Files.writeString(dir.resolve("policy-v4-456.tmp"), "being written");

        List<Long> deleted = WeightBlobs.prune(dir, 3);

        assertEquals(List.of(1L, 2L), deleted.stream().sorted().toList());
        assertEquals(List.of("notes.txt", "policy-v3-", "policy-v4-", "policy-v4-456.tmp"),
                Files.list(dir).map(p -> p.getFileName().toString()).map(n -> n.endsWith(".weights") ? n.substring(0, 10) : n).sorted().toList());
        assertEquals(List.of(), WeightBlobs.prune(dir.resolve("absent"), 10), "no store yet: nothing to prune");
    }
}
