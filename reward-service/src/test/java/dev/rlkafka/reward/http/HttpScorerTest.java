package dev.rlkafka.reward.http;

import dev.rlkafka.reward.http.JudgeServer.Answer;
import dev.rlkafka.schemas.avro.Reward;
import dev.rlkafka.schemas.avro.Rollout;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link HttpScorer} against real local HTTP servers; no broker. */
class HttpScorerTest {
    /** Generous: a cold JVM on a busy CI machine takes a while for its first request; only the slow server hits it. */
    private static final Duration TIMEOUT = Duration.ofSeconds(5);
    private static final Duration SHORT_TIMEOUT = Duration.ofMillis(300);
    private static final RetryPolicy TWO_RETRIES = new RetryPolicy(2, Duration.ofMillis(10), Duration.ofMillis(50));
    private static final Rollout ROLLOUT = TestRollouts.rollout("g1", 0, 4, "42");
    private static final String SOURCE = "rl.rollouts-0@7";

    @Test
    void aGoodAnswerBecomesARewardOfThisScorerWithItsMetadata() throws Exception {
        try (JudgeServer server = JudgeServer.start((request, attempt) -> Answer.body(
                "{\"score\": 0.75, \"rationale\": \"right answer\", \"metadata\": {\"model\": \"judge-7b\", \"attempts\": \"lie\"}}"))) {
            var outcome = score(server.url(), TWO_RETRIES);
            var scored = assertInstanceOf(ScoringOutcome.Scored.class, outcome);
            Reward reward = scored.reward();
            assertEquals("g1/0", reward.getRolloutId());
            assertEquals("g1", reward.getGroupId());
            assertEquals("judge", reward.getScorerId());
            assertEquals(0.75, reward.getScore());
            assertEquals("right answer", reward.getRationale());
            assertEquals("judge-7b", reward.getMetadata().get("model"), "the server's metadata is kept");
            assertEquals("1", reward.getMetadata().get("attempts"), "ours win over the server's");
            assertEquals("http", reward.getMetadata().get("source"));
            assertEquals(server.url().toString(), reward.getMetadata().get("url"));
            assertEquals("200", reward.getMetadata().get("http_status"));
            assertEquals(Long.toString(scored.latencyMs()), reward.getMetadata().get("latency_ms"));
            assertEquals("42", server.requests().get(0).get("completion").asText());
        }
    }

    @Test
    void retriesA5xxUntilTheServerRecovers() throws Exception {
        try (JudgeServer server = JudgeServer.start((request, attempt) -> attempt <= 2 ? Answer.status(503) : Answer.score(1))) {
            var scored = assertInstanceOf(ScoringOutcome.Scored.class, score(server.url(), TWO_RETRIES));
            assertEquals(3, scored.attempts());
            assertEquals("3", scored.reward().getMetadata().get("attempts"));
            assertEquals(3, server.attempts("g1/0"));
        }
    }

    @Test
    void givesUpAfterTheLastRetryNamingUrlRolloutAndEveryAttempt() throws Exception {
        try (JudgeServer server = JudgeServer.start((request, attempt) -> attempt == 1 ? Answer.status(500) : Answer.status(503))) {
            var failed = assertInstanceOf(ScoringOutcome.Failed.class, score(server.url(), TWO_RETRIES));
            assertEquals(3, failed.attempts());
            assertEquals(3, server.attempts("g1/0"));
            assertEquals("SCORER_HTTP_STATUS", failed.errorType());
            String reason = failed.reason();
            for (String part : List.of("judge", server.url().toString(), "g1/0", SOURCE, "3 attempt(s)", "HTTP 503",
                    "[HTTP 500, HTTP 503, HTTP 503]", "scripted 503")) {
                assertTrue(reason.contains(part), "reason names " + part + ": " + reason);
            }
        }
    }

