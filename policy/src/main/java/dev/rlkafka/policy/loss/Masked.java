package dev.rlkafka.policy.loss;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/** Averaging over the completion tokens of a (B, T) batch, the shared step of every loss here. */
final class Masked {

    private Masked() {}

    /**
     * {@code x} where {@code mask} is 1, else 0. Padding positions may hold anything (−inf log-probs,
     * stale behaviour values); zeroing them before {@code exp} keeps NaN and inf out of the sum and
     * out of the gradient, which {@code x·mask} alone would not (0·inf = NaN).
     */
    static NDArray zeroOutside(NDArray x, NDArray mask) {
        return NDArrays.where(mask.gt(0), x, x.zerosLike());
    }

    /** Σ mask·x / Σ mask, a scalar; 0 when the mask is all zeros (a batch with no completion tokens). */
    static NDArray mean(NDArray x, NDArray mask) {
        return zeroOutside(x, mask).mul(mask).sum().div(mask.sum().maximum(1));
    }

    /** The mask as float32 after checking it is (B, T) like {@code like}. */
    static NDArray checkedMask(NDArray mask, NDArray like) {
        requireSameShape("mask", mask, like);
        if (like.getShape().dimension() != 2) {
            throw new IllegalArgumentException("log-probs must be (B, T), got " + like.getShape());
        }
        return mask.getDataType() == DataType.FLOAT32 ? mask : mask.toType(DataType.FLOAT32, false);
    }

    static void requireSameShape(String name, NDArray x, NDArray like) {
        Shape shape = x.getShape();
        if (!shape.equals(like.getShape())) {
            throw new IllegalArgumentException(name + " must have shape " + like.getShape() + " like logp, got " + shape);
        }
    }
}
