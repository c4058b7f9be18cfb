package dev.rlkafka.kafka;

import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.metadata.storage.Formatter;
import org.apache.kafka.server.common.Feature;
import org.apache.kafka.server.common.MetadataVersion;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A real single-node Kafka broker (KRaft, combined broker + controller) started in-process from
 * Kafka's own server jars: storage is formatted in a temp dir, then the server starts on a free port.
 *
 * <p>Settings are those of a one-node cluster: replication factor 1 and min ISR 1 for the internal
 * topics, no initial rebalance delay. It is the same broker a {@code kafka-server-start} would run,
 * so clients cannot tell the difference.
 */
public final class EmbeddedKafkaBroker implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(EmbeddedKafkaBroker.class);
    private static final int NODE_ID = 1;
    private static final Duration READY_TIMEOUT = Duration.ofSeconds(60);
    private static final String PLAIN_LOGIN = "org.apache.kafka.common.security.plain.PlainLoginModule";
    /** The SASL user the broker talks to itself as. */
    private static final String SELF = "broker";
    private static final String SELF_PASSWORD = "broker-secret";

    private final Path dataDir;
    private final boolean deleteOnClose;
    private final int port;
    private final KafkaRaftServer server;
    private volatile boolean closed;

    private EmbeddedKafkaBroker(Path dataDir, boolean deleteOnClose, int port, KafkaRaftServer server) {
        this.dataDir = dataDir;
        this.deleteOnClose = deleteOnClose;
        this.port = port;
        this.server = server;
    }

    /** Starts a broker on a free port with its data in a fresh temp dir that is deleted on close. */
    public static EmbeddedKafkaBroker start() {
        try {
            return start(Files.createTempDirectory("rlkafka-broker-"), 0, true);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a temp dir for the broker", e);
        }
    }

    /**
     * Starts a broker.
     *
     * @param dataDir where the log and metadata live; formatted if empty, reused if already formatted
     * @param port the client port, or 0 for a free one
     * @param deleteOnClose whether {@link #close()} deletes {@code dataDir}
     */
    public static EmbeddedKafkaBroker start(Path dataDir, int port, boolean deleteOnClose) {
        return start(dataDir, port, deleteOnClose, Map.of(), Map.of());
    }

    /**
     * A broker whose client listener takes SASL/PLAIN only: a secured cluster for tests of client settings. Clients
     * need {@code security.protocol=SASL_PLAINTEXT}, {@code sasl.mechanism=PLAIN} and a {@code sasl.jaas.config}
     * naming one of {@code users} (user → password). Its data is deleted on close.
     */
    public static EmbeddedKafkaBroker startSaslPlain(Path dataDir, Map<String, String> users) {
        // the broker logs in to itself as SELF; the user_ entries are the accounts it accepts, SELF's among them
        String selfLogin = PLAIN_LOGIN + " required username=\"" + SELF + "\" password=\"" + SELF_PASSWORD + "\"";
        StringBuilder jaas = new StringBuilder(selfLogin + " user_" + SELF + "=\"" + SELF_PASSWORD + "\"");
        users.forEach((user, password) -> jaas.append(" user_").append(user).append("=\"").append(password).append('"'));
        jaas.append(';');
        Map<String, String> broker = Map.of(
                "listener.security.protocol.map", "SASL_PLAINTEXT:SASL_PLAINTEXT,CONTROLLER:PLAINTEXT",
                "inter.broker.listener.name", "SASL_PLAINTEXT",
                "sasl.enabled.mechanisms", "PLAIN",
                "sasl.mechanism.inter.broker.protocol", "PLAIN",
                "listener.name.sasl_plaintext.plain.sasl.jaas.config", jaas.toString());
        Map<String, Object> self = Map.of("security.protocol", "SASL_PLAINTEXT", "sasl.mechanism", "PLAIN",
                "sasl.jaas.config", selfLogin + ";");
        return start(dataDir, 0, true, broker, self);
    }

    /**
     * @param overrides  broker settings over the defaults of {@link #brokerProperties}; an inter.broker.listener.name
     *                   among them also names the client listener (SASL_PLAINTEXT for {@link #startSaslPlain})
     * @param selfClient client settings of the admin client that waits for the broker to serve
     */
    private static EmbeddedKafkaBroker start(Path dataDir, int port, boolean deleteOnClose, Map<String, String> overrides,
                                             Map<String, Object> selfClient) {
        long started = System.nanoTime();
        int clientPort = port == 0 ? freePort() : port;
        int controllerPort = freePort();
        Path logDir = dataDir.resolve("kraft");
        Properties props = brokerProperties(logDir, clientPort, controllerPort);
        if (overrides.containsKey("inter.broker.listener.name")) {
            String listener = overrides.get("inter.broker.listener.name");
            props.put("listeners", listener + "://localhost:" + clientPort + ",CONTROLLER://localhost:" + controllerPort);
            props.put("advertised.listeners", listener + "://localhost:" + clientPort);
        }
        props.putAll(overrides);
        KafkaConfig config = new KafkaConfig(props, false);
        format(logDir);
        KafkaRaftServer server = new KafkaRaftServer(config, Time.SYSTEM);
        server.startup();
        EmbeddedKafkaBroker broker = new EmbeddedKafkaBroker(dataDir, deleteOnClose, clientPort, server);
        broker.awaitReady(selfClient);
        log.info("Kafka broker ready at {} (data in {}) after {} ms",
                broker.bootstrapServers(), dataDir, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
        return broker;
    }

    /**
     * After {@link #close()}: a new broker on this one's port and data, as a restarted broker comes back to its
     * clients (they reconnect to the same address and find their topics and transactions). For broker-outage tests.
     *
     * @throws IllegalStateException while this broker still runs, or when its data was deleted on close
     */
    public EmbeddedKafkaBroker startAgain() {
        if (!closed) throw new IllegalStateException("the broker at " + bootstrapServers() + " still runs; close it first");
        if (deleteOnClose) {
            throw new IllegalStateException("the broker at " + bootstrapServers() + " deleted its data " + dataDir + " on close");
        }
        return start(dataDir, port, false);
    }

    /** The address clients connect to, {@code localhost:PORT}. */
    public String bootstrapServers() {
        return "localhost:" + port;
    }

    public Path dataDir() {
        return dataDir;
    }

    static Properties brokerProperties(Path logDir, int clientPort, int controllerPort) {
        Properties p = new Properties();
        p.putAll(Map.ofEntries(
                Map.entry("process.roles", "broker,controller"),
                Map.entry("node.id", String.valueOf(NODE_ID)),
                Map.entry("controller.quorum.voters", NODE_ID + "@localhost:" + controllerPort),
                Map.entry("listeners", "PLAINTEXT://localhost:" + clientPort + ",CONTROLLER://localhost:" + controllerPort),
                Map.entry("advertised.listeners", "PLAINTEXT://localhost:" + clientPort),
                Map.entry("controller.listener.names", "CONTROLLER"),
                Map.entry("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT"),
                Map.entry("inter.broker.listener.name", "PLAINTEXT"),
                Map.entry("log.dirs", logDir.toString()),
                Map.entry("metadata.log.dir", logDir.toString()),
                // one node: internal topics cannot have more replicas than there are brokers
                Map.entry("offsets.topic.replication.factor", "1"),
                Map.entry("offsets.topic.num.partitions", "4"),
                Map.entry("transaction.state.log.replication.factor", "1"),
                Map.entry("transaction.state.log.min.isr", "1"),
                Map.entry("transaction.state.log.num.partitions", "4"),
                Map.entry("share.coordinator.state.topic.replication.factor", "1"),
                Map.entry("share.coordinator.state.topic.min.isr", "1"),
                Map.entry("min.insync.replicas", "1"),
                Map.entry("default.replication.factor", "1"),
                // consumers of a fresh group start at once instead of waiting 3 s for more members
                Map.entry("group.initial.rebalance.delay.ms", "0"),
                // topics come from TopicAdmin with their configs; a typo must not create a 1-partition topic
                Map.entry("auto.create.topics.enable", "false"),
                // a topic's retention.bytes/ms applies at this check (Kafka's default is every 5 minutes, longer than
                // a demo): a demo run's policy-weights topic keeps only its newest versions on disk
                Map.entry("log.retention.check.interval.ms", "10000"),
                // policy-weight chunks are a few MB
                Map.entry("message.max.bytes", String.valueOf(16 * 1024 * 1024)),
                Map.entry("replica.fetch.max.bytes", String.valueOf(16 * 1024 * 1024))));
        return p;
    }

    private static void format(Path logDir) {
        if (Files.exists(logDir.resolve("meta.properties"))) {
            return;   // already formatted: a restarted broker keeps its topics
        }
        try {
            Files.createDirectories(logDir);
            new Formatter()
                    .setPrintStream(new PrintStream(OutputStream.nullOutputStream()))
                    .setNodeId(NODE_ID)
                    .setClusterId(Uuid.randomUuid().toString())
                    .setDirectories(List.of(logDir.toString()))
                    .setMetadataLogDirectory(logDir.toString())
                    .setControllerListenerName("CONTROLLER")
                    .setReleaseVersion(MetadataVersion.latestProduction())
                    .setSupportedFeatures(Feature.PRODUCTION_FEATURES)
                    .run();
        } catch (Exception e) {
            throw new IllegalStateException("cannot format Kafka storage in " + logDir, e);
        }
    }

    private void awaitReady(Map<String, Object> selfClient) {
        Properties props = new Properties();
        props.putAll(selfClient);
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
        long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
        try (Admin admin = Admin.create(props)) {
            while (true) {
                try {
                    if (!admin.describeCluster().nodes().get(5, TimeUnit.SECONDS).isEmpty()) {
                        return;
                    }
                } catch (Exception e) {
                    if (e instanceof InterruptedException) {
                        Thread.currentThread().interrupt();
                        throw new IllegalStateException("interrupted while waiting for the broker", e);
                    }
                    if (System.nanoTime() > deadline) {
                        close();
                        throw new IllegalStateException("broker at " + bootstrapServers()
                                + " not ready after " + READY_TIMEOUT.toSeconds() + " s", e);
                    }
                }
            }
        }
    }

    /** Blocks until the server has shut down (used by {@code rlkafka broker}). */
    public void awaitShutdown() {
        server.awaitShutdown();
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        server.shutdown();
        server.awaitShutdown();
        if (deleteOnClose) {
            deleteRecursively(dataDir);
        }
        log.info("Kafka broker at {} stopped", bootstrapServers());
    }

    private static int freePort() {
        try (ServerSocket socket = new ServerSocket(0)) {
            socket.setReuseAddress(true);
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("no free local port", e);
        }
    }

    private static void deleteRecursively(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            log.warn("could not delete broker data dir {}: {}", dir, e.toString());
        }
    }
}
