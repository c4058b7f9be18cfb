package dev.rlkafka.policy.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.rlkafka.policy.tokenizer.ByteTokenizer;
import java.util.List;

/**
 * Per-token log-probs of completions under the policy, from one training-time forward over
 * right-padded (prompt + completion) rows; differentiable, so it runs inside a GradientCollector.
 *
 * @param logp (B, Tc) log π(completion[b][i] | prompt[b], completion[b][:i]); 0 past a row's end
 * @param mask (B, Tc) 1 for real completion tokens, 0 for padding; Tc = longest completion
 */
public record LogProbs(NDArray logp, NDArray mask) {

    /**
     * @param step        per-step sub-manager: inputs are created there, so the result and all
     *                    activations are freed when it closes
     * @param prompts     token ids per row, BOS first as from {@link ByteTokenizer#encodePrompt}
     * @param completions sampled (or demonstrated) token ids per row, non-empty, EOS included if any
     */
    public static LogProbs compute(Policy policy, NDManager step, List<int[]> prompts, List<int[]> completions) {
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
            if (len > policy.config().contextLength()) {
                throw new IllegalArgumentException("row " + r + ": prompt + completion is " + len
                        + " tokens, more than contextLength " + policy.config().contextLength());
            }
            seqLen = Math.max(seqLen, len);
            tc = Math.max(tc, c.length);
        }
        int t = seqLen - 1;   // inputs are seq[:-1], targets seq[1:]
        long[] inputs = new long[b * t];
        long[] targets = new long[b * t];
        long[] where = new long[b * tc];   // index into T of the logit that predicts completion token i
        float[] mask = new float[b * tc];
        for (int r = 0; r < b; r++) {
            int[] p = prompts.get(r), c = completions.get(r);
            int len = p.length + c.length;
            java.util.Arrays.fill(inputs, r * t, (r + 1) * t, ByteTokenizer.PAD);
            java.util.Arrays.fill(targets, r * t, (r + 1) * t, ByteTokenizer.PAD);
            for (int i = 0; i < len - 1; i++) inputs[r * t + i] = i < p.length ? p[i] : c[i - p.length];
            for (int i = 1; i < len; i++) targets[r * t + i - 1] = i < p.length ? p[i] : c[i - p.length];
            for (int i = 0; i < tc; i++) {
                where[r * tc + i] = Math.min(p.length - 1 + i, t - 1);   // clamped past the row's end; masked
                mask[r * tc + i] = i < c.length ? 1f : 0f;
            }
        }
        NDArray x = step.create(inputs, new Shape(b, t));
        NDArray y = step.create(targets, new Shape(b, t, 1));
        NDArray logpAll = policy.logits(x).logSoftmax(-1).gather(y, 2).reshape(b, t);   // (B, T): log π(seq[t+1] | seq[:t+1])
        NDArray m = step.create(mask, new Shape(b, tc));
        NDArray logp = logpAll.gather(step.create(where, new Shape(b, tc)), 1).mul(m);   // (B, Tc)
        return new LogProbs(logp, m);
    }
}
