package dev.rlkafka.cli;

import ch.qos.logback.classic.Level;
import dev.rlkafka.kafka.EmbeddedKafkaBroker;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Comparator;
import java.util.List;
import java.util.function.Function;
import java.util.stream.Stream;

/**
 * What every {@code bench} command does around its measurement: quiets the services' logs, starts the
 * embedded broker unless a cluster is given, then prints the table and writes the JSON.
 */
final class BenchRunner {
    /** Loggers turned down to WARN without --verbose: the bench's own phase lines stay readable. */
    private static final List<String> SERVICE_LOGGERS = List.of("dev.rlkafka.trainer", "dev.rlkafka.generator",
            "dev.rlkafka.reward", "dev.rlkafka.kafka", "dev.rlkafka.policy", "org.apache.kafka");

    /** One bench on a cluster: takes the bootstrap servers, returns its result. */
    interface Bench<R> {
        R run(String bootstrap) throws Exception;
    }

    private BenchRunner() {
    }

    /** A bench run id: its start time, which also names its work folder and topics. */
    static String runId() {
        return LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
    }

    /**
     * @param runDir     the bench's own work folder (checkpoints, reward-service state): removed once the JSON is
     *                   written unless {@code keepRunDir}; a failed bench leaves it for a look
     */
    static <R> int run(String bootstrap, boolean verbose, Path json, Path runDir, boolean keepRunDir, Bench<R> bench,
                       Function<R, String> table, Function<R, String> toJson) throws Exception {
        if (!verbose) {
            for (String name : SERVICE_LOGGERS) ((ch.qos.logback.classic.Logger) LoggerFactory.getLogger(name)).setLevel(Level.WARN);
        }
        EmbeddedKafkaBroker broker = null;
        String cluster = bootstrap;
        if (cluster == null) {
            System.out.println("starting the embedded Kafka broker ...");
            broker = EmbeddedKafkaBroker.start();
            cluster = broker.bootstrapServers();
        }
        try {
            R result = bench.run(cluster);
            System.out.println(table.apply(result));
            if (json.toAbsolutePath().getParent() != null) Files.createDirectories(json.toAbsolutePath().getParent());
            Files.writeString(json, toJson.apply(result));
            System.out.println("JSON: " + json);
            if (keepRunDir) {
                System.out.println("checkpoints of the measured runs: " + runDir);
            } else {
                deleteRecursively(runDir);   // a few MB per bench that nothing reads again
                System.out.println("removed the measured runs' checkpoints (" + runDir + "); --keep-work-dir keeps them");
            }
            return 0;
        } finally {
            if (broker != null) broker.close();
        }
    }

    private static void deleteRecursively(Path dir) throws IOException {
        if (!Files.exists(dir)) return;
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) Files.delete(path);
        }
    }
}
