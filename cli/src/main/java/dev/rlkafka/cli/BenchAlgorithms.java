package dev.rlkafka.cli;

import ai.djl.Device;
import dev.rlkafka.generator.GeneratorConfig;
import dev.rlkafka.generator.GeneratorService;
import dev.rlkafka.policy.model.ModelConfig;
import dev.rlkafka.policy.model.Policy;
import dev.rlkafka.policy.task.Task;
import dev.rlkafka.policy.train.Algorithm;
import dev.rlkafka.policy.train.Evaluator;
import dev.rlkafka.policy.train.SftConfig;
import dev.rlkafka.policy.weights.Checkpoint;
import dev.rlkafka.policy.weights.WeightCodec;
import dev.rlkafka.reward.RewardConfig;
import dev.rlkafka.reward.RewardService;
import dev.rlkafka.schemas.TopicAdmin;
import dev.rlkafka.schemas.Topics;
import dev.rlkafka.trainer.StepResult;
import dev.rlkafka.trainer.TrainerConfig;
import dev.rlkafka.trainer.TrainerService;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * {@code rlkafka bench algorithms}: GRPO, PPO and online DPO through the same services and Kafka, from one SFT
 * checkpoint, with the same prompts, batch shape, learning rate, staleness bound and number of trainer steps; for
 * each, the held-out accuracy it reaches, its wall time, tokens/s and its KL to the reference at the end.
 */
final class BenchAlgorithms {
    /** Trainer steps left out of tokens/s and ms/step: the first ones include JIT and the generator's start. */
    static final int WARMUP_STEPS = 5;
    /** Held-out prompts of the evaluations along the way; the final one uses {@code evalPrompts}. */
    static final int SIDE_EVAL_PROMPTS = 200;

    /**
     * @param targetPoints target held-out sampled accuracy: the SFT checkpoint's plus this many points
     * @param evalEvery    held-out evaluation of the trainer's checkpoint every this many steps, for the time to target
     */
    record Settings(Task task, ModelConfig modelConfig, Device device, int sftSteps, List<Algorithm> algorithms, int rlSteps,
                    double lr, int batchGroups, int groupSize, int maxStaleness, double targetPoints, int evalEvery,
                    int evalPrompts, Path workDir) {
        Settings {
            algorithms = List.copyOf(algorithms);
            if (algorithms.isEmpty()) throw new IllegalArgumentException("--algorithms must name at least one algorithm");
            if (sftSteps < 1) throw new IllegalArgumentException("--sft-steps must be >= 1, got " + sftSteps);
            if (rlSteps < WARMUP_STEPS + 2) throw new IllegalArgumentException("--rl-steps must be >= " + (WARMUP_STEPS + 2) + ", got " + rlSteps);
            if (evalEvery < 1) throw new IllegalArgumentException("--eval-every must be >= 1, got " + evalEvery);
            if (evalPrompts < 1) throw new IllegalArgumentException("--eval-prompts must be >= 1, got " + evalPrompts);
        }
    }

    /** Held-out sampled accuracy of the trainer's checkpoint after {@code step}, which ended {@code seconds} into the run. */
    record Eval(long step, double seconds, double accuracy) {
    }

    /**
     * One algorithm's run.
     *
     * @param seconds         wall time from the trainer's start to its last step
     * @param tokensPerSecond completion tokens the updates trained on (DPO: its pairs') per second, after the warm-up
     * @param rolloutTokensPerSecond completion tokens of all rollouts in the trained groups per second, after the warm-up:
     *                        what the pipeline generated and scored
     * @param msPerStep       wall ms per trainer step after the warm-up
     * @param reached         the first evaluation at or above the target; null when none was
     * @param sampled         final held-out accuracy sampling at T = 1
     * @param greedy          final held-out accuracy, greedy
     * @param kl              final exact KL(π‖π_ref) per token on held-out completions sampled from π
     * @param rewardLast10    mean training reward of the last 10 steps
     */
    record Run(Algorithm algorithm, long steps, double seconds, double tokensPerSecond, double rolloutTokensPerSecond,
               double msPerStep, List<Eval> evals,
               Eval reached, double sampled, double greedy, double kl, double rewardLast10) {
    }

    record Result(Settings settings, double sftSeconds, double sftSampled, double sftGreedy, double target, List<Run> runs) {
    }

    private final Settings settings;
    private final String bootstrap;
    private final String runId;
    private final PrintStream out;
    private final long started = System.nanoTime();

    BenchAlgorithms(Settings settings, String bootstrap, String runId, PrintStream out) {
        this.settings = settings;
        this.bootstrap = bootstrap;
        this.runId = runId;
        this.out = out;
    }

