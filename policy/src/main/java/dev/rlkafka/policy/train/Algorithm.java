package dev.rlkafka.policy.train;

import dev.rlkafka.policy.loss.DpoConfig;
import dev.rlkafka.policy.loss.GrpoConfig;
import dev.rlkafka.policy.loss.PpoConfig;
import dev.rlkafka.policy.optim.AdamWConfig;

import java.util.Arrays;
import java.util.Locale;

/** How scored groups become policy updates; chosen per run. */
public enum Algorithm {
    /** Group-normalised advantages, clipped ratio, k3 KL penalty in the loss ({@link GrpoUpdater}). */
    GRPO,
    /** A critic, GAE over KL-shaped per-token rewards, clipped policy and value losses ({@link PpoUpdater}). */
    PPO,
    /** Online DPO on each group's best and worst rollout ({@link DpoUpdater}). */
    DPO;

    /** The lower-case name used on command lines and in files: {@code grpo}, {@code ppo}, {@code dpo}. */
    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** @throws IllegalArgumentException naming the choices when {@code id} is none of them */
    public static Algorithm byId(String id) {
        for (Algorithm a : values()) if (a.id().equals(id)) return a;
        throw new IllegalArgumentException("unknown algorithm '" + id + "'; choose one of "
                + Arrays.stream(values()).map(Algorithm::id).toList());
    }

    /** β of this algorithm's defaults: the KL weight of GRPO and PPO, DPO's inverse temperature. */
    public double defaultBeta() {
        return switch (this) {
            case GRPO -> GrpoConfig.DEFAULT_BETA;
            case PPO -> PpoConfig.DEFAULT_BETA;
            case DPO -> DpoConfig.DEFAULT_BETA;
        };
    }

    /**
     * This algorithm's update with its defaults, except the policy's learning rate {@code lr}, {@code beta} (see
     * {@link #defaultBeta}), a cosine decay over {@code decaySteps} (0 = constant) and the global gradient-norm clip.
     * PPO's critic learns at {@link PpoUpdater.Config#DEFAULT_CRITIC_LR_FACTOR} times {@code lr}.
     */
    public UpdaterConfig config(double lr, double beta, int decaySteps, double maxGradNorm) {
        AdamWConfig optimizer = AdamWConfig.DEFAULT.withLr(lr);
        return switch (this) {
            case GRPO -> new GrpoUpdater.Config(new GrpoConfig(GrpoConfig.DEFAULT_CLIP_EPS, beta, GrpoConfig.DEFAULT_BEHAVIOUR_CAP),
                    optimizer, maxGradNorm, decaySteps);
            case PPO -> new PpoUpdater.Config(PpoConfig.DEFAULT.withBeta(beta), optimizer,
                    AdamWConfig.DEFAULT.withLr(lr * PpoUpdater.Config.DEFAULT_CRITIC_LR_FACTOR), maxGradNorm, decaySteps);
            case DPO -> new DpoUpdater.Config(new DpoConfig(beta), optimizer, maxGradNorm, decaySteps);
        };
    }
}
