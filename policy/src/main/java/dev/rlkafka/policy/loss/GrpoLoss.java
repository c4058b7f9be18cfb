package dev.rlkafka.policy.loss;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.rlkafka.policy.model.Scale;

/**
 * GRPO's clipped surrogate in its decoupled form (Hilton et al. 2022, "Batch size-invariance for policy
 * optimization"; AReaL): the clip trusts a region around the <em>proximal</em> policy (this policy before the
 * update), while a separate, capped weight {@code π_prox/π_behav} corrects for rollouts sampled by an older
 * policy version. With proximal = behaviour (on-policy) the weight is 1 and this is standard GRPO/PPO.
 */
public final class GrpoLoss {

    private GrpoLoss() {}

    /**
     * The loss and its diagnostics. The diagnostics are copied out as floats while the step's arrays are alive,
     * so they outlive the step's sub-manager; {@code loss} does not and is for {@code backward} only.
     *
     * @param loss                scalar, differentiable w.r.t. {@code logp}
     * @param meanKl              masked mean of the k3 KL estimate, ≥ 0
     * @param clipFraction        fraction of completion tokens with |ρ − 1| > ε, as in CleanRL's {@code clipfrac}
     * @param meanRatio           masked mean of ρ = π_θ/π_prox; 1 on the first pass over a batch
     * @param meanBehaviourWeight masked mean of the capped weight π_prox/π_behav; far from 1 means stale rollouts
     */
    public record Result(NDArray loss, float meanKl, float clipFraction, float meanRatio, float meanBehaviourWeight) {
        public Result {
            if (loss == null || !loss.getShape().isScalar()) {
                throw new IllegalArgumentException("loss must be a scalar array, got " + (loss == null ? null : loss.getShape()));
            }
        }
    }

    /**
     * @param logp          (B, T) log π_θ of each sampled token, differentiable
     * @param proximalLogp  (B, T) log π_prox: this policy before the current update (detached here)
     * @param behaviourLogp (B, T) log π_behav recorded by the generator at sampling time
     * @param refLogp       (B, T) log π_ref of the frozen SFT reference (detached here)
     * @param advantages    (B) one per rollout, or (B, T) per token
     * @param mask          (B, T) 1 on completion tokens, 0 on prompt and padding (which may hold any value)
     */
    public static Result compute(NDArray logp, NDArray proximalLogp, NDArray behaviourLogp, NDArray refLogp,
                                 NDArray advantages, NDArray mask, GrpoConfig config) {
        mask = Masked.checkedMask(mask, logp);
        Masked.requireSameShape("proximalLogp", proximalLogp, logp);
        Masked.requireSameShape("behaviourLogp", behaviourLogp, logp);
        Masked.requireSameShape("refLogp", refLogp, logp);
        // advantages built from double[] arrive as float64 and would silently promote the whole loss
        advantages = perToken(advantages, logp.getShape()).toType(logp.getDataType(), false).stopGradient();
        NDArray prox = proximalLogp.stopGradient();
        double clipEps = config.clipEps(), beta = config.beta();

        // L = −Σ mask·(w·min(ρA, clip(ρ, 1−ε, 1+ε)A) − β·kl) / Σ mask,  ρ = π_θ/π_prox,  w = min(π_prox/π_behav, cap)
        NDArray ratio = Masked.zeroOutside(logp.sub(prox), mask).exp();
        NDArray behaviourWeight = Masked.zeroOutside(prox.sub(behaviourLogp), mask).exp().minimum(config.behaviourCap()).stopGradient();
        NDArray surrogate = ratio.mul(advantages).minimum(ratio.clip(1 - clipEps, 1 + clipEps).mul(advantages)).mul(behaviourWeight);
        NDArray logRefRatio = Masked.zeroOutside(refLogp.stopGradient().sub(logp), mask);
        NDArray kl = logRefRatio.exp().sub(logRefRatio).sub(1);              // k3 estimator of KL(π_θ‖π_ref), ≥ 0
        NDArray loss = Masked.mean(surrogate.sub(Scale.by(kl, beta)), mask).neg();

        NDArray clipped = ratio.sub(1).abs().gt(clipEps).toType(DataType.FLOAT32, false);
        return new Result(loss,
                Masked.mean(kl, mask).getFloat(),
                Masked.mean(clipped, mask).getFloat(),
                Masked.mean(ratio, mask).getFloat(),
                Masked.mean(behaviourWeight, mask).getFloat());
    }

    /** (B) → (B, 1) so it broadcasts over tokens; (B, T) as is. */
    private static NDArray perToken(NDArray advantages, Shape tokens) {
        Shape shape = advantages.getShape();
        if (shape.equals(new Shape(tokens.get(0)))) return advantages.reshape(tokens.get(0), 1);
        if (shape.equals(tokens)) return advantages;
        throw new IllegalArgumentException("advantages must be (B) = (" + tokens.get(0) + ") or (B, T) = " + tokens + ", got " + shape);
    }
}
