package dev.rlkafka.cli;

import dev.rlkafka.policy.loss.GrpoConfig;
import dev.rlkafka.policy.optim.AdamWConfig;
import dev.rlkafka.policy.train.GrpoUpdater;
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
                + "apply GRPO updates with a KL penalty to the SFT reference, and publish a new policy version to "
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
            description = "Scored groups per optimiser step (default: ${DEFAULT-VALUE}).")
    int batchGroups;

    @Option(names = "--steps-per-version", defaultValue = "" + TrainerConfig.DEFAULT_STEPS_PER_VERSION,
            description = "Optimiser steps between published policy versions (default: ${DEFAULT-VALUE}).")
    int stepsPerVersion;

    @Option(names = "--max-staleness", defaultValue = "" + TrainerConfig.DEFAULT_MAX_STALENESS,
            description = "Drop groups sampled more than this many versions ago (default: ${DEFAULT-VALUE}).")
    int maxStaleness;

    @Option(names = "--lr", defaultValue = "" + TrainerConfig.DEFAULT_LR, description = "AdamW learning rate (default: ${DEFAULT-VALUE}).")
    double lr;

    @Option(names = "--beta", defaultValue = "" + GrpoConfig.DEFAULT_BETA,
            description = "Weight of the KL penalty to the reference (default: ${DEFAULT-VALUE}).")
    double beta;

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

    @Override
    public Integer call() throws Exception {
        int decay = decaySteps >= 0 ? decaySteps : maxSteps;
        TrainerConfig config = config(kafka.bootstrap, kafka.topics(), reference, checkpointDir, batchGroups, stepsPerVersion, maxStaleness, lr, beta, decay)
                .withDevice(device, threads)
                .withStop(maxSteps, false);
        try (ShutdownSignal signal = new ShutdownSignal(); TrainerService trainer = new TrainerService(config).start()) {
            System.out.println("trainer running on " + config.bootstrap() + " from " + reference + ". Ctrl-C stops it.");
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

    static TrainerConfig config(String bootstrap, Topics topics, Path reference, Path checkpointDir, int batchGroups,
                                int stepsPerVersion, int maxStaleness, double lr, double beta, int decaySteps) {
        GrpoConfig loss = new GrpoConfig(GrpoConfig.DEFAULT_CLIP_EPS, beta, GrpoConfig.DEFAULT_BEHAVIOUR_CAP);
        return TrainerConfig.defaults(bootstrap, checkpointDir, reference)
                .withTopics(topics)
                .withBatching(batchGroups, stepsPerVersion, maxStaleness)
                .withUpdate(new GrpoUpdater.Config(loss, AdamWConfig.DEFAULT.withLr(lr), TrainerConfig.DEFAULT_MAX_GRAD_NORM, decaySteps));
    }
}
