package dev.rlkafka.cli;

import dev.rlkafka.policy.optim.AdamWConfig;
import dev.rlkafka.policy.train.Algorithm;
import dev.rlkafka.policy.train.PpoUpdater;
import dev.rlkafka.policy.train.UpdaterConfig;
import dev.rlkafka.schemas.Topics;
import dev.rlkafka.trainer.TrainerConfig;
import dev.rlkafka.trainer.TrainerService;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;

/** Runs the trainer until Ctrl-C or --max-steps. */
@Command(name = "trainer", mixinStandardHelpOptions = true,
        description = "Run the trainer: consume rl.scored-groups in batches, drop groups staler than --max-staleness, "
                + "apply updates of --algorithm (GRPO, PPO with a critic, or online DPO on each group's best and worst "
                + "rollout) regularised towards the SFT reference, and publish a new policy version to "
                + "rl.policy-weights every --steps-per-version steps. A checkpoint with the consumed offsets is written "
                + "before each version, so a restarted trainer trains every group exactly once.")
final class TrainerCommand implements Callable<Integer> {
    @Mixin KafkaOptions kafka;

    @Option(names = "--reference", defaultValue = "runs/sft/sft.ckpt",
            description = "SFT checkpoint: the initial policy and the frozen KL reference (default: ${DEFAULT-VALUE}).")
    Path reference;

    @Option(names = "--checkpoint-dir", defaultValue = "runs/trainer",
            description = "Where trainer.ckpt lives; resumed from when present (default: ${DEFAULT-VALUE}).")
    Path checkpointDir;

    @Option(names = "--batch-groups", defaultValue = "" + TrainerConfig.DEFAULT_BATCH_GROUPS,
            description = "Scored groups per optimiser step; a group dropped as stale keeps its place when no other "
                    + "is waiting and half the batch or more is left, so that step trains on fewer (default: ${DEFAULT-VALUE}).")
    int batchGroups;

    @Option(names = "--steps-per-version", defaultValue = "" + TrainerConfig.DEFAULT_STEPS_PER_VERSION,
            description = "Optimiser steps between published policy versions (default: ${DEFAULT-VALUE}).")
    int stepsPerVersion;

    @Option(names = "--max-staleness", defaultValue = "" + TrainerConfig.DEFAULT_MAX_STALENESS,
            description = "Drop groups sampled more than this many versions ago (default: ${DEFAULT-VALUE}).")
    int maxStaleness;

    @Option(names = "--algorithm", defaultValue = "grpo", converter = AlgorithmConverter.class,
            completionCandidates = AlgorithmConverter.Names.class,
            description = "Update rule: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}).")
    Algorithm algorithm;

    @Option(names = "--lr", defaultValue = "" + TrainerConfig.DEFAULT_LR, description = "AdamW learning rate (default: ${DEFAULT-VALUE}).")
    double lr;

    @Option(names = "--beta",
            description = "GRPO and PPO: weight of the KL penalty to the reference (default 0.04); DPO: beta of the "
                    + "implicit reward, larger stays closer to the reference (default 0.1).")
    Double beta;

    @Option(names = "--critic-lr", description = "PPO: the critic's learning rate (default: "
            + PpoUpdater.Config.DEFAULT_CRITIC_LR_FACTOR + " x --lr).")
    Double criticLr;

    @Option(names = "--max-steps", defaultValue = "0", description = "Stop after this many steps; 0 = run until Ctrl-C (default: ${DEFAULT-VALUE}).")
    int maxSteps;

    @Option(names = "--lr-decay-steps", defaultValue = "-1",
            description = "Cosine-decay the learning rate to 10 %% over this many steps; 0 = constant; "
                    + "default: --max-steps (constant when that is 0).")
    int decaySteps;

    @Option(names = "--device", defaultValue = "cpu", description = "cpu or gpu (default: ${DEFAULT-VALUE}).")
    String device;

    @Option(names = "--threads", defaultValue = "" + TrainerConfig.DEFAULT_INTRA_OP_THREADS,
            description = "libtorch intra-op threads (default: ${DEFAULT-VALUE}).")
    int threads;

    @Option(names = "--weights-store", paramLabel = "DIR",
            description = "Write each policy version to a file in this directory (in a folder named after the run's weights "
                    + "topic) and publish only a pointer to it, so that the broker does not carry and keep the weights. "
                    + "Every generator must see the directory at the same path (one machine, or a shared file system); "
                    + "the newest " + TrainerConfig.WEIGHTS_STORE_KEEP + " versions are kept. "
                    + "Default: versions ride the weights topic in chunks.")
    Path weightsStore;

    @Override
    public Integer call() throws Exception {
        int decay = decaySteps >= 0 ? decaySteps : maxSteps;
        TrainerConfig config = config(kafka.bootstrap, kafka.topics(), reference, checkpointDir, batchGroups, stepsPerVersion, maxStaleness,
                        update(algorithm, lr, beta, criticLr, decay))
                .withDevice(device, threads)
                .withStop(maxSteps, false)
                .withWeightsStore(weightsStore == null ? null : weightsStore.toAbsolutePath())
                .withClientConfig(kafka.clientConfig());
        try (ShutdownSignal signal = new ShutdownSignal(); TrainerService trainer = new TrainerService(config).start()) {
            System.out.println(algorithm.id() + " trainer running on " + config.bootstrap() + " from " + reference + ". Ctrl-C stops it.");
            if (maxSteps > 0) {
                while (!trainer.awaitStop(Duration.ofSeconds(1)) && !signal.stopRequested()) {
                    // the loop thread stops itself at --max-steps
                }
                return trainer.failure().isPresent() ? 1 : 0;
            }
            signal.await();
        }
        return 0;
    }

    /** A GRPO trainer's config. */
    static TrainerConfig config(String bootstrap, Topics topics, Path reference, Path checkpointDir, int batchGroups,
                                int stepsPerVersion, int maxStaleness, double lr, double beta, int decaySteps) {
        return config(bootstrap, topics, reference, checkpointDir, batchGroups, stepsPerVersion, maxStaleness,
                update(Algorithm.GRPO, lr, beta, null, decaySteps));
    }

    static TrainerConfig config(String bootstrap, Topics topics, Path reference, Path checkpointDir, int batchGroups,
                                int stepsPerVersion, int maxStaleness, UpdaterConfig update) {
        return TrainerConfig.defaults(bootstrap, checkpointDir, reference)
                .withTopics(topics)
                .withBatching(batchGroups, stepsPerVersion, maxStaleness)
                .withUpdate(update);
    }

    /**
     * {@code algorithm}'s update with these settings and its defaults for the rest.
     *
     * @param beta     null: the algorithm's default
     * @param criticLr PPO only; null: {@link PpoUpdater.Config#DEFAULT_CRITIC_LR_FACTOR} times {@code lr}
     */
    static UpdaterConfig update(Algorithm algorithm, double lr, Double beta, Double criticLr, int decaySteps) {
        UpdaterConfig update = algorithm.config(lr, beta == null ? algorithm.defaultBeta() : beta, decaySteps,
                TrainerConfig.DEFAULT_MAX_GRAD_NORM);
        if (criticLr != null) {
            if (!(update instanceof PpoUpdater.Config ppo)) {
                throw new IllegalArgumentException("--critic-lr is for --algorithm ppo, got --algorithm " + algorithm.id());
            }
            update = new PpoUpdater.Config(ppo.loss(), ppo.optimizer(), AdamWConfig.DEFAULT.withLr(criticLr), ppo.maxGradNorm(),
                    ppo.decaySteps());
        }
        return update;
    }
}
