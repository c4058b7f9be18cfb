package dev.rlkafka.policy.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.rlkafka.policy.tokenizer.ByteTokenizer;
import java.util.Arrays;
import java.util.List;

/**
 * Right-padded (prompt + completion) rows for one training-time forward, and where in them each completion
 * token is predicted: shared by {@link LogProbs} (the policy) and {@link Critic} (the values), so both read
 * the same position for completion token i.
 *
 * @param inputs  (B, T) int64 seq[:-1], PAD past a row's end
 * @param targets (B, T, 1) int64 seq[1:]
 * @param where   (B, Tc) int64 index into T of the state that predicts completion token i (s_i: prompt + completion[:i])
 * @param mask    (B, Tc) 1 for real completion tokens, 0 for padding; Tc = longest completion
 */
record PaddedRows(NDArray inputs, NDArray targets, NDArray where, NDArray mask) {

    /** Arrays are created in {@code step}, so they and everything computed from them die with it. */
    static PaddedRows of(NDManager step, List<int[]> prompts, List<int[]> completions, int contextLength) {
        if (prompts.size() != completions.size() || prompts.isEmpty()) {
            throw new IllegalArgumentException("need as many prompts as completions (>= 1), got "
                    + prompts.size() + " and " + completions.size());
        }
        int b = prompts.size();
        int seqLen = 0, tc = 0;
        for (int r = 0; r < b; r++) {
            int[] p = prompts.get(r), c = completions.get(r);
            if (p.length == 0 || c.length == 0) {
                throw new IllegalArgumentException("row " + r + ": prompt and completion must be non-empty, got lengths "
                        + p.length + " and " + c.length);
            }
            int len = p.length + c.length;
            if (len > contextLength) {
                throw new IllegalArgumentException("row " + r + ": prompt + completion is " + len
                        + " tokens, more than contextLength " + contextLength);
            }
            seqLen = Math.max(seqLen, len);
            tc = Math.max(tc, c.length);
        }
        int t = seqLen - 1;   // inputs are seq[:-1], targets seq[1:]
        long[] inputs = new long[b * t];
        long[] targets = new long[b * t];
        long[] where = new long[b * tc];
        float[] mask = new float[b * tc];
        for (int r = 0; r < b; r++) {
            int[] p = prompts.get(r), c = completions.get(r);
            int len = p.length + c.length;
            Arrays.fill(inputs, r * t, (r + 1) * t, ByteTokenizer.PAD);
            Arrays.fill(targets, r * t, (r + 1) * t, ByteTokenizer.PAD);
            for (int i = 0; i < len - 1; i++) inputs[r * t + i] = i < p.length ? p[i] : c[i - p.length];
            for (int i = 1; i < len; i++) targets[r * t + i - 1] = i < p.length ? p[i] : c[i - p.length];
            for (int i = 0; i < tc; i++) {
                where[r * tc + i] = Math.min(p.length - 1 + i, t - 1);   // clamped past the row's end; masked
                mask[r * tc + i] = i < c.length ? 1f : 0f;
            }
        }
        return new PaddedRows(step.create(inputs, new Shape(b, t)), step.create(targets, new Shape(b, t, 1)),
                step.create(where, new Shape(b, tc)), step.create(mask, new Shape(b, tc)));
    }

    /** (B, T) per position → (B, Tc) per completion token, 0 past a row's end. */
    NDArray atCompletion(NDArray perPosition) {
        return perPosition.gather(where, 1).mul(mask);
    }
}
