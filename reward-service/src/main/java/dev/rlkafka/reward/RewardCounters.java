package dev.rlkafka.reward;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/** What one stream task of the reward-service has done since it started; written to {@code rl.metrics}. */
final class RewardCounters {
    private long groupsEmitted;
    private long groupsExpired;
    private long waitMsSum;
    private long builtInEchoes;
    private final Map<String, Long> deadLettersByType = new TreeMap<>();

    /** A group was emitted {@code waitMs} after its first record. */
    void emitted(long waitMs) {
        groupsEmitted++;
        waitMsSum += waitMs;
    }

    /** A built-in reward came back from rl.rewards; it was applied when written. */
    void builtInEcho() {
        builtInEchoes++;
    }

    void expired() {
        groupsExpired++;
    }

    void deadLetter(String errorType) {
        deadLettersByType.merge(errorType, 1L, Long::sum);
    }

    long deadLetters(String errorType) {
        return deadLettersByType.getOrDefault(errorType, 0L);
    }

    /**
     * {@code groups_emitted}, {@code groups_expired}, {@code group_wait_ms_mean} (first record to emission;
     * 0 before any), {@code builtin_echoes}, {@code dead_letters} and {@code dead_letters_<type>} (type in lower case).
     */
    Map<String, Double> values() {
        Map<String, Double> values = new LinkedHashMap<>();
        values.put("groups_emitted", (double) groupsEmitted);
        values.put("groups_expired", (double) groupsExpired);
        values.put("group_wait_ms_mean", groupsEmitted == 0 ? 0.0 : (double) waitMsSum / groupsEmitted);
        values.put("builtin_echoes", (double) builtInEchoes);
        values.put("dead_letters", (double) deadLettersByType.values().stream().mapToLong(Long::longValue).sum());
        deadLettersByType.forEach((type, n) -> values.put("dead_letters_" + type.toLowerCase(Locale.ROOT), (double) n));
        return values;
    }
}
