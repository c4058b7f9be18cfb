package dev.rlkafka.cli;

import dev.rlkafka.schemas.KafkaClientConfig;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;

/** The options of the commands that read a run back: which cluster, and where run folders are. */
final class RunOptions {
    @Option(names = {"-b", "--bootstrap"},
            description = "Kafka bootstrap servers HOST:PORT[,...] of the cluster the run used. Default with --run: an "
                    + "embedded broker started on the run's own data, runs/<id>/kafka (what the demo leaves); "
                    + "without --run: env RLKAFKA_BOOTSTRAP, else localhost:9092.")
    String bootstrap;

    @Mixin ClientConfigOption client;

    @Option(names = "--runs-dir", defaultValue = "runs", description = "Where run folders are (default: ${DEFAULT-VALUE}).")
    Path runsDir;

    /** The settings of --kafka-config, or none; they apply to a cluster named by --bootstrap, not to a run's own broker. */
    KafkaClientConfig clientConfig() {
        return client.clientConfig();
    }

    /** -b, else the environment's cluster, else the local default (tail without --run). */
    String bootstrapOrDefault() {
        if (bootstrap != null) return bootstrap;
        String env = System.getenv("RLKAFKA_BOOTSTRAP");
        return env == null || env.isBlank() ? "localhost:9092" : env;
    }
}
