package dev.rlkafka.reward.http;

import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RetryPolicyTest {
    private final RetryPolicy policy = new RetryPolicy(5, Duration.ofMillis(100), Duration.ofMillis(500));

    @Test
    void delayDoublesPerRetryUpToTheCapAndJittersInTheUpperHalf() {
        // scale 100, 200, 400, 500 (capped), 500; the delay is in [scale/2, scale)
        long[] scales = {100, 200, 400, 500, 500};
        for (int retry = 1; retry <= scales.length; retry++) {
            long scale = scales[retry - 1];
            assertEquals(Duration.ofMillis(scale / 2), policy.delayBefore(retry, 0.0), "lowest delay before retry " + retry);
            Duration highest = policy.delayBefore(retry, Math.nextDown(1.0));
            assertTrue(highest.compareTo(Duration.ofMillis(scale)) < 0 && highest.compareTo(Duration.ofMillis(scale - 1)) >= 0,
                    "highest delay before retry " + retry + " is just under " + scale + " ms, got " + highest);
            assertEquals(Duration.ofMillis(scale), policy.maxDelayBefore(retry));
        }
        assertEquals(Duration.ofMillis(75), policy.delayBefore(1, 0.5));
    }

    @Test
    void hugeRetryNumbersStayAtTheCapWithoutOverflow() {
        RetryPolicy many = new RetryPolicy(100, Duration.ofSeconds(1), Duration.ofSeconds(30));
        assertEquals(Duration.ofSeconds(30), many.maxDelayBefore(100));
        assertEquals(Duration.ofSeconds(15), many.delayBefore(100, 0.0));
    }

    @Test
    void retriesOnlyWhatMayPassAndOnlyWhileAttemptsAreLeft() {
        assertTrue(policy.retryAfter(1, AttemptFailure.timeout("slow")));
        assertTrue(policy.retryAfter(5, AttemptFailure.connection("refused")), "attempt 5 of 6");
        assertFalse(policy.retryAfter(6, AttemptFailure.timeout("slow")), "6 attempts = 1 + 5 retries, all used");
        for (int status : new int[] {500, 502, 503, 504, 408, 429}) {
            assertTrue(policy.retryAfter(1, AttemptFailure.status(status, "")), "HTTP " + status + " may pass");
        }
        for (int status : new int[] {400, 401, 403, 404, 422, 301}) {
            assertFalse(policy.retryAfter(1, AttemptFailure.status(status, "")), "HTTP " + status + " will not pass");
        }
        assertFalse(policy.retryAfter(1, AttemptFailure.badResponse(200, "no score")), "garbage is the server's answer");
        assertEquals(1, new RetryPolicy(0, Duration.ZERO, Duration.ZERO).maxAttempts());
    }

    @Test
    void theCliFactoryCapsAtThirtySecondsUnlessTheBackoffIsLonger() {
        assertEquals(RetryPolicy.DEFAULT_MAX_BACKOFF, RetryPolicy.of(3, Duration.ofMillis(500)).maxBackoff());
        assertEquals(Duration.ofMinutes(1), RetryPolicy.of(3, Duration.ofMinutes(1)).maxBackoff());
    }

    @Test
    void rejectsSettingsThatMakeNoSense() {
        assertThrows(IllegalArgumentException.class, () -> new RetryPolicy(-1, Duration.ZERO, Duration.ZERO));
        assertThrows(IllegalArgumentException.class, () -> new RetryPolicy(101, Duration.ZERO, Duration.ZERO));
        assertThrows(IllegalArgumentException.class, () -> new RetryPolicy(1, Duration.ofMillis(-1), Duration.ZERO));
        var e = assertThrows(IllegalArgumentException.class, () -> new RetryPolicy(1, Duration.ofSeconds(2), Duration.ofSeconds(1)));
        assertTrue(e.getMessage().contains("maxBackoff"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> policy.delayBefore(0, 0.5));
        assertThrows(IllegalArgumentException.class, () -> policy.delayBefore(1, 1.0));
    }
}