    Result run() throws Exception {
        Files.createDirectories(settings.workDir());
        phase("SFT: %d steps on '%s' (one checkpoint, the start and the reference of every run)", settings.sftSteps(), settings.task().name());
        long sftStart = System.nanoTime();
        Path sft = settings.workDir().resolve("sft.ckpt");
        // SftConfig.DEFAULT's seed (1234) seeds the policy and the SFT batches
        SftCommand.trainCheckpoint(settings.task(), settings.modelConfig(), settings.device(),
                SftConfig.DEFAULT.withSteps(settings.sftSteps()), sft);
        double sftSeconds = (System.nanoTime() - sftStart) / 1e9;
        byte[] sftWeights = Checkpoint.read(sft).weights();
        double sftSampled = HeldOut.accuracy(sftWeights, settings.task(), settings.device(), settings.evalPrompts(), HeldOut.SAMPLED);
        double sftGreedy = HeldOut.accuracy(sftWeights, settings.task(), settings.device(), settings.evalPrompts(), HeldOut.GREEDY);
        double target = Math.min(1.0, sftSampled + settings.targetPoints() / 100);
        phase("SFT done in %.1f s: held-out accuracy sampled %.1f %%, greedy %.1f %% (%d prompts); target %.1f %%",
                sftSeconds, 100 * sftSampled, 100 * sftGreedy, settings.evalPrompts(), 100 * target);

        List<Run> runs = new ArrayList<>();
        for (Algorithm algorithm : settings.algorithms()) {
            phase("%s: %d trainer steps of %d groups of %d, lr %s, max-staleness %d", algorithm.id(), settings.rlSteps(),
                    settings.batchGroups(), settings.groupSize(), settings.lr(), settings.maxStaleness());
            Run run = runServices(algorithm, sft, sftWeights, target);
            phase("%s: held-out accuracy sampled %.1f %%, greedy %.1f %%; %.1f s, %.0f tokens/s, KL %.4f", algorithm.id(),
                    100 * run.sampled(), 100 * run.greedy(), run.seconds(), run.tokensPerSecond(), run.kl());
            runs.add(run);
        }
        return new Result(settings, sftSeconds, sftSampled, sftGreedy, target, runs);
    }

    /** The three services from the SFT checkpoint on fresh topics, until the trainer has taken {@code rlSteps} steps. */
    private Run runServices(Algorithm algorithm, Path sft, byte[] sftWeights, double target) throws Exception {
        String name = algorithm.id();
        Topics topics = Topics.withPrefix("bench-" + runId + "-" + name + ".");
        TopicAdmin.ensureTopics(bootstrap, topics, DemoRun.PARTITIONS, (short) 1);
        Path dir = Files.createDirectories(settings.workDir().resolve(name));
        Path checkpoint = dir.resolve("trainer").resolve(TrainerConfig.CHECKPOINT_FILE);
        int steps = settings.rlSteps();
        long[] stepEnd = new long[steps];
        long[] tokens = new long[steps];
        long[] rolloutTokens = new long[steps];
        double[] rewards = new double[steps];
        List<Eval> evals = new ArrayList<>();
        ExecutorService evaluator = Executors.newSingleThreadExecutor(r -> new Thread(r, "bench-eval"));
        long[] runStart = {System.nanoTime()};

        RewardService reward = null;
        TrainerService trainer = null;
        GeneratorService generator = null;
        try {
            reward = new RewardService(RewardConfig.defaults(bootstrap).withTopics(topics).withStateDir(dir.resolve("reward-state"))).start();
            runStart[0] = System.nanoTime();
            trainer = new TrainerService(TrainerCommand.config(bootstrap, topics, sft, dir.resolve("trainer"), settings.batchGroups(), 1,
                    settings.maxStaleness(), TrainerCommand.update(algorithm, settings.lr(), null, null, steps))
                    .withDevice("cpu", DemoRun.TRAINER_THREADS)
                    .withStop(steps, false))
                    .onStep(r -> onStep(r, name, checkpoint, stepEnd, tokens, rolloutTokens, rewards, evals, evaluator, runStart[0]))
                    .start();
            GeneratorConfig generatorConfig = DemoRun.generatorConfig(bootstrap, topics, "bench-generator-" + name,
                    settings.groupSize(), settings.batchGroups(), settings.maxStaleness(), BenchPipeline.SERVICE_SEED);
            generator = new GeneratorService(generatorConfig).start();
            int prompts = (int) Math.ceil(steps * settings.batchGroups() * 1.25) + 4 * settings.batchGroups();
            PromptFeeder.feed(bootstrap, topics, settings.task(), prompts, settings.groupSize(), 42, "");
            while (!trainer.awaitStop(Duration.ofMillis(200))) {
                if (trainer.failure().isPresent()) throw new IllegalStateException(name + ": trainer failed", trainer.failure().get());
                if (generator.failure().isPresent()) throw new IllegalStateException(name + ": generator failed", generator.failure().get());
            }
            if (trainer.failure().isPresent()) throw new IllegalStateException(name + ": trainer failed", trainer.failure().get());
            long done = Math.min(trainer.step(), steps);
            if (done < steps) throw new IllegalStateException(name + ": the trainer stopped after " + done + " of " + steps + " steps");
        } finally {
            if (generator != null) generator.close();
            if (trainer != null) trainer.close();
            if (reward != null) reward.close();
        }
        evaluator.shutdown();
        evaluator.awaitTermination(10, TimeUnit.MINUTES);

        byte[] finalWeights = Checkpoint.read(checkpoint).weights();
        double sampled = HeldOut.accuracy(finalWeights, settings.task(), settings.device(), settings.evalPrompts(), HeldOut.SAMPLED);
        double greedy = HeldOut.accuracy(finalWeights, settings.task(), settings.device(), settings.evalPrompts(), HeldOut.GREEDY);
        double kl;
        try (Policy policy = WeightCodec.decode(finalWeights, settings.device()); Policy reference = WeightCodec.decode(sftWeights, settings.device())) {
            kl = Evaluator.klToReference(policy, reference, settings.task(), settings.evalPrompts(), DemoRun.EVAL_SEED,
                    HeldOut.SAMPLED);
        }
        long trained = 0, generated = 0;
        for (int i = WARMUP_STEPS; i < steps; i++) {
            trained += tokens[i];
            generated += rolloutTokens[i];
        }
        double measured = (stepEnd[steps - 1] - stepEnd[WARMUP_STEPS - 1]) / 1e9;
        double rewardLast10 = 0;
        for (int i = steps - 10; i < steps; i++) rewardLast10 += rewards[Math.max(0, i)] / 10;
        List<Eval> sorted;
        synchronized (evals) {
            sorted = evals.stream().sorted(Comparator.comparingLong(Eval::step)).toList();
        }
        Eval reached = sorted.stream().filter(e -> e.accuracy() >= target).findFirst().orElse(null);
        return new Run(algorithm, steps, (stepEnd[steps - 1] - runStart[0]) / 1e9, trained / measured, generated / measured,
                1000 * measured / (steps - WARMUP_STEPS), sorted, reached, sampled, greedy, kl, rewardLast10);
    }

