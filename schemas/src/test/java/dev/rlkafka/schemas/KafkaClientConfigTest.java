package dev.rlkafka.schemas;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class KafkaClientConfigTest {
    @TempDir
    Path dir;

    @Test
    void aPropertiesFileBecomesEveryClientsStartingSettings() throws IOException {
        Path file = dir.resolve("cluster.properties");
        Files.writeString(file, """
                # a SASL_SSL cluster
                security.protocol=SASL_SSL
                sasl.mechanism = PLAIN
                sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="rl" password="s3cret";
                request.timeout.ms=45000
                """);
        KafkaClientConfig config = KafkaClientConfig.load(file);
        Properties props = config.with("broker-1:9093");
        assertEquals("broker-1:9093", props.get("bootstrap.servers"));
        assertEquals("SASL_SSL", props.get("security.protocol"));
        assertEquals("PLAIN", props.get("sasl.mechanism"), "whitespace around = is not part of the value");
        assertEquals("45000", props.get("request.timeout.ms"));
        assertEquals(5, props.size());
    }

    @Test
    void secretsAreMaskedWhereTheConfigIsLogged() {
        KafkaClientConfig config = new KafkaClientConfig(Map.of("security.protocol", "SSL", "ssl.keystore.password", "s3cret",
                "sasl.jaas.config", "... password=\"s3cret\";"));
        String shown = config.toString();
        assertFalse(shown.contains("s3cret"), shown);
        assertTrue(shown.contains("security.protocol=SSL") && shown.contains("ssl.keystore.password=****"), shown);
    }

    @Test
    void theBootstrapServersComeFromBootstrapOnly() throws IOException {
        Path file = dir.resolve("bootstrap.properties");
        Files.writeString(file, "bootstrap.servers=elsewhere:9092\n");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> KafkaClientConfig.load(file));
        assertTrue(e.getMessage().contains(file.toAbsolutePath().toString()) && e.getMessage().contains("--bootstrap")
                && e.getMessage().contains("elsewhere:9092"), e.getMessage());
    }

    @Test
    void settingsThatMakeTheServicesGuaranteesAreNotTheFilesToSet() {
        // a transactional.id on the plain dead-letter producer would fail its every send; a shared one would fence
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new KafkaClientConfig(Map.of(
                "security.protocol", "SSL", "transactional.id", "shared", "isolation.level", "read_uncommitted")));
        assertTrue(e.getMessage().contains("[isolation.level, transactional.id]"), e.getMessage());
    }

    @Test
    void aMissingFileIsAnErrorThatNamesIt() {
        Path missing = dir.resolve("nope.properties");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> KafkaClientConfig.load(missing));
        assertTrue(e.getMessage().contains(missing.toAbsolutePath().toString()), e.getMessage());
    }
}
