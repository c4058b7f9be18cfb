package dev.rlkafka.policy.loss;

import ai.djl.ndarray.NDArray;

/** The KL to the reference every algorithm reports, so runs of GRPO, PPO and DPO compare on one number. */
public final class Kl {

    private Kl() {}

    /**
     * Masked mean of the k3 estimator {@code e^x − x − 1}, {@code x = log π_ref − log π_θ} at the sampled tokens
     * (Schulman 2020, "Approximating KL divergence"): unbiased for KL(π_θ‖π_ref) on tokens sampled from π_θ, and ≥ 0.
     * The same estimate GRPO's loss penalises.
     *
     * @param logp    (B, T) log π_θ of the sampled tokens
     * @param refLogp (B, T) log π_ref of the same tokens
     * @param mask    (B, T) 1 on completion tokens
     */
    public static float meanK3(NDArray logp, NDArray refLogp, NDArray mask) {
        mask = Masked.checkedMask(mask, logp);
        Masked.requireSameShape("refLogp", refLogp, logp);
        NDArray logRefRatio = Masked.zeroOutside(refLogp.sub(logp), mask);
        return Masked.mean(logRefRatio.exp().sub(logRefRatio).sub(1), mask).getFloat();
    }
}
