package dev.rlkafka.reward.human;

import java.time.Instant;
import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;

/**
 * A rollout reserved for one rater until {@code expiresAt}; nobody else is offered it meanwhile.
 *
 * @param otherScores scorer id → score of the rewards other scorers gave this rollout so far
 */
public record Lease(WaitingRollout rollout, String rater, Instant expiresAt, Map<String, Double> otherScores) {
    public Lease {
        otherScores = Collections.unmodifiableMap(new TreeMap<>(otherScores));   // by scorer id, as the page lists them
    }
}
