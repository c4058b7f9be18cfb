package dev.rlkafka.reward.human;

/** A rating or skip the queue turns down; {@link #reason()} says which rule, the message names the rollout and rater. */
public final class RatingRefusedException extends Exception {
    private static final long serialVersionUID = 1L;

    /** Why a rating or skip was refused. */
    public enum Reason {
        /** No such rollout is waiting: never seen, or dropped from a full queue. */
        UNKNOWN_ROLLOUT,
        /** The rollout already has this scorer's reward, or one is being written. */
        ALREADY_RATED,
        /** Another rater holds a live lease on it. */
        LEASED_TO_ANOTHER_RATER
    }

    private final Reason reason;

    RatingRefusedException(Reason reason, String message) {
        super(message);
        this.reason = reason;
    }

    public Reason reason() {
        return reason;
    }
}
