package dev.rlkafka.trainer;

/**
 * Which groups are fresh enough to train on. A group's staleness is the trainer's current policy
 * version minus the oldest policy version among its rollouts; a group is kept iff its staleness is at
 * most {@code maxStaleness}. Past that bound the importance ratio π_θ/π_behaviour drifts far from 1 and
 * the capped behaviour weight stops correcting the off-policy bias, so the group is dropped (and counted).
 *
 * @param maxStaleness policy versions a group may lag the trainer, >= 0; 0 = train on current-version rollouts only
 */
public record StalenessPolicy(int maxStaleness) {

    public StalenessPolicy {
        if (maxStaleness < 0) throw new IllegalArgumentException("maxStaleness must be >= 0, got " + maxStaleness);
    }

    /** currentVersion − oldestRolloutVersion; never negative for valid input (rollouts cannot come from the future). */
    public static long staleness(long currentVersion, long oldestRolloutVersion) {
        return currentVersion - oldestRolloutVersion;
    }

    public boolean keep(long staleness) {
        return staleness <= maxStaleness;
    }
}
