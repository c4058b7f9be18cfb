package dev.rlkafka.kafka;

import org.testcontainers.DockerClientFactory;
import org.testcontainers.kafka.KafkaContainer;

/** The Docker path of {@link KafkaExtension}: Apache Kafka's own image under Testcontainers. */
final class TestcontainersKafka {
    /** Pinned so a test run never pulls "latest". */
    static final String IMAGE = "apache/kafka:4.1.1";

    private TestcontainersKafka() {
    }

    static boolean dockerAvailable() {
        return DockerClientFactory.instance().isDockerAvailable();
    }

    static KafkaExtension.AutoCloseableKafka start() {
        KafkaContainer container = new KafkaContainer(IMAGE)
                .withEnv("KAFKA_AUTO_CREATE_TOPICS_ENABLE", "false")
                .withEnv("KAFKA_MESSAGE_MAX_BYTES", String.valueOf(16 * 1024 * 1024));
        container.start();
        return new KafkaExtension.AutoCloseableKafka() {
            @Override public TestKafka kafka() { return new TestKafka(container.getBootstrapServers(), "testcontainers"); }
            @Override public void close() { container.stop(); }
        };
    }
}
