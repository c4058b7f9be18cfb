package dev.rlkafka.policy.optim;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Parameter;
import java.util.Collection;

/** Global-norm gradient clipping, as PyTorch's {@code clip_grad_norm_}. */
public final class GradientClipping {

    private GradientClipping() {}

    /**
     * Scales all gradients in place by {@code maxNorm/(norm + 1e-6)} when their joint L2 norm exceeds
     * {@code maxNorm}, so one outlier batch moves the policy by a bounded step in the same direction.
     * Parameters without a gradient are skipped. A non-finite norm is returned without scaling, so the
     * caller can skip the step rather than spread NaN through every weight.
     *
     * @return the norm before clipping
     */
    public static double clipGlobalNorm(Collection<Parameter> params, double maxNorm) {
        if (!(maxNorm > 0)) throw new IllegalArgumentException("maxNorm must be > 0, got " + maxNorm);
        double sumOfSquares = 0;
        for (Parameter param : params) {
            NDArray theta = param.getArray();
            if (!theta.hasGradient()) continue;
            try (NDManager scratch = NDManager.subManagerOf(theta)) {
                scratch.tempAttachAll(theta);
                sumOfSquares += theta.getGradient().square().sum().toType(DataType.FLOAT64, false).getDouble();
            }
        }
        double norm = Math.sqrt(sumOfSquares);
        if (!Double.isFinite(norm) || norm <= maxNorm) return norm;
        double scale = maxNorm / (norm + 1e-6);
        for (Parameter param : params) {
            NDArray theta = param.getArray();
            if (!theta.hasGradient()) continue;
            try (NDArray g = theta.getGradient()) {
                g.muli(scale);   // the wrapper shares storage with the parameter's gradient
            }
        }
        return norm;
    }
}
