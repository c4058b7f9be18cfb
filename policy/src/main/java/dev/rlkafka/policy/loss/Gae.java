package dev.rlkafka.policy.loss;

/**
 * PPO's per-token advantages for language models: the sequence reward shaped with a per-token KL penalty to
 * the reference (Ziegler et al. 2019, "Fine-tuning language models from human preferences"; Ouyang et al. 2022),
 * then generalised advantage estimation (Schulman et al. 2016) over one rollout's completion tokens.
 * Plain arrays: a rollout has a handful of tokens, and the recursion reads best as a loop.
 */
public final class Gae {

    /** Keeps whitening finite when every advantage in a batch is equal. */
    static final double WHITEN_EPS = 1e-8;

    private Gae() {}

    /**
     * @param advantages A_t per completion token
     * @param returns    A_t + V(s_t): the value targets
     */
    public record Result(double[] advantages, double[] returns) {
        public Result {
            advantages = advantages.clone();
            returns = returns.clone();
            if (advantages.length != returns.length) {
                throw new IllegalArgumentException(advantages.length + " advantages but " + returns.length + " returns");
            }
        }

        @Override
        public double[] advantages() {
            return advantages.clone();
        }

        @Override
        public double[] returns() {
            return returns.clone();
        }
    }

    /**
     * {@code r_t = −β·kl_t + [t = T−1]·R}: every token pays the KL penalty, the last one also earns the sequence reward.
     *
     * @param reward the rollout's final reward R, finite
     * @param kl     per completion token, log π_behav − log π_ref at the sampled token (length T ≥ 1)
     * @param beta   β ≥ 0
     */
    public static double[] shapedRewards(double reward, double[] kl, double beta) {
        if (kl.length == 0) throw new IllegalArgumentException("kl must have one entry per completion token, got none");
        if (!Double.isFinite(reward)) throw new IllegalArgumentException("reward must be finite, got " + reward);
        double[] rewards = new double[kl.length];
        for (int t = 0; t < kl.length; t++) rewards[t] = -beta * kl[t];
        rewards[kl.length - 1] += reward;
        return rewards;
    }

    /**
     * {@code δ_t = r_t + γ·V(s_{t+1}) − V(s_t)} with {@code V(s_T) = 0} (the rollout ends after its last token),
     * {@code A_t = δ_t + γλ·A_{t+1}} (= Σ_l (γλ)^l δ_{t+l}), {@code return_t = A_t + V(s_t)}.
     *
     * @param rewards per-token rewards r_t (e.g. {@link #shapedRewards})
     * @param values  V(s_t) per token, same length, from the critic before the update
     * @param gamma   discount γ in [0, 1]
     * @param lambda  λ in [0, 1]: 0 is the one-step TD advantage, 1 the Monte-Carlo return minus V
     */
    public static Result compute(double[] rewards, double[] values, double gamma, double lambda) {
        if (rewards.length != values.length) {
            throw new IllegalArgumentException(rewards.length + " rewards but " + values.length + " values");
        }
        if (!(gamma >= 0 && gamma <= 1)) throw new IllegalArgumentException("gamma must be in [0, 1], got " + gamma);
        if (!(lambda >= 0 && lambda <= 1)) throw new IllegalArgumentException("lambda must be in [0, 1], got " + lambda);
        int n = rewards.length;
        double[] advantages = new double[n];
        double[] returns = new double[n];
        double next = 0;   // A_{t+1}
        for (int t = n - 1; t >= 0; t--) {
            double nextValue = t + 1 < n ? values[t + 1] : 0;
            double delta = rewards[t] + gamma * nextValue - values[t];
            advantages[t] = delta + gamma * lambda * next;
            returns[t] = advantages[t] + values[t];
            next = advantages[t];
        }
        return new Result(advantages, returns);
    }

    /**
     * {@code (A − mean)/(std + ε)} over every token of every rollout (PPO's advantage normalisation, per batch):
     * keeps the step size independent of the reward scale. Rows may differ in length.
     */
    public static double[][] whitened(double[][] advantages) {
        double sum = 0;
        long n = 0;
        for (double[] row : advantages) for (double a : row) { sum += a; n++; }
        if (n == 0) throw new IllegalArgumentException("no advantages to whiten");
        double mean = sum / n, squares = 0;
        for (double[] row : advantages) for (double a : row) squares += (a - mean) * (a - mean);
        double std = Math.sqrt(squares / n);
        double[][] out = new double[advantages.length][];
        for (int b = 0; b < advantages.length; b++) {
            out[b] = new double[advantages[b].length];
            for (int t = 0; t < out[b].length; t++) out[b][t] = (advantages[b][t] - mean) / (std + WHITEN_EPS);
        }
        return out;
    }
}
