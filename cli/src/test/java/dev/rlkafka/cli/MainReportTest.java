package dev.rlkafka.cli;

import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.TimeoutException;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.concurrent.ExecutionException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What a failed command prints: the reason cause by cause, and for a Kafka timeout the address it could not reach. */
class MainReportTest {

    @Test
    void aKafkaTimeoutNamesTheBootstrapAddressTheCommandUsed() {
        var e = new KafkaException("cannot list topics", new ExecutionException(new TimeoutException("Timed out waiting for a node assignment")));
        String err = report(e, "topics", "list", "-b", "kafka.example:9092");
        assertTrue(err.startsWith("rlkafka topics list failed: cannot list topics (KafkaException)"), err);
        assertTrue(err.contains("Timed out waiting for a node assignment"), err);
        assertTrue(err.contains("is a broker running and reachable at kafka.example:9092?"), err);
    }

    @Test
    void aCommandOnItsOwnEmbeddedBrokerGetsNoAdviceToStartOne() {
        var e = new KafkaException("cannot list topics", new TimeoutException("Timed out waiting for a node assignment"));
        String err = report(e, "replay", "--run", "20261206-000000");
        assertEquals(0, err.lines().filter(line -> line.contains("broker running")).count(), err);
    }

    @Test
    void otherFailuresGetNoKafkaHint() {
        String err = report(new IllegalArgumentException("reference checkpoint x.ckpt does not exist"), "topics", "list", "-b", "kafka.example:9092");
        assertEquals(0, err.lines().filter(line -> line.contains("broker running")).count(), err);
        assertFalse(err.isEmpty());
    }

    private static String report(Exception e, String... args) {
        CommandLine.ParseResult parsed = Main.commandLine().parseArgs(args);
        CommandLine.ParseResult leaf = parsed;
        while (leaf.hasSubcommand()) leaf = leaf.subcommand();
        CommandLine command = leaf.commandSpec().commandLine();
        StringWriter err = new StringWriter();
        command.setErr(new PrintWriter(err));
        Main.report(e, command, parsed);
        return err.toString();
    }
}
