package dev.rlkafka.policy.loss;

import ai.djl.ndarray.NDArray;

/** Masked next-token negative log-likelihood, the supervised fine-tuning loss. */
public final class SftLoss {

    private SftLoss() {}

    /**
     * Token-level mean NLL over the completion, so long and short demonstrations weigh per token.
     *
     * @param logp (B, T) log-probability of each target token under the model, differentiable
     * @param mask (B, T) 1 on completion tokens, 0 on prompt and padding
     * @return scalar loss, attached to {@code logp}'s manager
     */
    public static NDArray compute(NDArray logp, NDArray mask) {
        mask = Masked.checkedMask(mask, logp);
        // L = −Σ mask·logp / Σ mask
        return Masked.mean(logp, mask).neg();
    }
}
