package dev.rlkafka.cli;

import dev.rlkafka.kafka.EmbeddedKafkaBroker;
import dev.rlkafka.schemas.KafkaClientConfig;
import dev.rlkafka.schemas.Topics;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Where a run's records are: a cluster and the run's topic names. A run is identified by its id: its topics
 * carry the prefix {@code run-<id>.} and its files live in {@code runs/<id>/}; a demo on the embedded broker
 * keeps the broker's data in {@code runs/<id>/kafka}, so the run can be read back after the demo has ended by
 * starting a broker on that data again. Closing stops such a broker.
 */
final class RunCluster implements AutoCloseable {
    /** The run folder's subfolder that holds the embedded broker's data. */
    static final String BROKER_DIR = "kafka";
    private static final Pattern RUN_ID = Pattern.compile("[A-Za-z0-9_-][A-Za-z0-9._-]*");

    private final String bootstrap;
    /** The cluster's client settings; none for an embedded broker on the run's data. */
    private final KafkaClientConfig client;
    private final Topics topics;
    private final Path runDir;
    private final EmbeddedKafkaBroker broker;

    private RunCluster(String bootstrap, KafkaClientConfig client, Topics topics, Path runDir, EmbeddedKafkaBroker broker) {
        this.bootstrap = bootstrap;
        this.client = client;
        this.topics = topics;
        this.runDir = runDir;
        this.broker = broker;
    }

    /** The topic names of run {@code runId}: every default name behind {@code run-<id>.}. */
    static Topics topics(String runId) {
        checkRunId(runId);
        return Topics.withPrefix("run-" + runId + ".");
    }

    /**
     * Run {@code runId} of {@code runsDir}: on {@code bootstrap} under the run's prefix, or, when bootstrap is
     * null, on an embedded broker started on the run's own broker data (said on {@code out}); {@code client} applies
     * to the cluster at {@code bootstrap} only.
     *
     * @throws IllegalArgumentException when bootstrap is null and the run has no broker data
     */
    static RunCluster ofRun(String runId, String bootstrap, KafkaClientConfig client, Path runsDir, PrintStream out) throws IOException {
        Topics topics = topics(runId);
        Path runDir = runsDir.resolve(runId);
        if (bootstrap != null) return new RunCluster(bootstrap, client, topics, runDir, null);

        Path brokerDir = runDir.resolve(BROKER_DIR);
        if (!Files.isDirectory(runDir)) {
            throw new IllegalArgumentException("no run '" + runId + "' in " + runsDir + known(runsDir)
                    + "; for a run on another cluster pass --bootstrap");
        }
        if (!Files.isDirectory(brokerDir)) {
            throw new IllegalArgumentException(runDir + " has no broker data (" + brokerDir + "): the run used a cluster of its "
                    + "own (see bootstrap in " + runDir.resolve("config.json") + "); pass --bootstrap HOST:PORT");
        }
        checkNotInUse(brokerDir);
        out.println("starting an embedded Kafka broker on " + brokerDir + " (the run's own data) ...");
        EmbeddedKafkaBroker broker;
        try {
            broker = EmbeddedKafkaBroker.start(brokerDir, 0, false);
        } catch (RuntimeException e) {
            throw new IllegalStateException("cannot start a broker on " + brokerDir + " (if the demo is still running, "
                    + "pass --bootstrap with the address it printed): " + e.getMessage(), e);
        }
        return new RunCluster(broker.bootstrapServers(), KafkaClientConfig.NONE, topics, runDir, broker);
    }

    /** Topics behind {@code prefix} on {@code bootstrap}, no run folder. */
    static RunCluster ofPrefix(String bootstrap, KafkaClientConfig client, String prefix) {
        return new RunCluster(bootstrap, client, Topics.withPrefix(prefix), null, null);
    }

    String bootstrap() {
        return bootstrap;
    }

    KafkaClientConfig clientConfig() {
        return client;
    }

    Topics topics() {
        return topics;
    }

    /** The run's folder (for replay and rescore files); null for a bare prefix. */
    Path runDir() {
        return runDir;
    }

    /** Where the records are, for people: the bootstrap, or the embedded broker's data folder. */
    String describe() {
        return broker == null ? bootstrap : "embedded broker on " + broker.dataDir();
    }

    private static void checkRunId(String runId) {
        // the id is a folder name and part of every topic name: no separators, no '..'
        if (runId == null || !RUN_ID.matcher(runId).matches() || runId.contains("..")) {
            throw new IllegalArgumentException("run id must use only A-Z a-z 0-9 . _ - (e.g. 20250101-120000), got '" + runId + "'");
        }
    }

    /**
     * A second broker on the same data does not fail cleanly: it reads the live metadata log mid-write and halts
     * the JVM on a "corrupt" record. Kafka holds an OS lock on a {@code .lock} file in its log directory while it
     * runs; finding it held means the demo (or {@code rlkafka broker --data-dir}) is still running on this data.
     */
    static void checkNotInUse(Path brokerDir) throws IOException {
        List<Path> locks;
        try (Stream<Path> files = Files.walk(brokerDir, 2)) {
            locks = files.filter(p -> p.getFileName().toString().equals(".lock")).toList();
        }
        for (Path lock : locks) {
            try (FileChannel channel = FileChannel.open(lock, StandardOpenOption.WRITE);
                 FileLock held = channel.tryLock()) {
                if (held == null) throw inUse(brokerDir);   // another process holds it
            } catch (OverlappingFileLockException e) {
                throw inUse(brokerDir);   // a broker in this JVM holds it
            }
        }
    }

    private static IllegalArgumentException inUse(Path brokerDir) {
        return new IllegalArgumentException(brokerDir + " is in use by a running broker (is the demo still running?); "
                + "pass --bootstrap with the address it printed");
    }

    private static String known(Path runsDir) {
        if (!Files.isDirectory(runsDir)) return " (" + runsDir + " does not exist)";
        try (Stream<Path> dirs = Files.list(runsDir)) {
            List<String> ids = dirs.filter(Files::isDirectory).map(p -> p.getFileName().toString()).sorted().toList();
            return ids.isEmpty() ? " (it is empty)" : " (runs there: " + String.join(", ", ids) + ")";
        } catch (IOException e) {
            return "";
        }
    }

    @Override
    public void close() {
        if (broker != null) broker.close();
    }
}
