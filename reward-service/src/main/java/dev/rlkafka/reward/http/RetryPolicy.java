package dev.rlkafka.reward.http;

import java.time.Duration;

/**
 * When the HTTP scorer tries a rollout again: after a failure that may pass ({@link AttemptFailure#retryable()}),
 * at most {@code retries} times, waiting an exponentially growing, jittered delay in between.
 *
 * <p>Delay before retry {@code n} (1-based): {@code d = min(maxBackoff, backoff·2^(n−1))}, drawn uniformly from
 * {@code [d/2, d)} ("equal jitter"): exponential so a struggling server gets room, jittered so many rollouts that
 * failed together do not come back together, never below half so a retry is never immediate.
 *
 * @param retries    attempts after the first; 0 = never retry (default {@link #DEFAULT_RETRIES}); 0..100
 * @param backoff    delay scale of the first retry (default {@link #DEFAULT_BACKOFF}); &ge; 0
 * @param maxBackoff cap on the delay scale (default {@link #DEFAULT_MAX_BACKOFF}); &ge; {@code backoff}
 */
public record RetryPolicy(int retries, Duration backoff, Duration maxBackoff) {
    public static final int DEFAULT_RETRIES = 3;
    public static final Duration DEFAULT_BACKOFF = Duration.ofMillis(500);
    public static final Duration DEFAULT_MAX_BACKOFF = Duration.ofSeconds(30);
    static final int MAX_RETRIES = 100;

    public RetryPolicy {
        if (retries < 0 || retries > MAX_RETRIES) {
            throw new IllegalArgumentException("retries must be in [0, " + MAX_RETRIES + "], got " + retries);
        }
        if (backoff == null || backoff.isNegative()) throw new IllegalArgumentException("backoff must be >= 0, got " + backoff);
        if (maxBackoff == null || maxBackoff.compareTo(backoff) < 0) {
            throw new IllegalArgumentException("maxBackoff must be >= backoff (" + backoff + "), got " + maxBackoff);
        }
    }

    public static RetryPolicy defaults() {
        return new RetryPolicy(DEFAULT_RETRIES, DEFAULT_BACKOFF, DEFAULT_MAX_BACKOFF);
    }

    /** {@code retries} and {@code backoff}, capped at {@link #DEFAULT_MAX_BACKOFF} or {@code backoff} when that is longer. */
    public static RetryPolicy of(int retries, Duration backoff) {
        Duration cap = backoff != null && backoff.compareTo(DEFAULT_MAX_BACKOFF) > 0 ? backoff : DEFAULT_MAX_BACKOFF;
        return new RetryPolicy(retries, backoff, cap);
    }

    /** The first attempt and every retry. */
    public int maxAttempts() {
        return retries + 1;
    }

    /** Whether attempt number {@code attempt} (1-based), which failed with {@code failure}, is followed by another. */
    public boolean retryAfter(int attempt, AttemptFailure failure) {
        return failure.retryable() && attempt < maxAttempts();
    }

    /**
     * How long to wait before retry {@code retry} (1-based: the wait after the first attempt is retry 1).
     *
     * @param uniform a uniform random number in [0, 1), e.g. {@code ThreadLocalRandom.current().nextDouble()}
     */
    public Duration delayBefore(int retry, double uniform) {
        if (retry < 1) throw new IllegalArgumentException("retry is 1-based, got " + retry);
        if (!(uniform >= 0 && uniform < 1)) throw new IllegalArgumentException("uniform must be in [0, 1), got " + uniform);
        long scale = scaleNanos(retry);
        return Duration.ofNanos(scale / 2 + (long) (uniform * (scale - scale / 2)));
    }

    /** The longest {@link #delayBefore} can be: what a retry costs at worst. */
    public Duration maxDelayBefore(int retry) {
        return Duration.ofNanos(scaleNanos(retry));
    }

    private long scaleNanos(int retry) {
        long cap = maxBackoff.toNanos();
        long scale = backoff.toNanos();
        for (int i = 1; i < retry && scale < cap; i++) scale = scale > cap / 2 ? cap : scale * 2;  // no overflow
        return Math.min(scale, cap);
    }
}
