package dev.rlkafka.kafka;

/** A running Kafka cluster that tests connect to. */
public record TestKafka(String bootstrapServers, String kind) {
    public TestKafka {
        if (bootstrapServers == null || bootstrapServers.isBlank()) {
            throw new IllegalArgumentException("bootstrapServers must be set, got '" + bootstrapServers + "'");
        }
    }
}
