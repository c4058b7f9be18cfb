package dev.rlkafka.policy.optim;

/**
 * Settings of {@link AdamW}.
 *
 * @param lr          learning rate, > 0; {@link AdamW#step(double)} can override it per step for a schedule
 * @param beta1       decay of the first-moment average, in [0, 1)
 * @param beta2       decay of the second-moment average, in [0, 1); 0.95 rather than Adam's 0.999 as in
 *                    nanoGPT/LLaMA: v forgets faster, so a gradient spike does not shrink steps for ~1000 steps
 * @param eps         added to √v̂, > 0
 * @param weightDecay decoupled decay λ per unit learning rate, ≥ 0 (θ ← θ − lr·λ·θ), on decayed parameters only
 */
public record AdamWConfig(double lr, double beta1, double beta2, double eps, double weightDecay) {

    /** For SFT of the small default model; RL fine-tuning usually runs about 10× lower. */
    public static final double DEFAULT_LR = 3e-4;
    public static final double DEFAULT_BETA1 = 0.9;
    public static final double DEFAULT_BETA2 = 0.95;
    public static final double DEFAULT_EPS = 1e-8;
    public static final double DEFAULT_WEIGHT_DECAY = 0.1;
    public static final AdamWConfig DEFAULT = withLr(DEFAULT_LR);

    public AdamWConfig {
        checkLr(lr, weightDecay);
        if (!(beta1 >= 0 && beta1 < 1)) throw new IllegalArgumentException("beta1 must be in [0, 1), got " + beta1);
        if (!(beta2 >= 0 && beta2 < 1)) throw new IllegalArgumentException("beta2 must be in [0, 1), got " + beta2);
        if (!(eps > 0 && Double.isFinite(eps))) throw new IllegalArgumentException("eps must be finite and > 0, got " + eps);
    }

    /** The defaults with learning rate {@code lr}. */
    public static AdamWConfig withLr(double lr) {
        return new AdamWConfig(lr, DEFAULT_BETA1, DEFAULT_BETA2, DEFAULT_EPS, DEFAULT_WEIGHT_DECAY);
    }

    static void checkLr(double lr, double weightDecay) {
        if (!(lr > 0 && Double.isFinite(lr))) throw new IllegalArgumentException("lr must be finite and > 0, got " + lr);
        if (!(weightDecay >= 0 && Double.isFinite(weightDecay))) {
            throw new IllegalArgumentException("weightDecay must be finite and >= 0, got " + weightDecay);
        }
        // past 1 the decay factor 1 − lr·λ flips the sign of every decayed weight
        if (lr * weightDecay >= 1) {
            throw new IllegalArgumentException("lr·weightDecay must be < 1, got " + lr + "·" + weightDecay);
        }
    }
}
