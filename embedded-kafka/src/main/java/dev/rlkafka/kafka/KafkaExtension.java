package dev.rlkafka.kafka;

import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * JUnit 5 extension that gives a test a real Kafka broker: inject a {@link TestKafka} parameter.
 *
 * <p>One broker per test JVM, started on first use and stopped when the JVM's tests end. Which
 * broker is chosen by the system property {@code rlkafka.test.kafka} (or env {@code RLKAFKA_TEST_KAFKA}):
 * {@code embedded} (in-process KRaft from Kafka's jars), {@code testcontainers} (Kafka in Docker), or
 * {@code auto} (the default: Testcontainers when a Docker engine answers, embedded otherwise).
 */
public final class KafkaExtension implements ParameterResolver {
    private static final Logger log = LoggerFactory.getLogger(KafkaExtension.class);
    public static final String MODE_PROPERTY = "rlkafka.test.kafka";
    private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace.create(KafkaExtension.class);

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        return parameter.getParameter().getType() == TestKafka.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
        return context.getRoot().getStore(NAMESPACE)
                .getOrComputeIfAbsent("kafka", key -> start(), RunningKafka.class)
                .kafka();
    }

    private static RunningKafka start() {
        String mode = mode();
        boolean useDocker = switch (mode) {
            case "embedded" -> false;
            case "testcontainers" -> true;
            case "auto" -> dockerAvailable();
            default -> throw new IllegalArgumentException(
                    MODE_PROPERTY + " must be embedded, testcontainers or auto, got '" + mode + "'");
        };
        if (useDocker) {
            // loaded only on this path, so the embedded path needs no Testcontainers on the class path
            AutoCloseableKafka container = TestcontainersKafka.start();
            log.info("tests use Testcontainers' Kafka at {}", container.kafka().bootstrapServers());
            return new RunningKafka(container);
        }
        EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.start();
        log.info("tests use the embedded Kafka broker at {}", broker.bootstrapServers());
        return new RunningKafka(new AutoCloseableKafka() {
            @Override public TestKafka kafka() { return new TestKafka(broker.bootstrapServers(), "embedded"); }
            @Override public void close() { broker.close(); }
        });
    }

    static String mode() {
        String mode = System.getProperty(MODE_PROPERTY);
        if (mode == null || mode.isBlank()) {
            mode = System.getenv("RLKAFKA_TEST_KAFKA");
        }
        return mode == null || mode.isBlank() ? "auto" : mode.trim().toLowerCase(Locale.ROOT);
    }

    /** A Docker engine is there when its socket exists (or DOCKER_HOST is set) and Testcontainers can talk to it. */
    private static boolean dockerAvailable() {
        boolean socket = Files.exists(Path.of("/var/run/docker.sock")) || System.getenv("DOCKER_HOST") != null;
        if (!socket) {
            return false;
        }
        try {
            return TestcontainersKafka.dockerAvailable();
        } catch (LinkageError e) {
            log.warn("Docker is present but Testcontainers is not on the test class path; using the embedded broker");
            return false;
        }
    }

    /** A started cluster of either kind. */
    interface AutoCloseableKafka extends AutoCloseable {
        TestKafka kafka();

        @Override
        void close();
    }

    /** Stored in the root context, so JUnit closes it once, after the last test of the JVM. */
    private record RunningKafka(AutoCloseableKafka cluster)
            implements ExtensionContext.Store.CloseableResource, AutoCloseable {
        TestKafka kafka() {
            return cluster.kafka();
        }

        @Override
        public void close() {
            cluster.close();
        }
    }
}
