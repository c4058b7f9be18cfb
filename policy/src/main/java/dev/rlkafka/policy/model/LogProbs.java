package dev.rlkafka.policy.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
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
     * The log-probs and, from the same forward, the policy's entropy at each completion token's state.
     *
     * @param entropy (B, Tc) H(π(·|s_i)) = −Σ_v π(v|s_i)·log π(v|s_i) in nats; 0 past a row's end
     */
    public record WithEntropy(LogProbs logProbs, NDArray entropy) {
    }

    /**
     * @param step        per-step sub-manager: inputs are created there, so the result and all
     *                    activations are freed when it closes
     * @param prompts     token ids per row, BOS first as from {@link ByteTokenizer#encodePrompt}
     * @param completions sampled (or demonstrated) token ids per row, non-empty, EOS included if any
     */
    public static LogProbs compute(Policy policy, NDManager step, List<int[]> prompts, List<int[]> completions) {
        PaddedRows rows = PaddedRows.of(step, prompts, completions, policy.config().contextLength());
        NDArray logSoftmax = policy.logits(rows.inputs()).logSoftmax(-1);   // (B, T, V)
        return logProbs(rows, logSoftmax);
    }

    /** {@link #compute} plus the entropy, for PPO's entropy bonus and diagnostics. */
    public static WithEntropy computeWithEntropy(Policy policy, NDManager step, List<int[]> prompts, List<int[]> completions) {
        PaddedRows rows = PaddedRows.of(step, prompts, completions, policy.config().contextLength());
        NDArray logSoftmax = policy.logits(rows.inputs()).logSoftmax(-1);   // (B, T, V)
        NDArray entropy = logSoftmax.exp().mul(logSoftmax).sum(new int[] {2}).neg();   // (B, T)
        return new WithEntropy(logProbs(rows, logSoftmax), rows.atCompletion(entropy));
    }

    /**
     * The exact per-token divergence of a policy from its reference along given completions.
     *
     * @param kl   (B, Tc) KL(π(·|s_i) ‖ π_ref(·|s_i)) = Σ_v π(v|s_i)·(log π(v|s_i) − log π_ref(v|s_i)) in nats; 0 past a row's end
     * @param mask (B, Tc) 1 for real completion tokens
     */
    public record Divergence(NDArray kl, NDArray mask) {
    }

    /** Full-distribution KL at each completion token's state (not a sampled estimate): for evaluations, no gradient needed. */
    public static Divergence klPerToken(Policy policy, Policy reference, NDManager step, List<int[]> prompts, List<int[]> completions) {
        if (!policy.config().equals(reference.config())) {
            throw new IllegalArgumentException("reference config " + reference.config() + " differs from policy config " + policy.config());
        }
        PaddedRows rows = PaddedRows.of(step, prompts, completions, policy.config().contextLength());
        NDArray logp = policy.logits(rows.inputs()).logSoftmax(-1);            // (B, T, V)
        NDArray refLogp = reference.logits(rows.inputs()).logSoftmax(-1);      // (B, T, V)
        NDArray kl = logp.exp().mul(logp.sub(refLogp)).sum(new int[] {2});      // (B, T)
        return new Divergence(rows.atCompletion(kl), rows.mask());
    }

    private static LogProbs logProbs(PaddedRows rows, NDArray logSoftmax) {
        long b = rows.inputs().getShape().get(0), t = rows.inputs().getShape().get(1);
        NDArray logpAll = logSoftmax.gather(rows.targets(), 2).reshape(b, t);   // (B, T): log π(seq[t+1] | seq[:t+1])
        return new LogProbs(rows.atCompletion(logpAll), rows.mask());
    }
}
