package dev.rlkafka.reward.human;

import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HumanScorerConfigTest {
    @Test
    void theServiceIdFollowsTheScorerIdUnlessSetByHand() {
        HumanScorerConfig config = HumanScorerConfig.defaults("localhost:9092").withScorerId("panel-a");
        assertEquals("panel-a", config.scorerId());
        assertEquals("human-scorer-panel-a", config.serviceId());
    }

    @Test
    void badSettingsAreRejectedNamingTheValue() {
        HumanScorerConfig config = HumanScorerConfig.defaults("localhost:9092");
        var id = assertThrows(IllegalArgumentException.class, () -> config.withScorerId("two words"));
        assertTrue(id.getMessage().contains("'two words'"), id.getMessage());
        var lease = assertThrows(IllegalArgumentException.class, () -> config.withLease(Duration.ZERO));
        assertTrue(lease.getMessage().contains("PT0S"), lease.getMessage());
        var port = assertThrows(IllegalArgumentException.class, () -> config.withAddress("127.0.0.1", 70000));
        assertTrue(port.getMessage().contains("70000"), port.getMessage());
    }

    @Test
    void raterNamesAreTrimmedAndMustBeSensible() {
        assertEquals("alice", HumanScorerService.raterName("  alice "));
        assertThrows(IllegalArgumentException.class, () -> HumanScorerService.raterName(" "));
        assertThrows(IllegalArgumentException.class, () -> HumanScorerService.raterName("a\u0000b"));
        assertThrows(IllegalArgumentException.class, () -> HumanScorerService.raterName("x".repeat(65)));
    }

    @Test
    void theClustersTimeoutsWinOverTheRatingDefaultsAndIdempotenceStaysOurs() {
        HumanScorerConfig plain = HumanScorerConfig.defaults("localhost:9092");
        assertEquals("30000", HumanScorerService.producerProperties(plain).get("delivery.timeout.ms"), "a person waits at most this");
        HumanScorerConfig fromFile = plain.withClientConfig(new dev.rlkafka.schemas.KafkaClientConfig(java.util.Map.of(
                "delivery.timeout.ms", "5000", "max.block.ms", "4000", "security.protocol", "SASL_SSL")));
        var p = HumanScorerService.producerProperties(fromFile);
        assertEquals("5000", p.get("delivery.timeout.ms"));
        assertEquals("4000", p.get("max.block.ms"));
        assertEquals("SASL_SSL", p.get("security.protocol"));
        assertEquals("true", p.get("enable.idempotence"));
    }
}
