package dev.rlkafka.reward.http;

import dev.rlkafka.schemas.Topics;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HttpScorerConfigTest {
    private static final URI URL = URI.create("http://judge.local:8000/score");

    @Test
    void eachScorerAndRunGetsItsOwnConsumerGroup() {
        var config = HttpScorerConfig.defaults("localhost:9092", URL, "judge");
        assertEquals("rlkafka-scorer-judge", config.groupId());
        assertEquals("run-7.rlkafka-scorer-judge", config.withTopics(Topics.withPrefix("run-7.")).groupId());
        assertEquals("mine", config.withGroupId("mine").withTopics(Topics.withPrefix("run-7.")).groupId(), "a chosen group stays");
    }

    @Test
    void worstCaseLatencyIsEveryAttemptTimingOutPlusTheLongestBackOffs() {
        var config = HttpScorerConfig.defaults("localhost:9092", URL, "judge").withTimeout(Duration.ofSeconds(2))
                .withRetryPolicy(new RetryPolicy(2, Duration.ofMillis(100), Duration.ofSeconds(1)));
        assertEquals(Duration.ofMillis(3 * 2000 + 100 + 200), config.worstCaseLatency());
    }

    @Test
    void rejectsBadSettingsByName() {
        var config = HttpScorerConfig.defaults("localhost:9092", URL, "judge");
        assertMessage("url", () -> HttpScorerConfig.defaults("localhost:9092", URI.create("ftp://x/score"), "judge"));
        assertMessage("url", () -> HttpScorerConfig.defaults("localhost:9092", URI.create("/score"), "judge"));
        assertMessage("scorerId", () -> HttpScorerConfig.defaults("localhost:9092", URL, "my judge"));
        assertMessage("bootstrap", () -> HttpScorerConfig.defaults(" ", URL, "judge"));
        assertMessage("concurrency", () -> config.withConcurrency(0));
        assertMessage("timeout", () -> config.withTimeout(Duration.ZERO));
        assertMessage("drainTimeout", () -> config.withDrainTimeout(Duration.ofSeconds(-1)));
    }

    private static void assertMessage(String name, org.junit.jupiter.api.function.Executable build) {
        var e = assertThrows(IllegalArgumentException.class, build);
        assertTrue(e.getMessage().startsWith(name + " "), "message names " + name + ": " + e.getMessage());
    }
}
