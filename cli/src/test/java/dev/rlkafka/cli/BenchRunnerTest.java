package dev.rlkafka.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A bench's work folder goes once its JSON is written, unless kept; a failed bench leaves it. */
class BenchRunnerTest {
    @TempDir
    Path dir;

    @Test
    void aSucceededBenchRemovesItsRunFolderAndWritesItsJson() throws Exception {
        Path runDir = runDirWithACheckpoint();
        Path json = dir.resolve("out/bench.json");
        // a cluster is given, so no broker starts; the bench itself is a stand-in, the folder handling is what is tested
        assertEquals(0, BenchRunner.run("localhost:1", true, json, runDir, false, cluster -> "result", r -> "table", r -> "{}"));
        assertEquals("{}", Files.readString(json));
        assertFalse(Files.exists(runDir), "the run folder is removed");
    }

    @Test
    void keepWorkDirKeepsIt() throws Exception {
        Path runDir = runDirWithACheckpoint();
        BenchRunner.run("localhost:1", true, dir.resolve("bench.json"), runDir, true, cluster -> "result", r -> "table", r -> "{}");
        assertTrue(Files.exists(runDir.resolve("throughput-1/trainer/trainer.ckpt")));
    }

    @Test
    void aFailedBenchLeavesItsRunFolderToLookAt() throws Exception {
        Path runDir = runDirWithACheckpoint();
        assertThrows(IllegalStateException.class, () -> BenchRunner.run("localhost:1", true, dir.resolve("bench.json"), runDir, false,
                cluster -> { throw new IllegalStateException("a run failed"); }, r -> "table", r -> "{}"));
        assertTrue(Files.exists(runDir.resolve("throughput-1/trainer/trainer.ckpt")));
    }

    private Path runDirWithACheckpoint() throws Exception {
        Path runDir = dir.resolve("work/20261203-101500");
        Files.createDirectories(runDir.resolve("throughput-1/trainer"));
        Files.write(runDir.resolve("throughput-1/trainer/trainer.ckpt"), new byte[] {1, 2, 3});
        Files.write(runDir.resolve("sft.ckpt"), new byte[] {4});
        return runDir;
    }
}
