package dev.rlkafka.cli;

import dev.rlkafka.kafka.EmbeddedKafkaBroker;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/** Runs the embedded single-node KRaft broker in the foreground. */
@Command(name = "broker", mixinStandardHelpOptions = true,
        description = "Run a single-node Kafka broker (KRaft) in the foreground, from Kafka's own jars. "
                + "Prints its bootstrap address; Ctrl-C stops it cleanly. Any Kafka client can use it, "
                + "e.g. kafka-console-producer or kcat.")
final class BrokerCommand implements Callable<Integer> {
    @Option(names = "--port", defaultValue = "9092",
            description = "Client port; 0 picks a free one (default: ${DEFAULT-VALUE}).")
    int port;

    @Option(names = "--data-dir",
            description = "Where the broker keeps its log. Reused across restarts, so topics survive. "
                    + "Default: a temp dir deleted on exit.")
    Path dataDir;

    @Option(names = "--create-topics", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "Create the rl.* topics (default prefix) once the broker is up (default: ${DEFAULT-VALUE}).")
    boolean createTopics;

    @Override
    public Integer call() throws Exception {
        boolean temporary = dataDir == null;
        Path dir = temporary ? Files.createTempDirectory("rlkafka-broker-") : Files.createDirectories(dataDir);
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("--port must be in 0..65535, got " + port);
        }
        EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.start(dir, port, temporary);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            broker.close();
            stopped.countDown();
        }, "broker-shutdown"));
        if (createTopics) {
            TopicsCommand.createAll(broker.bootstrapServers(), "", TopicsCommand.DEFAULT_PARTITIONS);
        }
        System.out.println("Kafka broker running. bootstrap: " + broker.bootstrapServers());
        System.out.println("data dir: " + dir + (temporary ? " (deleted on exit)" : ""));
        System.out.println("Press Ctrl-C to stop.");
        System.out.flush();
        stopped.await();
        return 0;
    }
}
