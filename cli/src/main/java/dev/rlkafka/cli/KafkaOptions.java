package dev.rlkafka.cli;

import dev.rlkafka.schemas.KafkaClientConfig;
import dev.rlkafka.schemas.Topics;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Option;
import picocli.CommandLine.TypeConversionException;

import java.nio.file.Path;

/** The options every command that talks to Kafka shares: where the cluster is, how to connect, and which run's topics. */
final class KafkaOptions {
    @Option(names = {"-b", "--bootstrap"}, defaultValue = "${env:RLKAFKA_BOOTSTRAP:-localhost:9092}",
            description = "Kafka bootstrap servers HOST:PORT[,HOST:PORT...] (default: ${DEFAULT-VALUE}; env RLKAFKA_BOOTSTRAP).")
    String bootstrap;

    @Option(names = "--kafka-config", paramLabel = "FILE", defaultValue = "${env:RLKAFKA_KAFKA_CONFIG}",
            converter = ClientConfigFile.class,
            description = "Kafka client properties for a cluster that needs them, like Kafka tools' --command-config: "
                    + "security.protocol, sasl.*, ssl.*, timeouts. Every client of the command starts from them; "
                    + "rlkafka's own settings (exactly-once, isolation, serializers, record sizes, ids) win. "
                    + "Secret values are masked in logs (default: none; env RLKAFKA_KAFKA_CONFIG).")
    KafkaClientConfig kafkaConfig;

    @Option(names = "--prefix", defaultValue = "${env:RLKAFKA_PREFIX:-}",
            description = "Topic name prefix that isolates a run, e.g. 'run42.' gives run42.rl.rollouts "
                    + "(default: none; env RLKAFKA_PREFIX).")
    String prefix;

    Topics topics() {
        return Topics.withPrefix(prefix == null ? "" : prefix);
    }

    /** The settings of --kafka-config, or none. */
    KafkaClientConfig clientConfig() {
        return kafkaConfig == null ? KafkaClientConfig.NONE : kafkaConfig;
    }

    /** Reads the file while the command line is parsed: a missing or bad file is a usage error that names it. */
    static final class ClientConfigFile implements ITypeConverter<KafkaClientConfig> {
        @Override
        public KafkaClientConfig convert(String file) {
            try {
                return KafkaClientConfig.load(Path.of(file));
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException(e.getMessage());
            }
        }
    }
}