    /** On the trainer's loop thread: timings, and every evalEvery steps a held-out evaluation on the side. */
    private void onStep(StepResult r, String name, Path checkpoint, long[] stepEnd, long[] tokens, long[] rolloutTokens, double[] rewards,
                        List<Eval> evals, ExecutorService evaluator, long runStart) {
        int i = (int) r.step() - 1;
        if (i < 0 || i >= stepEnd.length) return;
        stepEnd[i] = System.nanoTime();
        tokens[i] = r.tokens();
        rolloutTokens[i] = r.rolloutTokens();
        rewards[i] = r.rewardMean();
        if (r.step() % settings.evalEvery() != 0 || r.step() == stepEnd.length) return;   // the last step gets the final evaluation
        double seconds = (stepEnd[i] - runStart) / 1e9;
        byte[] weights = HeldOut.weights(checkpoint);   // written before the listener runs: this step's weights
        evaluator.submit(() -> {
            double accuracy = HeldOut.accuracy(weights, settings.task(), settings.device(), Math.min(SIDE_EVAL_PROMPTS, settings.evalPrompts()),
                    HeldOut.SAMPLED);
            synchronized (evals) {
                evals.add(new Eval(r.step(), seconds, accuracy));
            }
            phase("%s: step %d (%.1f s) reward %.3f, held-out sampled accuracy %.1f %%", name, r.step(), seconds, r.rewardMean(), 100 * accuracy);
            return null;
        });
    }


    private void phase(String format, Object... args) {
        out.printf(Locale.ROOT, "[%6.1f s] %s%n", (System.nanoTime() - started) / 1e9, String.format(Locale.ROOT, format, args));
    }

