package dev.rlkafka.policy.weights;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.Arrays;

/**
 * A float32 tensor held in Java memory: what a checkpoint stores for state that is not model weights
 * (optimiser moments), so it outlives any NDManager.
 *
 * @param shape dimensions, each >= 0
 * @param data  row-major values; length = product of shape
 */
public record Tensor(long[] shape, float[] data) {

    public Tensor {
        shape = shape.clone();
        data = data.clone();
        long n = 1;
        for (long d : shape) {
            if (d < 0) throw new IllegalArgumentException("shape must be non-negative, got " + Arrays.toString(shape));
            n = Math.multiplyExact(n, d);
        }
        if (n != data.length) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " needs " + n + " values, got " + data.length);
        }
    }

    /** Copies a float32 array out of the engine. */
    public static Tensor of(NDArray array) {
        if (array.getDataType() != DataType.FLOAT32) {
            throw new IllegalArgumentException("only float32 tensors are stored, got " + array.getDataType());
        }
        return new Tensor(array.getShape().getShape(), array.toFloatArray());
    }

    /** A new array in {@code manager} with these values. */
    public NDArray toNDArray(NDManager manager) {
        return manager.create(data, new Shape(shape));
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    @Override
    public float[] data() {
        return data.clone();
    }

    int size() {
        return data.length;
    }

    float[] dataUnsafe() {   // no copy: the codec only reads it
        return data;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Tensor t && Arrays.equals(shape, t.shape) && Arrays.equals(data, t.data);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(shape) + Arrays.hashCode(data);
    }

    @Override
    public String toString() {
        return "Tensor" + Arrays.toString(shape);
    }
}
