package dev.rlkafka.cli;

import dev.rlkafka.schemas.KafkaClientConfig;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Option;
import picocli.CommandLine.TypeConversionException;

import java.nio.file.Path;

/** {@code --kafka-config FILE}: the cluster's own client settings, for every command that reaches a cluster. */
final class ClientConfigOption {
    @Option(names = "--kafka-config", paramLabel = "FILE", defaultValue = "${env:RLKAFKA_KAFKA_CONFIG}",
            converter = ClientConfigFile.class,
            description = "Kafka client properties for a cluster that needs them, like Kafka tools' --command-config: "
                    + "security.protocol, sasl.*, ssl.*, timeouts. Every client the command opens on the cluster starts from "
                    + "them; rlkafka's own settings (exactly-once, isolation, serializers, record sizes, ids) win. Secret "
                    + "values are masked in logs. Not used on an embedded broker (demo, tail, replay and rescore without "
                    + "--bootstrap) (default: none; env RLKAFKA_KAFKA_CONFIG).")
    KafkaClientConfig kafkaConfig;

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
