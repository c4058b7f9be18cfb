package dev.rlkafka.policy.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.LayerNorm;

/**
 * Applies DJL's Linear and LayerNorm blocks through their functional forms on the parameters' own
 * arrays: the sampler calls the model with a KV cache and masks that {@code Block.forward(NDList)}
 * cannot carry, and this skips ParameterStore's per-device copy logic, which one device never needs.
 */
final class Layers {

    private static final float LAYER_NORM_EPS = 1e-5f;   // DJL's and PyTorch's default

    private Layers() {}

    /** x·Wᵀ + b: (..., in) -> (..., out) */
    static NDArray linear(Linear linear, NDArray x) {
        var params = linear.getParameters();
        return Linear.linear(x, params.get("weight").getArray(), params.get("bias").getArray()).singletonOrThrow();
    }

    /** LayerNorm over the last axis (C): (..., C) -> (..., C) */
    static NDArray norm(LayerNorm ln, NDArray x) {
        var params = ln.getParameters();
        NDArray gamma = params.get("gamma").getArray();
        return LayerNorm.layerNorm(x, new Shape(gamma.getShape().get(0)), gamma, params.get("beta").getArray(),
                LAYER_NORM_EPS).singletonOrThrow();
    }
}
