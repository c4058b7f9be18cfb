package dev.rlkafka.policy.loss;

/**
 * Settings of {@link DpoLoss}.
 *
 * @param beta β > 0, the inverse temperature of the implicit reward β·log(π/π_ref): larger keeps the policy
 *             closer to the reference; 0.1 as in the DPO paper and online DPO (Guo et al. 2024)
 */
public record DpoConfig(double beta) {

    public static final double DEFAULT_BETA = 0.1;
    public static final DpoConfig DEFAULT = new DpoConfig(DEFAULT_BETA);

    public DpoConfig {
        if (!(beta > 0 && Double.isFinite(beta))) throw new IllegalArgumentException("beta must be finite and > 0, got " + beta);
    }
}