    @Test
    void garbageAndClientErrorsAreNotRetried() throws Exception {
        try (JudgeServer garbage = JudgeServer.start((request, attempt) -> Answer.body("<html>judge is thinking</html>"));
             JudgeServer badRequest = JudgeServer.start((request, attempt) -> Answer.status(400))) {
            var failed = assertInstanceOf(ScoringOutcome.Failed.class, score(garbage.url(), TWO_RETRIES));
            assertEquals("SCORER_BAD_RESPONSE", failed.errorType());
            assertEquals(1, failed.attempts(), failed.reason());
            assertEquals(1, garbage.attempts("g1/0"));
            assertTrue(failed.reason().contains("<html>judge is thinking</html>"), failed.reason());

            failed = assertInstanceOf(ScoringOutcome.Failed.class, score(badRequest.url(), TWO_RETRIES));
            assertEquals("SCORER_HTTP_STATUS", failed.errorType());
            assertEquals(1, badRequest.attempts("g1/0"));
        }
    }

    @Test
    void anAnswerOverTheSizeLimitIsABadAnswerWhetherOrNotItSaysItsLength() throws Exception {
        String huge = "{\"score\": 1, \"rationale\": \"" + "x".repeat((int) HttpScorer.MAX_RESPONSE_BYTES) + "\"}";
        try (JudgeServer declared = JudgeServer.start((request, attempt) -> Answer.body(huge));
             JudgeServer chunked = JudgeServer.start((request, attempt) -> Answer.body(huge).withoutLength())) {
            for (JudgeServer server : List.of(declared, chunked)) {
                var failed = assertInstanceOf(ScoringOutcome.Failed.class, score(server.url(), TWO_RETRIES));
                assertEquals("SCORER_BAD_RESPONSE", failed.errorType());
                assertEquals(1, failed.attempts(), "not retried: " + failed.reason());
                assertTrue(failed.reason().contains("larger than " + HttpScorer.MAX_RESPONSE_BYTES + " bytes"), failed.reason());
                assertTrue(failed.reason().contains(server == declared ? "Content-Length" : "received"), failed.reason());
            }
            // just under the limit is still an answer
            String fits = "{\"score\": 1, \"rationale\": \"" + "x".repeat((int) HttpScorer.MAX_RESPONSE_BYTES - 32) + "\"}";
            try (JudgeServer big = JudgeServer.start((request, attempt) -> Answer.body(fits).withoutLength())) {
                assertInstanceOf(ScoringOutcome.Scored.class, score(big.url(), TWO_RETRIES));
            }
        }
    }

    @Test
    void aServerSlowerThanTheTimeoutFailsEveryAttemptAsATimeout() throws Exception {
        try (JudgeServer slow = JudgeServer.start((request, attempt) -> Answer.score(1).after(Duration.ofSeconds(30)));
             HttpScorer scorer = new HttpScorer(slow.url(), "judge", SHORT_TIMEOUT, new RetryPolicy(1, Duration.ofMillis(10), Duration.ofMillis(10)))) {
            var failed = assertInstanceOf(ScoringOutcome.Failed.class, scorer.score(ROLLOUT, SOURCE).get(30, TimeUnit.SECONDS));
            assertEquals("SCORER_TIMEOUT", failed.errorType());
            assertEquals(2, failed.attempts());
            assertEquals(2, slow.attempts("g1/0"));
            assertTrue(failed.reason().contains("no answer within " + SHORT_TIMEOUT), failed.reason());
        }
    }

    @Test
    void aDeadServerIsUnreachable() throws Exception {
        var failed = assertInstanceOf(ScoringOutcome.Failed.class, score(JudgeServer.deadUrl(), TWO_RETRIES));
        assertEquals(3, failed.attempts());
        assertTrue(failed.errorType().equals("SCORER_UNREACHABLE") || failed.errorType().equals("SCORER_TIMEOUT"), failed.reason());
    }

    private static ScoringOutcome score(URI url, RetryPolicy retryPolicy) throws Exception {
        try (HttpScorer scorer = new HttpScorer(url, "judge", TIMEOUT, retryPolicy)) {
            return scorer.score(ROLLOUT, SOURCE).get(30, TimeUnit.SECONDS);
        }
    }
}
