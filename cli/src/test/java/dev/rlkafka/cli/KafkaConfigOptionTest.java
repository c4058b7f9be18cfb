package dev.rlkafka.cli;

import dev.rlkafka.kafka.KafkaExtension;
import dev.rlkafka.kafka.TestKafka;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code --kafka-config FILE}: the cluster's client settings, from a file to the command's clients on a real broker. */
@ExtendWith(KafkaExtension.class)
class KafkaConfigOptionTest {
    @TempDir
    Path dir;

    @Test
    void theFilesSettingsReachTheCommandsClients(TestKafka kafka) throws IOException {
        Path file = dir.resolve("cluster.properties");
        Files.writeString(file, "interceptor.classes=" + CountingInterceptor.class.getName() + "\nrequest.timeout.ms=20000\n");
        String bootstrap = kafka.bootstrapServers();
        CommandRun topics = CommandRun.execute("topics", "create", "-b", bootstrap, "--prefix", "kc.", "--partitions", "1",
                "--kafka-config", file.toString());
        assertEquals(0, topics.exitCode(), topics.toString());
        int before = CountingInterceptor.ACKNOWLEDGED.get();
        CommandRun prompts = CommandRun.execute("prompts", "-b", bootstrap, "--prefix", "kc.", "-n", "7", "--kafka-config", file.toString());
        assertEquals(0, prompts.exitCode(), prompts.toString());
        assertEquals(7, CountingInterceptor.ACKNOWLEDGED.get() - before, "the producer ran with the file's interceptor");

        int consumedBefore = CountingInterceptor.CONSUMED.get();
        CommandRun tail = CommandRun.execute("tail", "prompts", "-b", bootstrap, "--prefix", "kc.", "--from-beginning", "-n", "7",
                "--kafka-config", file.toString());
        assertEquals(0, tail.exitCode(), tail.toString());
        assertEquals(7, tail.outLines().size(), tail.toString());
        assertTrue(CountingInterceptor.CONSUMED.get() - consumedBefore >= 7, "tail's consumer ran with the file's interceptor");
    }

    @Test
    void aMissingFileIsAUsageErrorThatNamesIt() {
        Path missing = dir.resolve("missing.properties");
        CommandRun run = CommandRun.execute("prompts", "-b", "localhost:1", "--kafka-config", missing.toString());
        assertEquals(2, run.exitCode(), run.toString());
        assertTrue(run.err().contains("--kafka-config") && run.err().contains(missing.toAbsolutePath().toString()), run.err());
    }

    @Test
    void helpSaysWhatTheFileIsFor() {
        CommandRun help = CommandRun.execute("generator", "--help");
        assertTrue(help.out().contains("--kafka-config=FILE") && help.out().contains("security.protocol"), help.out());
    }
}
