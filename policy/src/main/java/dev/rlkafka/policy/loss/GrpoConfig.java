package dev.rlkafka.policy.loss;

/**
 * Settings of {@link GrpoLoss}.
 *
 * @param clipEps      ε of the clipped ratio {@code clip(ρ, 1−ε, 1+ε)}, in (0, 1); PPO's 0.2
 * @param beta         β, weight of the KL penalty to the reference policy, ≥ 0; 0.04 as in DeepSeekMath's GRPO
 * @param behaviourCap cap on the behaviour weight {@code π_prox/π_behav}, ≥ 1 so on-policy tokens (weight 1)
 *                     are never down-weighted. 2 by default: rollouts a few versions stale at RL learning rates
 *                     have per-token weights near 1, so the cap only trims the rare tokens the sampler drew at
 *                     low probability that the policy now likes, whose uncapped weight would let one token
 *                     dominate a batch (truncated importance sampling; larger caps trade bias for variance)
 */
public record GrpoConfig(double clipEps, double beta, double behaviourCap) {

    public static final double DEFAULT_CLIP_EPS = 0.2;
    public static final double DEFAULT_BETA = 0.04;
    public static final double DEFAULT_BEHAVIOUR_CAP = 2.0;
    public static final GrpoConfig DEFAULT = new GrpoConfig(DEFAULT_CLIP_EPS, DEFAULT_BETA, DEFAULT_BEHAVIOUR_CAP);

    public GrpoConfig {
        if (!(clipEps > 0 && clipEps < 1)) throw new IllegalArgumentException("clipEps must be in (0, 1), got " + clipEps);
        if (!(beta >= 0 && Double.isFinite(beta))) throw new IllegalArgumentException("beta must be finite and >= 0, got " + beta);
        if (!(behaviourCap >= 1 && Double.isFinite(behaviourCap))) {
            throw new IllegalArgumentException("behaviourCap must be finite and >= 1, got " + behaviourCap);
        }
    }
}
