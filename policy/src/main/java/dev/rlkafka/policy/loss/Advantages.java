package dev.rlkafka.policy.loss;

import java.util.Arrays;

/** Group-relative advantages (GRPO, Shao et al. 2024): each rollout's reward against its group's. */
public final class Advantages {

    /** Keeps a group with a tiny spread from blowing its advantages up. */
    public static final double DEFAULT_EPS = 1e-6;

    private Advantages() {}

    /**
     * {@code (r − mean)/(std + ε)} over one group, or {@code r − mean} when {@code divideByStd} is false
     * (Dr. GRPO, Liu et al. 2025: dividing by std up-weights groups that are almost all right or all
     * wrong). std is the population std (÷G); a group with equal rewards gets all-zero advantages.
     *
     * @param rewards the G final rewards of one group, finite, G ≥ 1
     * @param eps     added to std, ≥ 0
     * @throws IllegalArgumentException when a reward is not finite, or the rewards are so large that their mean,
     *                                  std or an advantage overflows (finite but absurd scores from a scorer)
     */
    public static double[] groupNormalised(double[] rewards, boolean divideByStd, double eps) {
        if (rewards == null || rewards.length == 0) throw new IllegalArgumentException("rewards must be a non-empty group");
        if (!(eps >= 0 && Double.isFinite(eps))) throw new IllegalArgumentException("eps must be finite and >= 0, got " + eps);
        double mean = 0;
        for (int i = 0; i < rewards.length; i++) {
            if (!Double.isFinite(rewards[i])) {
                throw new IllegalArgumentException("reward " + i + " of the group is not finite: " + rewards[i]);
            }
            mean += rewards[i];
        }
        mean /= rewards.length;
        double variance = 0;
        for (double r : rewards) variance += (r - mean) * (r - mean);
        double std = Math.sqrt(variance / rewards.length);

        double[] advantages = new double[rewards.length];
        // equal rewards: nothing to learn from this group. Tested exactly, not via std: the rounded mean of
        // {0.7, 0.7, 0.7} is 0.7000000000000001, and (r − mean)/std would turn that rounding into ±1.
        if (allEqual(rewards)) return advantages;
        // {1e308, 1.5e308} would give a NaN for every advantage and {1e200, −1e200} all zeros: refuse, not guess
        if (!Double.isFinite(mean) || (divideByStd && !Double.isFinite(std))) {
            throw new IllegalArgumentException("rewards %s are too large to normalise: mean %s, std %s"
                    .formatted(Arrays.toString(rewards), mean, std));
        }
        double scale = divideByStd ? 1 / (std + eps) : 1;
        for (int i = 0; i < rewards.length; i++) {
            advantages[i] = (rewards[i] - mean) * scale;
            if (!Double.isFinite(advantages[i])) {
                throw new IllegalArgumentException("rewards %s are too large to normalise: the advantage of reward %d overflows"
                        .formatted(Arrays.toString(rewards), i));
            }
        }
        return advantages;
    }

    private static boolean allEqual(double[] rewards) {
        for (double r : rewards) if (r != rewards[0]) return false;
        return true;
    }
}
