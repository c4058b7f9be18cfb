package dev.rlkafka.reward;

import dev.rlkafka.schemas.KafkaClientConfig;
import dev.rlkafka.schemas.Topics;
import org.apache.kafka.streams.StreamsConfig;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RewardConfigTest {
    private final RewardConfig defaults = RewardConfig.defaults("localhost:9092");

    @Test
    void defaultRequiredScorersAreTheDefaultTasksBuiltInsWithTheirOwnWeights() {
        assertEquals(Map.of("exact-answer", 1.0, "format", 0.1), defaults.requiredScorers());
        assertEquals(Map.of(), defaults.optionalScorers());
        assertEquals(Duration.ofSeconds(60), defaults.groupTimeout());
        assertEquals("rlkafka-reward", defaults.applicationId());
        assertTrue(defaults.builtInScorers() && defaults.divideByStd());
    }

    @Test
    void theClustersClientSettingsReachStreamsAndExactlyOnceStays() {
        var props = RewardService.streamsProperties(defaults.withClientConfig(new KafkaClientConfig(Map.of(
                "security.protocol", "SSL", "commit.interval.ms", "5000"))));
        assertEquals("SSL", props.get("security.protocol"));
        assertEquals(StreamsConfig.EXACTLY_ONCE_V2, props.get(StreamsConfig.PROCESSING_GUARANTEE_CONFIG));
        assertEquals(defaults.commitInterval().toMillis(), props.get(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG), "the service's own setting wins");
        assertEquals("localhost:9092", props.get(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG));
    }

    @Test
    void applicationIdFollowsTheTopicPrefixUnlessSetExplicitly() {
        assertEquals("run7.rlkafka-reward", defaults.withTopics(Topics.withPrefix("run7.")).applicationId());
        assertEquals("mine", defaults.withApplicationId("mine").withTopics(Topics.withPrefix("run7.")).applicationId());
    }

    @Test
    void badValuesAreRejectedByName() {
        var nan = assertThrows(IllegalArgumentException.class,
                () -> defaults.withScorers(Map.of("judge", Double.NaN), Map.of()));
        assertTrue(nan.getMessage().contains("judge") && nan.getMessage().contains("NaN"), nan.getMessage());
        var both = assertThrows(IllegalArgumentException.class,
                () -> defaults.withScorers(Map.of("judge", 1.0), Map.of("judge", 1.0)));
        assertTrue(both.getMessage().contains("both required and optional"), both.getMessage());
        assertThrows(IllegalArgumentException.class, () -> defaults.withScorers(Map.of(), Map.of("judge", 1.0)));
        var timeout = assertThrows(IllegalArgumentException.class, () -> defaults.withGroupTimeout(Duration.ZERO));
        assertTrue(timeout.getMessage().contains("groupTimeout"), timeout.getMessage());
        assertThrows(IllegalArgumentException.class, () -> defaults.withOptionalGrace(Duration.ofSeconds(-1)));
        assertThrows(IllegalArgumentException.class, () -> defaults.withAdvantages(true, -1e-6));
        assertThrows(IllegalArgumentException.class, () -> defaults.withReplicationFactor(0));
        assertThrows(IllegalArgumentException.class, () -> defaults.withApplicationId("has space"));
        assertThrows(IllegalArgumentException.class, () -> RewardConfig.defaults(" "));
    }

    @Test
    void streamsRunExactlyOnceWithTheConfiguredSettings() {
        var props = RewardService.streamsProperties(defaults.withCommitInterval(Duration.ofMillis(50)).withReplicationFactor(1));
        assertEquals(StreamsConfig.EXACTLY_ONCE_V2, props.get(StreamsConfig.PROCESSING_GUARANTEE_CONFIG));
        assertEquals(50L, props.get(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG));
        assertEquals(10L, props.get(StreamsConfig.POLL_MS_CONFIG), "an idle thread looks at the commit clock well within the interval");
        assertEquals(1, props.get(StreamsConfig.REPLICATION_FACTOR_CONFIG));
        assertEquals("rlkafka-reward", props.get(StreamsConfig.APPLICATION_ID_CONFIG));
    }
}
