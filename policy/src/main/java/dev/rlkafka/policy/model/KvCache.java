package dev.rlkafka.policy.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;

/**
 * Keys and values of every past position, per layer, so that sampling step t attends to 0..t without
 * recomputing the prefix. Each layer's buffer (B, H, capacity, hs) is allocated once in
 * {@code manager} (one per sampling call) and written in place: growing it by concatenation allocated
 * and copied the whole cache every step, which measured slower than the attention itself.
 */
public final class KvCache {

    private final NDManager manager;
    private final int capacity;
    private final NDArray[] keys;     // per layer (B, H, capacity, hs); positions >= length are unused
    private final NDArray[] values;   // per layer (B, H, capacity, hs)
    private final long[] lengths;     // per layer: positions written

    /** @param capacity most positions one sequence will hold (prompt slots + sampled tokens) */
    public KvCache(NDManager manager, int layers, int capacity) {
        if (capacity < 1) throw new IllegalArgumentException("capacity must be >= 1, got " + capacity);
        this.manager = manager;
        this.capacity = capacity;
        this.keys = new NDArray[layers];
        this.values = new NDArray[layers];
        this.lengths = new long[layers];
    }

    /** Positions held so far (Tk), 0 before the prefill. */
    public long length() {
        return lengths[0];
    }

    /**
     * Writes this step's k, v (B, H, T, hs) after layer {@code layer}'s earlier positions; returns views
     * of all keys and values so far (B, H, Tk + T, hs), owned by k's (the step's) manager.
     */
    NDArray[] append(int layer, NDArray k, NDArray v) {
        Shape shape = k.getShape();
        long from = lengths[layer], to = from + shape.get(2);
        if (to > capacity) throw new IllegalStateException("KV cache of " + capacity + " positions cannot take position " + (to - 1));
        if (keys[layer] == null) {
            Shape full = new Shape(shape.get(0), shape.get(1), capacity, shape.get(3));
            keys[layer] = manager.zeros(full, k.getDataType());
            values[layer] = manager.zeros(full, v.getDataType());
        }
        NDIndex written = new NDIndex(":, :, {}:{}", from, to);
        keys[layer].set(written, k);
        values[layer].set(written, v);
        lengths[layer] = to;
        NDIndex all = new NDIndex(":, :, :{}", to);
        NDArray kAll = keys[layer].get(all), vAll = values[layer].get(all);
        kAll.attach(k.getManager());   // a view: freeing it with the step leaves the buffer alone
        vAll.attach(k.getManager());
        return new NDArray[] {kAll, vAll};
    }
}
