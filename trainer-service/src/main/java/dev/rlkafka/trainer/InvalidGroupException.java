package dev.rlkafka.trainer;

/** A scored group that cannot be trained on; the adapter dead-letters it with {@link #errorType()} and goes on. */
public final class InvalidGroupException extends Exception {
    /** Rollouts, rewards, advantages and scores disagree in length, or the group is empty. */
    public static final String GROUP_SIZE_MISMATCH = "GROUP_SIZE_MISMATCH";
    /** A rollout the model cannot take: empty, token out of vocabulary, longer than the context, bad log-probs. */
    public static final String UNTRAINABLE_ROLLOUT = "UNTRAINABLE_ROLLOUT";
    /** A non-finite advantage. */
    public static final String NON_FINITE_ADVANTAGE = "NON_FINITE_ADVANTAGE";
    /** A non-finite reward (PPO's return and DPO's ranking are built from it). */
    public static final String NON_FINITE_REWARD = "NON_FINITE_REWARD";
    /** A rollout claims a policy version the trainer has not published yet. */
    public static final String FUTURE_POLICY_VERSION = "FUTURE_POLICY_VERSION";

    private final String errorType;

    public InvalidGroupException(String errorType, String message) {
        super(message);
        this.errorType = errorType;
    }

    public String errorType() {
        return errorType;
    }
}
