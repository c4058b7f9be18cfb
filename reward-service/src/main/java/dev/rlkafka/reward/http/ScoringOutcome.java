package dev.rlkafka.reward.http;

import dev.rlkafka.schemas.avro.Reward;

import java.util.List;

/** What became of one rollout at the HTTP scorer: a reward to write, or a failure to dead-letter. */
public sealed interface ScoringOutcome {
    /** Attempts made, the first included. */
    int attempts();

    /** The server answered with a valid score, {@code latencyMs} after the first attempt began. */
    record Scored(Reward reward, int attempts, long latencyMs) implements ScoringOutcome {
    }

    /**
     * Every attempt failed, or one failed in a way a retry would not fix.
     *
     * @param failures one per attempt, in order; the last decides the error type
     * @param reason   the dead letter's reason: URL, rollout, attempts and what each failure was
     */
    record Failed(List<AttemptFailure> failures, String reason) implements ScoringOutcome {
        public Failed {
            if (failures == null || failures.isEmpty()) throw new IllegalArgumentException("a failed outcome needs its failures");
            failures = List.copyOf(failures);
        }

        @Override
        public int attempts() {
            return failures.size();
        }

        /** The dead letter's error type: that of the last attempt's failure. */
        public String errorType() {
            return failures.get(failures.size() - 1).kind().errorType();
        }
    }
}
