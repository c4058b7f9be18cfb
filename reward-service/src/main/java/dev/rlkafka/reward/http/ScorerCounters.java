package dev.rlkafka.reward.http;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.AtomicLong;

/** What one HTTP scorer has done since it started; written to {@code rl.metrics}, readable from any thread. */
final class ScorerCounters {
    private final AtomicLong scored = new AtomicLong();
    private final AtomicLong retries = new AtomicLong();
    private final AtomicLong latencyMsSum = new AtomicLong();
    private final Map<String, AtomicLong> deadLettersByType = new ConcurrentSkipListMap<>();

    /** A reward was written after {@code attempts} attempts, {@code latencyMs} after the first. */
    void scored(int attempts, long latencyMs) {
        scored.incrementAndGet();
        retries.addAndGet(attempts - 1);
        latencyMsSum.addAndGet(latencyMs);
    }

    /** A rollout was dead-lettered after {@code attempts} attempts (0 when it was not sent at all). */
    void deadLettered(String errorType, int attempts) {
        deadLettersByType.computeIfAbsent(errorType, t -> new AtomicLong()).incrementAndGet();
        retries.addAndGet(Math.max(0, attempts - 1));
    }

    long scored() {
        return scored.get();
    }

    long deadLetters() {
        return deadLettersByType.values().stream().mapToLong(AtomicLong::get).sum();
    }

    long deadLetters(String errorType) {
        AtomicLong n = deadLettersByType.get(errorType);
        return n == null ? 0 : n.get();
    }

    long retries() {
        return retries.get();
    }

    /**
     * {@code scored}, {@code dead_letters}, {@code dead_letters_<type>} (lower case), {@code retries},
     * {@code latency_ms_mean} (of scored rollouts; 0 before any) and {@code in_flight}.
     */
    Map<String, Double> values(int inFlight) {
        Map<String, Double> values = new LinkedHashMap<>();
        long n = scored.get();
        values.put("scored", (double) n);
        values.put("dead_letters", (double) deadLetters());
        deadLettersByType.forEach((type, count) -> values.put("dead_letters_" + type.toLowerCase(Locale.ROOT), (double) count.get()));
        values.put("retries", (double) retries.get());
        values.put("latency_ms_mean", n == 0 ? 0.0 : (double) latencyMsSum.get() / n);
        values.put("in_flight", (double) inFlight);
        return values;
    }
}
