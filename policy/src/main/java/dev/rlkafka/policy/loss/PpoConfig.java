package dev.rlkafka.policy.loss;

/**
 * Settings of PPO's advantages ({@link Gae}) and losses ({@link PpoLoss}).
 *
 * @param clipEps          ε of the clipped ratio, in (0, 1); 0.2 as in PPO
 * @param valueClipEps     ε_v: how far the new value may move from the old one before the value loss clips, > 0;
 *                         0.2 as CleanRL (rewards here are O(1))
 * @param beta             β of the per-token KL penalty in the shaped reward, ≥ 0; 0.04 like GRPO's KL weight
 * @param gamma            discount γ in [0, 1]; 1: a rollout is a few tokens and only its end is rewarded
 * @param lambda           GAE λ in [0, 1]; 0.95 as TRL and CleanRL
 * @param entropyCoef      c_H ≥ 0, weight of the entropy bonus; 0 (off) as is usual when fine-tuning language models,
 *                         where the KL penalty already keeps the policy from collapsing
 * @param behaviourCap     cap on the behaviour weight π_prox/π_behav for stale rollouts, ≥ 1 (see {@link GrpoConfig})
 * @param whitenAdvantages normalise advantages over the batch's tokens to mean 0, std 1
 */
public record PpoConfig(double clipEps, double valueClipEps, double beta, double gamma, double lambda, double entropyCoef,
                        double behaviourCap, boolean whitenAdvantages) {

    public static final double DEFAULT_CLIP_EPS = 0.2;
    public static final double DEFAULT_VALUE_CLIP_EPS = 0.2;
    public static final double DEFAULT_BETA = 0.04;
    public static final double DEFAULT_GAMMA = 1.0;
    public static final double DEFAULT_LAMBDA = 0.95;
    public static final double DEFAULT_ENTROPY_COEF = 0.0;
    public static final PpoConfig DEFAULT = new PpoConfig(DEFAULT_CLIP_EPS, DEFAULT_VALUE_CLIP_EPS, DEFAULT_BETA, DEFAULT_GAMMA,
            DEFAULT_LAMBDA, DEFAULT_ENTROPY_COEF, GrpoConfig.DEFAULT_BEHAVIOUR_CAP, true);

    public PpoConfig {
        if (!(clipEps > 0 && clipEps < 1)) throw new IllegalArgumentException("clipEps must be in (0, 1), got " + clipEps);
        if (!(valueClipEps > 0 && Double.isFinite(valueClipEps))) {
            throw new IllegalArgumentException("valueClipEps must be finite and > 0, got " + valueClipEps);
        }
        if (!(beta >= 0 && Double.isFinite(beta))) throw new IllegalArgumentException("beta must be finite and >= 0, got " + beta);
        if (!(gamma >= 0 && gamma <= 1)) throw new IllegalArgumentException("gamma must be in [0, 1], got " + gamma);
        if (!(lambda >= 0 && lambda <= 1)) throw new IllegalArgumentException("lambda must be in [0, 1], got " + lambda);
        if (!(entropyCoef >= 0 && Double.isFinite(entropyCoef))) {
            throw new IllegalArgumentException("entropyCoef must be finite and >= 0, got " + entropyCoef);
        }
        if (!(behaviourCap >= 1 && Double.isFinite(behaviourCap))) {
            throw new IllegalArgumentException("behaviourCap must be finite and >= 1, got " + behaviourCap);
        }
    }

    public PpoConfig withBeta(double beta) {
        return new PpoConfig(clipEps, valueClipEps, beta, gamma, lambda, entropyCoef, behaviourCap, whitenAdvantages);
    }
}
