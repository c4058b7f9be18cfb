package dev.rlkafka.policy.train;

import dev.rlkafka.policy.optim.AdamWConfig;

/**
 * Supervised fine-tuning settings.
 *
 * @param steps       optimiser steps
 * @param batchSize   demonstrations per step
 * @param optimizer   AdamW settings; lr is the peak of a linear warm-up then cosine decay to 10 %
 * @param warmupSteps steps of linear learning-rate warm-up
 * @param maxGradNorm global gradient-norm clip
 * @param seed        seeds the prompts and which demonstrations are wrong
 */
public record SftConfig(int steps, int batchSize, AdamWConfig optimizer, int warmupSteps, double maxGradNorm, long seed) {
    // measured on the default model and task (2 cores): model seeds 1-3 at 1200 steps gave held-out greedy
    // accuracy 99.6-100 % and sampled 47-52 % (half the demonstrations are wrong on purpose); greedy passes
    // 95 % by step 700-800, so 1000 steps (about 55 s) leave a margin
    public static final int DEFAULT_STEPS = 1000;
    public static final int DEFAULT_BATCH_SIZE = 64;
    public static final double DEFAULT_LR = 3e-3;

    public static final SftConfig DEFAULT = new SftConfig(DEFAULT_STEPS, DEFAULT_BATCH_SIZE,
            AdamWConfig.DEFAULT.withLr(DEFAULT_LR), 30, 1.0, 1234L);

    public SftConfig {
        if (steps < 1) throw new IllegalArgumentException("steps must be >= 1, got " + steps);
        if (batchSize < 1) throw new IllegalArgumentException("batchSize must be >= 1, got " + batchSize);
        if (warmupSteps < 0) throw new IllegalArgumentException("warmupSteps must be >= 0, got " + warmupSteps);
        if (!(maxGradNorm > 0)) throw new IllegalArgumentException("maxGradNorm must be > 0, got " + maxGradNorm);
    }

    public SftConfig withSteps(int steps) {
        return new SftConfig(steps, batchSize, optimizer, Math.min(warmupSteps, steps), maxGradNorm, seed);
    }

    /** Linear warm-up to the peak, then cosine decay to 10 % of it at the last step. */
    double learningRate(int step) {
        double peak = optimizer.lr();
        if (step < warmupSteps) return peak * (step + 1) / warmupSteps;
        double progress = (double) (step - warmupSteps) / Math.max(1, steps - warmupSteps);
        return peak * (0.1 + 0.9 * 0.5 * (1 + Math.cos(Math.PI * progress)));
    }
}
