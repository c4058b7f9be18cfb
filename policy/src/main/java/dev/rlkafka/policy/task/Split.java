package dev.rlkafka.policy.task;

/** Which part of a task's problem space prompts come from; the two never share a problem. */
public enum Split {
    /** Problems for SFT demonstrations and RL prompts. */
    TRAIN,
    /** A fixed tenth of the problem space that {@link Split#TRAIN} never emits, for evaluation. */
    HELD_OUT;

    /** One problem in this many is held out. */
    static final int HELD_OUT_ONE_IN = 10;

    /**
     * The split a problem belongs to, from a key that identifies the problem within its task.
     * A hash, not a range, so held-out problems look like training ones (same digits, carries, lengths)
     * and the split never depends on seeds or counts.
     */
    static Split of(long problemKey) {
        // SplitMix64 finaliser: every key bit affects the remainder
        long h = problemKey + 0x9E3779B97F4A7C15L;
        h = (h ^ (h >>> 30)) * 0xBF58476D1CE4E5B9L;
        h = (h ^ (h >>> 27)) * 0x94D049BB133111EBL;
        h ^= h >>> 31;
        return Long.remainderUnsigned(h, HELD_OUT_ONE_IN) == 0 ? HELD_OUT : TRAIN;
    }

    /** Lower-case name used in prompt ids, e.g. {@code "held_out"}. */
    String id() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
