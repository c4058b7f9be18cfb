package dev.rlkafka.policy.weights;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import dev.rlkafka.policy.model.ModelConfig;
import dev.rlkafka.policy.model.Policy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointTest {

    static final ModelConfig TINY = new ModelConfig(259, 16, 32, 2, 4);

    @Test
    void writeThenReadRestoresWeightsOptimiserStateStepAndMetadata(@TempDir Path dir) throws Exception {
        Map<String, Tensor> state = new LinkedHashMap<>();
        state.put("adam.m.wte", new Tensor(new long[] {2, 3}, new float[] {1, 2, 3, 4, 5, -6.5f}));
        state.put("adam.t", new Tensor(new long[] {}, new float[] {17}));
        Map<String, String> meta = Map.of("policyVersion", "12", "offsets", "rl.scored-groups-0@345");
        Path file = dir.resolve("ckpt/latest.ckpt");
        try (Policy policy = Policy.create(TINY, Device.cpu(), 3); Policy other = Policy.create(TINY, Device.cpu(), 4)) {
            Checkpoint written = Checkpoint.of(policy, 500, state, meta);
            written.write(file);
            Checkpoint read = Checkpoint.read(file);
            assertEquals(written, read);
            assertEquals(500, read.step());
            assertEquals("12", read.metadata().get("policyVersion"));
            assertArrayEquals(new float[] {1, 2, 3, 4, 5, -6.5f}, read.optimizerState().get("adam.m.wte").data());
            read.restoreInto(other);
            assertArrayEquals(WeightCodec.encode(policy), WeightCodec.encode(other));
            try (var files = Files.list(dir.resolve("ckpt"))) {
                assertEquals(1, files.count(), "temp file left behind");
            }
        }
    }

    @Test
    void overwritingKeepsAReadableCheckpoint(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("c.ckpt");
        try (Policy policy = Policy.create(TINY, Device.cpu(), 3)) {
            Checkpoint.of(policy, 1, Map.of(), Map.of()).write(file);
            Checkpoint.of(policy, 2, Map.of(), Map.of()).write(file);
            assertEquals(2, Checkpoint.read(file).step());
        }
    }

    @Test
    void aTempFileLeftByAKilledWriterIsReplacedNotKept(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("c.ckpt");
        // a writer killed mid-write leaves its temp file, here longer than the checkpoint that follows it
        Files.write(dir.resolve("c.ckpt.tmp"), new byte[10 * 1024 * 1024]);
        try (Policy policy = Policy.create(TINY, Device.cpu(), 3)) {
            Checkpoint.of(policy, 7, Map.of(), Map.of()).write(file);
        }
        assertEquals(7, Checkpoint.read(file).step());
        try (var files = Files.list(dir)) {
            assertEquals(java.util.List.of(file), files.toList(), "only the checkpoint is left");
        }
    }

    @Test
    void truncatedFileIsReportedWithItsPath(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("c.ckpt");
        try (Policy policy = Policy.create(TINY, Device.cpu(), 3)) {
            byte[] bytes = Checkpoint.of(policy, 1, Map.of(), Map.of("k", "v")).toBytes();
            Files.write(file, Arrays.copyOf(bytes, bytes.length / 2));
            var e = assertThrows(IllegalArgumentException.class, () -> Checkpoint.read(file));
            assertTrue(e.getMessage().startsWith("checkpoint " + file + ": truncated checkpoint bytes"), e.getMessage());
        }
    }

    @Test
    void tensorRejectsAShapeThatDoesNotFitItsData() {
        var e = assertThrows(IllegalArgumentException.class, () -> new Tensor(new long[] {2, 2}, new float[3]));
        assertEquals("shape [2, 2] needs 4 values, got 3", e.getMessage());
    }
}
