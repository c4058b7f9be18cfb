package dev.rlkafka.schemas;

import org.apache.kafka.clients.CommonClientConfigs;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * Kafka client settings that belong to the cluster, not to rlkafka: security ({@code security.protocol},
 * {@code sasl.*}, {@code ssl.*}), timeouts, interceptors. Every producer, consumer, admin client and Streams instance
 * of a service starts from them, from a properties file ({@code --kafka-config}, like Kafka's own tools'
 * {@code --command-config}). The settings a service needs for its guarantees (exactly-once, isolation, serializers,
 * record sizes) are put on top and win; the ones that make those guarantees may not be set here at all
 * ({@link #OWNED_BY_RLKAFKA}), and the bootstrap servers come from {@code --bootstrap} alone.
 *
 * @param properties client setting name → value
 */
public record KafkaClientConfig(Map<String, String> properties) {
    /**
     * Settings each service chooses for its guarantees: ids that fence or group processes, exactly-once, isolation,
     * the byte formats. In the cluster's file they would be overridden or, on a client that does not expect them
     * (a transactional.id on a plain producer), break it; so the file may not set them.
     */
    static final Set<String> OWNED_BY_RLKAFKA = Set.of("transactional.id", "group.id", "group.instance.id",
            "enable.idempotence", "enable.auto.commit", "isolation.level", "application.id", "processing.guarantee",
            "key.serializer", "value.serializer", "key.deserializer", "value.deserializer");

    /** Names whose values are never logged. */
    private static final String[] SECRET_PARTS = {"password", "secret", "jaas", "token", "credential", "key"};

    /** No settings of the cluster's own: a plain-text cluster with client defaults (the embedded broker). */
    public static final KafkaClientConfig NONE = new KafkaClientConfig(Map.of());

    public KafkaClientConfig {
        if (properties == null) throw new IllegalArgumentException("properties must not be null (use KafkaClientConfig.NONE)");
        properties.forEach((name, value) -> {
            if (name == null || name.isBlank() || value == null) {
                throw new IllegalArgumentException("Kafka client setting '" + name + "' has no name or no value");
            }
        });
        List<String> owned = properties.keySet().stream().filter(OWNED_BY_RLKAFKA::contains).sorted().toList();
        if (!owned.isEmpty()) {
            throw new IllegalArgumentException(owned + " are set by each rlkafka service for its exactly-once and record "
                    + "formats, not in the Kafka client settings");
        }
        if (properties.containsKey(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG)) {
            throw new IllegalArgumentException(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG + " is set with --bootstrap, not in the Kafka "
                    + "client settings (it was '" + properties.get(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG) + "')");
        }
        properties = Map.copyOf(new TreeMap<>(properties));
    }

    /**
     * Reads a Java properties file of client settings.
     *
     * @throws IllegalArgumentException when the file is missing or unreadable, or sets bootstrap.servers
     */
    public static KafkaClientConfig load(Path file) {
        Properties read = new Properties();
        try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            read.load(reader);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read the Kafka client settings file " + file.toAbsolutePath() + ": " + e, e);
        }
        Map<String, String> properties = new TreeMap<>();
        read.stringPropertyNames().forEach(name -> properties.put(name.trim(), read.getProperty(name).trim()));
        try {
            return new KafkaClientConfig(properties);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file.toAbsolutePath() + ": " + e.getMessage(), e);
        }
    }

    /** A new {@link Properties} with these settings and {@code bootstrap.servers}: what every client's settings start from. */
    public Properties with(String bootstrap) {
        Properties p = new Properties();
        p.putAll(properties);
        p.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        return p;
    }

    /** The setting names, with every value but those of secrets ({@code sasl.jaas.config}, passwords, keys) shown. */
    @Override
    public String toString() {
        return properties.entrySet().stream()
                .map(e -> e.getKey() + "=" + (secret(e.getKey()) ? "****" : e.getValue()))
                .collect(Collectors.joining(", ", "{", "}"));
    }

    private static boolean secret(String name) {
        String lower = name.toLowerCase(Locale.ROOT);
        for (String part : SECRET_PARTS) {
            if (lower.contains(part)) return true;
        }
        return false;
    }
}
