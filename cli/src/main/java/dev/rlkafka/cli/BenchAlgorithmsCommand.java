package dev.rlkafka.cli;

import dev.rlkafka.policy.task.Tasks;
import dev.rlkafka.policy.train.Algorithm;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code rlkafka bench algorithms}: GRPO, PPO and online DPO compared in one run. */
@Command(name = "algorithms", mixinStandardHelpOptions = true,
        description = {"Compares the trainer's algorithms in one run: one SFT checkpoint, then for each of --algorithms the "
                + "generator, reward-service and trainer over Kafka for --rl-steps steps on the same prompts, batch shape, "
                + "learning rate and staleness bound. Reports the held-out accuracy each reaches (final, and the time and "
                + "steps to SFT + --target points), wall time, ms per step, tokens/s and the exact KL to the SFT reference "
                + "at the end. Prints a table, writes JSON. About 15 min with the defaults on 2 idle cores.", ""})
final class BenchAlgorithmsCommand implements Callable<Integer> {
    @Option(names = {"-b", "--bootstrap"}, description = "Use this Kafka cluster instead of starting the embedded broker.")
    String bootstrap;

    @Mixin ModelOptions model;

    @Option(names = "--task", defaultValue = Tasks.DEFAULT, completionCandidates = TaskNames.class,
            description = "Task: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}).")
    String task;

    @Option(names = "--algorithms", defaultValue = "grpo,ppo,dpo", split = ",", converter = AlgorithmConverter.class,
            description = "Which algorithms, in this order (default: ${DEFAULT-VALUE}).")
    List<Algorithm> algorithms;

    @Option(names = "--sft-steps", defaultValue = "" + DemoCommand.DEFAULT_SFT_STEPS,
            description = "SFT steps of the one starting checkpoint (default: ${DEFAULT-VALUE}).")
    int sftSteps;

    @Option(names = "--rl-steps", defaultValue = "" + DemoCommand.DEFAULT_RL_STEPS, description = "Trainer steps per algorithm (default: ${DEFAULT-VALUE}).")
    int rlSteps;

    @Option(names = "--lr", defaultValue = "" + DemoCommand.DEFAULT_RL_LR,
            description = "Policy learning rate of every algorithm, cosine-decayed over --rl-steps (default: ${DEFAULT-VALUE}).")
    double lr;

    @Option(names = "--batch-groups", defaultValue = "" + DemoCommand.DEFAULT_BATCH_GROUPS,
            description = "Groups (prompts) per trainer step (default: ${DEFAULT-VALUE}).")
    int batchGroups;

    @Option(names = "--group-size", defaultValue = "8", description = "Rollouts per prompt, G (default: ${DEFAULT-VALUE}).")
    int groupSize;

    @Option(names = "--max-staleness", defaultValue = "2", description = "Policy versions a rollout may lag the trainer (default: ${DEFAULT-VALUE}).")
    int maxStaleness;

    @Option(names = "--target", defaultValue = "40",
            description = "Target held-out sampled accuracy: the SFT checkpoint's plus this many points (default: ${DEFAULT-VALUE}).")
    double target;

    @Option(names = "--eval-every", defaultValue = "25", description = "Held-out evaluation every N trainer steps (default: ${DEFAULT-VALUE}).")
    int evalEvery;

    @Option(names = "--eval-prompts", defaultValue = "500", description = "Held-out prompts of the final evaluations (default: ${DEFAULT-VALUE}).")
    int evalPrompts;

    @Option(names = "--json", defaultValue = "runs/bench/algorithms.json", description = "Where to write the JSON (default: ${DEFAULT-VALUE}).")
    Path json;

    @Option(names = "--work-dir", defaultValue = "runs/bench/algorithms",
            description = "Checkpoints and reward-service state of the runs; a sub-folder per bench, removed when it succeeds (default: ${DEFAULT-VALUE}).")
    Path workDir;

    @Option(names = "--keep-work-dir", description = "Keep the bench's sub-folder of --work-dir after it succeeds (removed by default).")
    boolean keepWorkDir;

    @Option(names = "--verbose", description = "Keep the services' own INFO logs.")
    boolean verbose;

    @Override
    public Integer call() throws Exception {
        String runId = BenchRunner.runId();
        BenchAlgorithms.Settings settings = new BenchAlgorithms.Settings(Tasks.byName(task), model.modelConfig(), model.device(),
                sftSteps, algorithms, rlSteps, lr, batchGroups, groupSize, maxStaleness, target, evalEvery, evalPrompts,
                workDir.resolve(runId));
        return BenchRunner.run(bootstrap, verbose, json, settings.workDir(), keepWorkDir,
                cluster -> new BenchAlgorithms(settings, cluster, runId, System.out).run(),
                BenchAlgorithms::table, BenchAlgorithms::json);
    }
}
