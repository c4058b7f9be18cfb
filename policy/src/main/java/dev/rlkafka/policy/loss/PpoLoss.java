package dev.rlkafka.policy.loss;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import dev.rlkafka.policy.model.Scale;

/**
 * PPO's two losses (Schulman et al. 2017), one per model: the clipped surrogate with per-token GAE advantages
 * and an optional entropy bonus for the policy, and the clipped value loss for the critic. The KL to the
 * reference is not here: PPO for language models pays it inside the reward ({@link Gae#shapedRewards}).
 * The ratio is decoupled from staleness as in {@link GrpoLoss}: ρ = π_θ/π_prox is clipped, the capped weight
 * π_prox/π_behav corrects for rollouts sampled by an older policy version.
 */
public final class PpoLoss {

    private PpoLoss() {}

    /**
     * The policy loss and its diagnostics (scalars copied out while the step's arrays are alive).
     *
     * @param clipFraction        fraction of completion tokens with |ρ − 1| > ε
     * @param meanRatio           masked mean of ρ; 1 on the first pass over a batch
     * @param meanBehaviourWeight masked mean of the capped weight π_prox/π_behav
     * @param meanEntropy         masked mean entropy of the policy at the completion tokens' states, nats
     */
    public record PolicyResult(NDArray loss, float clipFraction, float meanRatio, float meanBehaviourWeight, float meanEntropy) {
        public PolicyResult {
            requireScalar(loss);
        }
    }

    /**
     * @param valueClipFraction fraction of completion tokens whose value moved more than ε_v from the old value
     * @param meanValue         masked mean of V
     */
    public record ValueResult(NDArray loss, float valueClipFraction, float meanValue) {
        public ValueResult {
            requireScalar(loss);
        }
    }

    /**
     * @param logp          (B, T) log π_θ of each sampled token, differentiable
     * @param proximalLogp  (B, T) log π_prox: this policy before the current update (detached here)
     * @param behaviourLogp (B, T) log π_behav recorded by the generator at sampling time
     * @param advantages    (B, T) per-token advantages (GAE), constants
     * @param entropy       (B, T) the policy's entropy at each token's state, differentiable
     * @param mask          (B, T) 1 on completion tokens, 0 on padding (which may hold any value)
     */
    public static PolicyResult policy(NDArray logp, NDArray proximalLogp, NDArray behaviourLogp, NDArray advantages,
                                      NDArray entropy, NDArray mask, PpoConfig config) {
        mask = Masked.checkedMask(mask, logp);
        Masked.requireSameShape("proximalLogp", proximalLogp, logp);
        Masked.requireSameShape("behaviourLogp", behaviourLogp, logp);
        Masked.requireSameShape("advantages", advantages, logp);
        Masked.requireSameShape("entropy", entropy, logp);
        advantages = advantages.toType(logp.getDataType(), false).stopGradient();
        NDArray prox = proximalLogp.stopGradient();
        double clipEps = config.clipEps();

        // L = −Σ mask·(w·min(ρA, clip(ρ, 1−ε, 1+ε)A) + c_H·H) / Σ mask,  ρ = π_θ/π_prox,  w = min(π_prox/π_behav, cap)
        NDArray ratio = Masked.zeroOutside(logp.sub(prox), mask).exp();
        NDArray behaviourWeight = Masked.zeroOutside(prox.sub(behaviourLogp), mask).exp().minimum(config.behaviourCap()).stopGradient();
        NDArray surrogate = ratio.mul(advantages).minimum(ratio.clip(1 - clipEps, 1 + clipEps).mul(advantages)).mul(behaviourWeight);
        NDArray loss = Masked.mean(surrogate.add(Scale.by(entropy, config.entropyCoef())), mask).neg();

        NDArray clipped = ratio.sub(1).abs().gt(clipEps).toType(DataType.FLOAT32, false);
        return new PolicyResult(loss,
                Masked.mean(clipped, mask).getFloat(),
                Masked.mean(ratio, mask).getFloat(),
                Masked.mean(behaviourWeight, mask).getFloat(),
                Masked.mean(entropy, mask).getFloat());
    }

    /**
     * @param values    (B, T) V(s_t) of the critic, differentiable
     * @param oldValues (B, T) V_old(s_t): the critic before this update, the values GAE used (detached here)
     * @param returns   (B, T) value targets A_t + V_old(s_t), constants
     * @param mask      (B, T) 1 on completion tokens
     */
    public static ValueResult value(NDArray values, NDArray oldValues, NDArray returns, NDArray mask, PpoConfig config) {
        mask = Masked.checkedMask(mask, values);
        Masked.requireSameShape("oldValues", oldValues, values);
        Masked.requireSameShape("returns", returns, values);
        NDArray old = oldValues.stopGradient();
        returns = returns.toType(values.getDataType(), false).stopGradient();
        double eps = config.valueClipEps();

        // L^V = ½·Σ mask·max((V − R)², (V_old + clip(V − V_old, −ε_v, ε_v) − R)²) / Σ mask   (PPO2's clipped value loss)
        NDArray clippedValues = old.add(values.sub(old).clip(-eps, eps));
        // ½ inside the mean: a (B, T) array times a double stays float32, a float32 scalar times one becomes float64
        NDArray loss = Masked.mean(Scale.by(values.sub(returns).square().maximum(clippedValues.sub(returns).square()), 0.5), mask);

        NDArray clipped = values.sub(old).abs().gt(eps).toType(DataType.FLOAT32, false);
        return new ValueResult(loss, Masked.mean(clipped, mask).getFloat(), Masked.mean(values, mask).getFloat());
    }

    private static void requireScalar(NDArray loss) {
        if (loss == null || !loss.getShape().isScalar()) {
            throw new IllegalArgumentException("loss must be a scalar array, got " + (loss == null ? null : loss.getShape()));
        }
    }
}
