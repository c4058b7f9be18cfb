package dev.rlkafka.policy.train;

import dev.rlkafka.policy.model.Policy;
import dev.rlkafka.policy.optim.AdamWConfig;

/** Settings of one algorithm's updater; its type says which algorithm a run uses. */
public sealed interface UpdaterConfig permits GrpoUpdater.Config, PpoUpdater.Config, DpoUpdater.Config {

    Algorithm algorithm();

    /** The policy's AdamW settings; {@code lr} is the peak of the schedule. */
    AdamWConfig optimizer();

    /** Global gradient-norm clip, > 0. */
    double maxGradNorm();

    /**
     * 0 keeps the learning rate constant; otherwise it follows a cosine from the optimiser's lr down to 10 % of it
     * at step {@code decaySteps}. Adam's steps keep their size however small the advantages get, so without decay
     * a nearly solved task keeps being shaken.
     */
    int decaySteps();

    /** A fresh updater (optimiser state at step 0) training {@code policy} against the frozen {@code reference}. */
    RlUpdater newUpdater(Policy policy, Policy reference);

    /** Learning rate of optimiser step {@code step} (0-based). */
    default double learningRate(long step) {
        return decayed(optimizer().lr(), decaySteps(), step);
    }

    /** {@code lr} after the cosine decay of {@link #decaySteps()} at {@code step}; 0 decay steps = constant. */
    static double decayed(double lr, int decaySteps, long step) {
        if (decaySteps == 0) return lr;
        double progress = Math.min(1.0, (double) step / decaySteps);
        return lr * (0.1 + 0.9 * 0.5 * (1 + Math.cos(Math.PI * progress)));
    }

    /** The checks every config's compact constructor runs. */
    static void validate(AdamWConfig optimizer, double maxGradNorm, int decaySteps) {
        if (optimizer == null) throw new IllegalArgumentException("optimizer must be set");
        if (!(maxGradNorm > 0)) throw new IllegalArgumentException("maxGradNorm must be > 0, got " + maxGradNorm);
        if (decaySteps < 0) throw new IllegalArgumentException("decaySteps must be >= 0, got " + decaySteps);
    }
}
