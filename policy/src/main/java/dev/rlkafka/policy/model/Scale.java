package dev.rlkafka.policy.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;

/**
 * {@code x · c} for a constant {@code c} on a path that autograd differentiates. Use it instead of DJL's
 * {@code x.mul(Number)} anywhere a gradient flows through {@code x}.
 *
 * <p>DJL's {@code mul(Number)} wraps {@code c} in a tensor over a Java direct buffer and closes it right after the
 * op. Autograd keeps that tensor for the backward pass, which then reads memory the garbage collector may already
 * have freed: trainer updates differed from run to run, rarely on an idle JVM and in most runs under heavy GC
 * ({@code ScaleTest}). A constant made by libtorch ({@code full}) is owned and reference-counted by libtorch, so
 * the graph keeps it alive for as long as it needs it.
 */
public final class Scale {
    private Scale() {
    }

    public static NDArray by(NDArray x, double c) {
        try (NDArray constant = x.getManager().full(new Shape(), (float) c, x.getDataType())) {
            return x.mul(constant);
        }
    }
}
