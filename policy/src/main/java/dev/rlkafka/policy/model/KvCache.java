package dev.rlkafka.policy.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;

/**
 * Keys and values of every past position, per layer, so that sampling step t attends to 0..t without
 * recomputing the prefix. Arrays live in {@code manager} (one per sampling call), not in the step's
 * sub-manager, and the superseded array is closed at once so memory tracks the sequence, not the steps.
 */
public final class KvCache {

    private final NDManager manager;
    private final NDArray[] keys;     // per layer (B, H, Tk, hs)
    private final NDArray[] values;   // per layer (B, H, Tk, hs)

    public KvCache(NDManager manager, int layers) {
        this.manager = manager;
        this.keys = new NDArray[layers];
        this.values = new NDArray[layers];
    }

    /** Positions held so far (Tk), 0 before the prefill. */
    public long length() {
        return keys[0] == null ? 0 : keys[0].getShape().get(2);
    }

    /** Appends this step's k, v (B, H, T, hs) to layer {@code layer}; returns all keys and values (B, H, Tk + T, hs). */
    NDArray[] append(int layer, NDArray k, NDArray v) {
        keys[layer] = concatAndKeep(keys[layer], k);
        values[layer] = concatAndKeep(values[layer], v);
        return new NDArray[] {keys[layer], values[layer]};
    }

    private NDArray concatAndKeep(NDArray past, NDArray now) {
        NDArray all = past == null ? now.duplicate() : past.concat(now, 2);
        all.attach(manager);
        if (past != null) past.close();
        return all;
    }
}
