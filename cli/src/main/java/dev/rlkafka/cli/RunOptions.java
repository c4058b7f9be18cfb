package dev.rlkafka.cli;

import dev.rlkafka.schemas.KafkaClientConfig;
import picocli.CommandLine.Option;

import java.nio.file.Path;

/** The options of the commands that read a run back: which cluster, and where run folders are. */
final class RunOptions {
    @Option(names = {"-b", "--bootstrap"},
            description = "Kafka bootstrap servers HOST:PORT[,...] of the cluster the run used. Default with --run: an "
                    + "embedded broker started on the run's own data, runs/<id>/kafka (what the demo leaves); "
                    + "without --run: env RLKAFKA_BOOTSTRAP, else localhost:9092.")
    String bootstrap;

    @Option(names = "--kafka-config", paramLabel = "FILE", defaultValue = "${env:RLKAFKA_KAFKA_CONFIG}",
            converter = KafkaOptions.ClientConfigFile.class,
            description = "With --bootstrap: Kafka client properties for a cluster that needs them (security.protocol, "
                    + "sasl.*, ssl.*), as for the services (default: none; env RLKAFKA_KAFKA_CONFIG).")
    KafkaClientConfig kafkaConfig;

    @Option(names = "--runs-dir", defaultValue = "runs", description = "Where run folders are (default: ${DEFAULT-VALUE}).")
    Path runsDir;

    /** The settings of --kafka-config, or none. */
    KafkaClientConfig clientConfig() {
        return kafkaConfig == null ? KafkaClientConfig.NONE : kafkaConfig;
    }

    /** -b, else the environment's cluster, else the local default (tail without --run). */
    String bootstrapOrDefault() {
        if (bootstrap != null) return bootstrap;
        String env = System.getenv("RLKAFKA_BOOTSTRAP");
        return env == null || env.isBlank() ? "localhost:9092" : env;
    }
}
