package dev.rlkafka.cli;

import dev.rlkafka.schemas.KafkaClientConfig;
import dev.rlkafka.schemas.Topics;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** The options every command that talks to Kafka shares: where the cluster is, how to connect, and which run's topics. */
final class KafkaOptions {
    @Option(names = {"-b", "--bootstrap"}, defaultValue = "${env:RLKAFKA_BOOTSTRAP:-localhost:9092}",
            description = "Kafka bootstrap servers HOST:PORT[,HOST:PORT...] (default: ${DEFAULT-VALUE}; env RLKAFKA_BOOTSTRAP).")
    String bootstrap;

    @Mixin ClientConfigOption client;

    @Option(names = "--prefix", defaultValue = "${env:RLKAFKA_PREFIX:-}",
            description = "Topic name prefix that isolates a run, e.g. 'run42.' gives run42.rl.rollouts "
                    + "(default: none; env RLKAFKA_PREFIX).")
    String prefix;

    Topics topics() {
        return Topics.withPrefix(prefix == null ? "" : prefix);
    }

    /** The settings of --kafka-config, or none. */
    KafkaClientConfig clientConfig() {
        return client.clientConfig();
    }
}
