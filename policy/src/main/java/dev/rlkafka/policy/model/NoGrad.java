package dev.rlkafka.policy.model;

import ai.djl.pytorch.jni.JniUtils;

import java.util.function.Supplier;

/**
 * Runs work with libtorch's autograd recording off, as {@code torch.no_grad()} does.
 *
 * <p>Grad mode is per thread, and DJL switches it off only on the thread that loaded the engine: on a
 * service's own thread, inference would record a graph of every op, and an in-place optimiser update
 * of a leaf that requires grad is refused outright.
 */
public final class NoGrad {
    private NoGrad() {
    }

    public static <T> T call(Supplier<T> work) {
        boolean gradMode = JniUtils.isGradMode();
        JniUtils.setGradMode(false);
        try {
            return work.get();
        } finally {
            JniUtils.setGradMode(gradMode);
        }
    }

    public static void run(Runnable work) {
        call(() -> {
            work.run();
            return null;
        });
    }
}