    /** The table printed on stdout. */
    static String table(Result r) {
        Settings s = r.settings();
        StringBuilder t = new StringBuilder();
        t.append(String.format(Locale.ROOT, "%nrlkafka bench algorithms  (task %s, %d trainer steps of %d groups x %d, lr %s, max-staleness %d, %d cores)%n",
                s.task().name(), s.rlSteps(), s.batchGroups(), s.groupSize(), s.lr(), s.maxStaleness(), Runtime.getRuntime().availableProcessors()));
        t.append(String.format(Locale.ROOT, "after SFT (%d steps): held-out accuracy sampled %.1f %%, greedy %.1f %% (%d prompts); target %.1f %%%n",
                s.sftSteps(), 100 * r.sftSampled(), 100 * r.sftGreedy(), s.evalPrompts(), 100 * r.target()));
        t.append(String.format(Locale.ROOT, "%-9s %9s %9s %11s %12s %9s %8s %13s %13s %10s %7s%n", "algorithm", "sampled %", "greedy %",
                "to target", "steps to tgt", "RL wall s", "ms/step", "trained tok/s", "rollout tok/s", "KL to ref", "reward"));
        t.append("-".repeat(118)).append('\n');
        for (Run run : r.runs()) {
            t.append(String.format(Locale.ROOT, "%-9s %9.1f %9.1f %11s %12s %9.1f %8.0f %13.0f %13.0f %10.4f %7.3f%n", run.algorithm().id(),
                    100 * run.sampled(), 100 * run.greedy(),
                    run.reached() == null ? ">" + fmt1(run.seconds()) + " s" : fmt1(run.reached().seconds()) + " s",
                    run.reached() == null ? ">" + run.steps() : "" + run.reached().step(),
                    run.seconds(), run.msPerStep(), run.tokensPerSecond(), run.rolloutTokensPerSecond(), run.kl(), run.rewardLast10()));
        }
        t.append(String.format(Locale.ROOT, "sampled/greedy %%: final held-out accuracy (%d prompts); to target: first evaluation (every %d steps, %d prompts) "
                + "at >= target; trained tok/s: completion tokens the updates trained on per second after %d warm-up steps (DPO trains on "
                + "its pairs only); rollout tok/s: completion tokens of every rollout in the trained groups per second; "
                + "KL to ref: exact KL(pi||pi_ref) per token on held-out completions sampled from the final policy; reward: training reward, "
                + "mean of the last 10 steps.%n", s.evalPrompts(), s.evalEvery(), Math.min(SIDE_EVAL_PROMPTS, s.evalPrompts()), WARMUP_STEPS));
        return t.toString();
    }

    private static String fmt1(double v) {
        return String.format(Locale.ROOT, "%.1f", v);
    }

    /** Raw numbers. */
    static String json(Result r) {
        Settings s = r.settings();
        StringBuilder j = new StringBuilder("{\n");
        j.append(String.format(Locale.ROOT, "  \"settings\": {\"task\": \"%s\", \"model\": {\"width\": %d, \"layers\": %d, \"heads\": %d, \"context\": %d}, "
                        + "\"sftSteps\": %d, \"rlSteps\": %d, \"lr\": %s, \"batchGroups\": %d, \"groupSize\": %d, \"maxStaleness\": %d, "
                        + "\"targetPoints\": %s, \"evalEvery\": %d, \"evalPrompts\": %d, \"warmupSteps\": %d, \"cores\": %d},%n",
                s.task().name(), s.modelConfig().width(), s.modelConfig().layers(), s.modelConfig().heads(), s.modelConfig().contextLength(),
                s.sftSteps(), s.rlSteps(), s.lr(), s.batchGroups(), s.groupSize(), s.maxStaleness(), s.targetPoints(), s.evalEvery(),
                s.evalPrompts(), WARMUP_STEPS, Runtime.getRuntime().availableProcessors()));
        j.append(String.format(Locale.ROOT, "  \"sft\": {\"seconds\": %.2f, \"heldoutSampledAccuracy\": %.4f, \"heldoutGreedyAccuracy\": %.4f},%n",
                r.sftSeconds(), r.sftSampled(), r.sftGreedy()));
        j.append(String.format(Locale.ROOT, "  \"target\": %.4f,%n  \"runs\": [%n", r.target()));
        j.append(r.runs().stream().map(run -> String.format(Locale.ROOT,
                "    {\"algorithm\": \"%s\", \"steps\": %d, \"seconds\": %.2f, \"tokensPerSecond\": %.1f, \"rolloutTokensPerSecond\": %.1f, "
                        + "\"msPerStep\": %.1f, "
                        + "\"heldoutSampledAccuracy\": %.4f, \"heldoutGreedyAccuracy\": %.4f, \"klToReference\": %.6f, \"rewardLast10\": %.4f, "
                        + "\"reachedStep\": %s, \"reachedSeconds\": %s, \"evals\": [%s]}",
                run.algorithm().id(), run.steps(), run.seconds(), run.tokensPerSecond(), run.rolloutTokensPerSecond(), run.msPerStep(),
                run.sampled(), run.greedy(),
                run.kl(), run.rewardLast10(), run.reached() == null ? "null" : "" + run.reached().step(),
                run.reached() == null ? "null" : String.format(Locale.ROOT, "%.2f", run.reached().seconds()),
                run.evals().stream().map(e -> String.format(Locale.ROOT, "{\"step\": %d, \"seconds\": %.2f, \"accuracy\": %.4f}",
                        e.step(), e.seconds(), e.accuracy())).collect(Collectors.joining(", "))))
                .collect(Collectors.joining(",\n")));
        return j.append("\n  ]\n}\n").toString();
    }
}
