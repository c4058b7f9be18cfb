package dev.rlkafka.policy.loss;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import dev.rlkafka.policy.model.Scale;

/**
 * Direct preference optimisation (Rafailov et al. 2023), online as in Guo et al. 2024 ("Direct language model
 * alignment from online AI feedback"): the pairs are the policy's own rollouts, the best and worst of a group
 * by reward. No importance ratio: the DPO loss is a classification loss on the pair, valid whichever policy
 * version sampled it.
 */
public final class DpoLoss {

    private DpoLoss() {}

    /**
     * @param loss           scalar, differentiable w.r.t. the policy's log-probs
     * @param meanMargin     mean over pairs of β·[(log π(y_w) − log π_ref(y_w)) − (log π(y_l) − log π_ref(y_l))]
     * @param accuracy       fraction of pairs whose margin is > 0 (the implicit reward ranks them right)
     * @param chosenReward   mean implicit reward β·(log π(y_w) − log π_ref(y_w)) of the chosen completions
     * @param rejectedReward mean implicit reward of the rejected completions
     */
    public record Result(NDArray loss, float meanMargin, float accuracy, float chosenReward, float rejectedReward) {
        public Result {
            if (loss == null || !loss.getShape().isScalar()) {
                throw new IllegalArgumentException("loss must be a scalar array, got " + (loss == null ? null : loss.getShape()));
            }
        }
    }

    /**
     * @param chosenLogp      (P) log π_θ(y_w | x): the chosen completion's token log-probs summed, differentiable
     * @param rejectedLogp    (P) log π_θ(y_l | x), differentiable
     * @param refChosenLogp   (P) log π_ref(y_w | x) of the frozen reference (detached here)
     * @param refRejectedLogp (P) log π_ref(y_l | x) (detached here)
     */
    public static Result compute(NDArray chosenLogp, NDArray rejectedLogp, NDArray refChosenLogp, NDArray refRejectedLogp,
                                 DpoConfig config) {
        Shape pairs = chosenLogp.getShape();
        if (pairs.dimension() != 1 || pairs.get(0) < 1) throw new IllegalArgumentException("chosenLogp must be (P), P >= 1, got " + pairs);
        requireShape("rejectedLogp", rejectedLogp, pairs);
        requireShape("refChosenLogp", refChosenLogp, pairs);
        requireShape("refRejectedLogp", refRejectedLogp, pairs);
        double beta = config.beta();

        // L = −mean log σ(β[(log π(y_w) − log π_ref(y_w)) − (log π(y_l) − log π_ref(y_l))]),  −log σ(x) = softplus(−x)
        NDArray chosenRewards = Scale.by(chosenLogp.sub(refChosenLogp.stopGradient()), beta);
        NDArray rejectedRewards = Scale.by(rejectedLogp.sub(refRejectedLogp.stopGradient()), beta);
        NDArray margins = chosenRewards.sub(rejectedRewards);
        NDArray loss = Activation.softPlus(margins.neg()).mean();

        return new Result(loss,
                margins.mean().getFloat(),
                margins.gt(0).toType(DataType.FLOAT32, false).mean().getFloat(),
                chosenRewards.mean().getFloat(),
                rejectedRewards.mean().getFloat());
    }

    private static void requireShape(String name, NDArray x, Shape expected) {
        if (!x.getShape().equals(expected)) {
            throw new IllegalArgumentException(name + " must have shape " + expected + " like chosenLogp, got " + x.getShape());
        }
    }
}
