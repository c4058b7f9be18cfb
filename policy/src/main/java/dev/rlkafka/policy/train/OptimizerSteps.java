package dev.rlkafka.policy.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Parameter;
import dev.rlkafka.policy.model.Policy;
import dev.rlkafka.policy.optim.AdamW;
import dev.rlkafka.policy.optim.GradientClipping;
import dev.rlkafka.policy.weights.Tensor;

import java.util.LinkedHashMap;
import java.util.Map;

/** The optimiser step and the checkpoint form of optimiser state, shared by the updaters. */
final class OptimizerSteps {

    /** Prefix of PPO's critic entries in an updater's state; GRPO and DPO refuse a state that has them. */
    static final String CRITIC_PREFIX = "critic.";

    private OptimizerSteps() {}

    /** The reference is compared token by token with the policy: both must be the same model. */
    static void requireSameModel(Policy policy, Policy reference) {
        if (!policy.config().equals(reference.config())) {
            throw new IllegalArgumentException("reference config " + reference.config() + " differs from policy config " + policy.config());
        }
    }

    /**
     * Clips the global gradient norm, steps at {@code lr} unless the norm is not finite (a NaN gradient would
     * spread into every weight), and zeroes the gradients for the next backward.
     *
     * @return the norm before clipping
     */
    static double clipAndStep(AdamW optimizer, Map<String, Parameter> parameters, double maxGradNorm, double lr) {
        double gradNorm = GradientClipping.clipGlobalNorm(parameters.values(), maxGradNorm);
        if (Double.isFinite(gradNorm)) optimizer.step(lr);
        optimizer.zeroGradients();
        return gradNorm;
    }

    /** The optimiser's moments and step as float32 tensors, keys prefixed with {@code prefix}. */
    static Map<String, Tensor> state(AdamW optimizer, NDManager parent, String prefix) {
        try (NDManager scratch = parent.newSubManager()) {
            Map<String, Tensor> state = new LinkedHashMap<>();
            // the step counter is an int64 scalar; checkpoints hold float32 (exact for steps below 2^24)
            optimizer.state(scratch).forEach((name, array) -> state.put(prefix + name, Tensor.of(array.toType(DataType.FLOAT32, false))));
            return state;
        }
    }

    /** Restores a {@link #state} (keys without their prefix). */
    static void load(AdamW optimizer, Map<String, Tensor> state, NDManager parent) {
        try (NDManager scratch = parent.newSubManager()) {
            Map<String, NDArray> arrays = new LinkedHashMap<>();
            state.forEach((name, tensor) -> {
                NDArray array = tensor.toNDArray(scratch);
                arrays.put(name, array.getShape().isScalar() ? array.toType(DataType.INT64, false) : array);
            });
            optimizer.loadState(arrays);
        }
    }

    /** The entries whose key starts with {@code prefix}, with the prefix removed. */
    static Map<String, Tensor> withPrefix(Map<String, Tensor> state, String prefix) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        state.forEach((key, tensor) -> {
            if (key.startsWith(prefix)) out.put(key.substring(prefix.length()), tensor);
        });
        return out;
    }

    /** For GRPO and DPO: a state holding a critic was written by a PPO run, and resuming it would drop the critic. */
    static void requireNoCritic(Map<String, Tensor> state, Algorithm algorithm) {
        if (state.keySet().stream().anyMatch(k -> k.startsWith(CRITIC_PREFIX))) {
            throw new IllegalArgumentException("the optimiser state holds a PPO critic (keys " + CRITIC_PREFIX
                    + "*), so it was written by a ppo run; it cannot resume as " + algorithm.id());
        }
    }
}
