package dev.rlkafka.cli;

import ai.djl.Device;
import dev.rlkafka.policy.model.ModelConfig;
import dev.rlkafka.policy.model.Policy;
import dev.rlkafka.policy.optim.AdamWConfig;
import dev.rlkafka.policy.task.Task;
import dev.rlkafka.policy.task.Tasks;
import dev.rlkafka.policy.train.SftConfig;
import dev.rlkafka.policy.train.SftTrainer;
import dev.rlkafka.policy.weights.Checkpoint;
import me.tongfei.progressbar.ProgressBar;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;

/** Supervised fine-tuning on a task's demonstrations; writes the SFT checkpoint (also the RL reference). */
@Command(name = "sft", mixinStandardHelpOptions = true,
        description = "Train a fresh policy on a task's demonstrations with the next-token loss (prompt tokens "
                + "masked) and write the checkpoint. The SFT checkpoint is the starting policy and the frozen "
                + "KL reference of RL. The default task's demonstrations are wrong on purpose half of the time, "
                + "so RL has room to improve on it.")
final class SftCommand implements Callable<Integer> {
    @Mixin ModelOptions model;

    @Option(names = "--task", defaultValue = Tasks.DEFAULT,
            description = "Task to train on: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}).",
            completionCandidates = TaskNames.class)
    String task;

    @Option(names = "--steps", defaultValue = "" + SftConfig.DEFAULT_STEPS,
            description = "Optimiser steps (default: ${DEFAULT-VALUE}).")
    int steps;

    @Option(names = "--batch-size", defaultValue = "" + SftConfig.DEFAULT_BATCH_SIZE,
            description = "Demonstrations per step (default: ${DEFAULT-VALUE}).")
    int batchSize;

    @Option(names = "--lr", defaultValue = "" + SftConfig.DEFAULT_LR,
            description = "Peak learning rate of AdamW, warm-up then cosine decay (default: ${DEFAULT-VALUE}).")
    double lr;

    @Option(names = "--seed", defaultValue = "1", description = "Seed for weights and data (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = {"-o", "--out"}, defaultValue = "runs/sft/sft.ckpt",
            description = "Checkpoint file to write (default: ${DEFAULT-VALUE}).")
    Path out;

    @Override
    public Integer call() throws Exception {
        Task chosen = Tasks.byName(task);
        SftConfig config = new SftConfig(steps, batchSize, AdamWConfig.DEFAULT.withLr(lr),
                Math.min(SftConfig.DEFAULT.warmupSteps(), steps), SftConfig.DEFAULT.maxGradNorm(), seed);
        try (Policy policy = Policy.create(model.modelConfig(), model.device(), seed)) {
            Policy.setIntraOpThreads(2);
            SftTrainer.Result result = train(policy, chosen, config, () -> false);
            Path dir = out.toAbsolutePath().getParent();
            if (dir != null) Files.createDirectories(dir);
            Checkpoint.of(policy, result.steps(), Map.of(), Map.of("task", chosen.name(), "kind", "sft"))
                    .write(out);
            System.out.printf("SFT on '%s': %d steps, final loss %.4f, %.0f tokens/s, %.1f s%n",
                    chosen.name(), result.steps(), result.finalLoss(), result.tokensPerSecond(), result.elapsedMs() / 1000.0);
            System.out.println("checkpoint: " + out);
            System.out.println("next: ./rlkafka eval --checkpoint " + out + " --task " + chosen.name());
        }
        return 0;
    }

    /**
     * Runs SFT with a progress bar on stderr (loss and tokens/s in its message).
     *
     * @throws java.util.concurrent.CancellationException after the step during which {@code stop} turned true
     */
    /**
     * SFT of a fresh policy seeded with {@code config.seed()}, written to {@code out} as the SFT checkpoint every
     * run of a bench starts from (and uses as its reference).
     */
    static void trainCheckpoint(Task task, ModelConfig model, Device device, SftConfig config, Path out) throws IOException {
        try (Policy policy = Policy.create(model, device, config.seed())) {
            Policy.setIntraOpThreads(2);
            train(policy, task, config, () -> false);
            Checkpoint.of(policy, config.steps(), Map.of(), Map.of("task", task.name(), "kind", "sft")).write(out);
        }
    }

    static SftTrainer.Result train(Policy policy, Task task, SftConfig config, java.util.function.BooleanSupplier stop) {
        try (ProgressBar bar = Progress.bar("SFT " + task.name(), config.steps())) {
            return SftTrainer.train(policy, task, config, (step, total, loss, tokensPerSecond) -> {
                if (stop.getAsBoolean()) throw new java.util.concurrent.CancellationException("SFT stopped at step " + step);
                bar.stepTo(step);
                bar.setExtraMessage(String.format(" loss %.3f  %.0f tok/s", loss, tokensPerSecond));
            });
        }
    }
}
