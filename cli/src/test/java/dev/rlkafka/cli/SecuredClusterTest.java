package dev.rlkafka.cli;

import dev.rlkafka.kafka.EmbeddedKafkaBroker;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A cluster that takes SASL/PLAIN clients only: the commands reach it through {@code --kafka-config}, and only so. */
class SecuredClusterTest {
    private static final String PASSWORD = "rl-s3cret";

    @TempDir
    static Path dir;
    private static EmbeddedKafkaBroker broker;

    @BeforeAll
    static void startSecuredBroker() {
        broker = EmbeddedKafkaBroker.startSaslPlain(dir.resolve("broker"), Map.of("rl", PASSWORD));
    }

    @AfterAll
    static void stopBroker() {
        if (broker != null) broker.close();
    }

    private static Path clientFile(String name, String password) throws IOException {
        return Files.writeString(dir.resolve(name), """
                security.protocol=SASL_PLAINTEXT
                sasl.mechanism=PLAIN
                sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="rl" password="%s";
                """.formatted(password));
    }

    @Test
    void topicsPromptsAndTailWorkOnASecuredClusterWithTheClientFile() throws IOException {
        String file = clientFile("rl.properties", PASSWORD).toString();
        String bootstrap = broker.bootstrapServers();
        CommandRun topics = CommandRun.execute("topics", "create", "-b", bootstrap, "--prefix", "sec.", "--partitions", "2",
                "--kafka-config", file);
        assertEquals(0, topics.exitCode(), topics.toString());
        CommandRun prompts = CommandRun.execute("prompts", "-b", bootstrap, "--prefix", "sec.", "-n", "5", "--kafka-config", file);
        assertEquals(0, prompts.exitCode(), prompts.toString());
        CommandRun tail = CommandRun.execute("tail", "prompts", "-b", bootstrap, "--prefix", "sec.", "--from-beginning", "-n", "5",
                "--kafka-config", file);
        assertEquals(0, tail.exitCode(), tail.toString());
        assertEquals(5, tail.outLines().size(), tail.toString());
    }

    @Test
    void aWrongPasswordFailsFastNamingTheAuthentication() throws IOException {
        String file = clientFile("wrong.properties", "not-it").toString();
        long started = System.nanoTime();
        CommandRun prompts = CommandRun.execute("prompts", "-b", broker.bootstrapServers(), "--prefix", "sec.", "-n", "1",
                "--kafka-config", file);
        assertTrue(System.nanoTime() - started < 30_000_000_000L, "an authentication failure is not retried until a timeout");
        assertNotEquals(0, prompts.exitCode(), prompts.toString());
        assertTrue(prompts.err().startsWith("rlkafka prompts failed: ") && prompts.err().contains("Authentication failed"), prompts.err());
        assertFalse(prompts.err().contains("\tat "), "a reason, not a stack trace: " + prompts.err());
    }
}
