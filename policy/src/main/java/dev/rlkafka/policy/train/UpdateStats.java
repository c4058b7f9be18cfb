package dev.rlkafka.policy.train;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What one update did, in the terms every algorithm shares; scalars copied out of the step's arrays.
 *
 * @param loss         the algorithm's loss (PPO: the policy's; the value loss is a diagnostic)
 * @param kl           masked mean k3 estimate of KL(π_θ‖π_ref) over the completion tokens the update forwarded
 *                     (DPO: the pairs' tokens), before the step
 * @param clipFraction fraction of tokens whose ratio was clipped; 0 for DPO, which has no ratio
 * @param gradNorm     the policy's global gradient norm before clipping; NaN when no step was taken
 * @param rollouts     rollouts trained on (DPO: two per preference pair)
 * @param tokens       completion tokens of those rollouts
 * @param diagnostics  algorithm-specific numbers by metric name, e.g. {@code value_loss}, {@code pairs}, {@code dpo_margin}
 */
public record UpdateStats(float loss, float kl, float clipFraction, double gradNorm, int rollouts, int tokens,
                          Map<String, Double> diagnostics) {
    public UpdateStats {
        diagnostics = Collections.unmodifiableMap(new LinkedHashMap<>(diagnostics));
    }
}
