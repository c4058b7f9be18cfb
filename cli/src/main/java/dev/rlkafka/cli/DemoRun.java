package dev.rlkafka.cli;

import ai.djl.Device;
import dev.rlkafka.generator.GeneratorConfig;
import dev.rlkafka.generator.GeneratorService;
import dev.rlkafka.policy.model.ModelConfig;
import dev.rlkafka.policy.model.Policy;
import dev.rlkafka.policy.sampling.SamplingParams;
import dev.rlkafka.policy.task.Task;
import dev.rlkafka.policy.train.Algorithm;
import dev.rlkafka.policy.train.Evaluator;
import dev.rlkafka.policy.train.SftConfig;
import dev.rlkafka.policy.weights.Checkpoint;
import dev.rlkafka.policy.weights.WeightCodec;
import dev.rlkafka.reward.RewardConfig;
import dev.rlkafka.reward.RewardService;
import dev.rlkafka.schemas.KafkaClientConfig;
import dev.rlkafka.schemas.TopicAdmin;
import dev.rlkafka.schemas.Topics;
import dev.rlkafka.trainer.StepResult;
import dev.rlkafka.trainer.TrainerConfig;
import dev.rlkafka.trainer.TrainerService;

import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;

/**
 * One demo run: SFT, then the three services over Kafka until the trainer has taken {@code rlSteps}
 * steps, with held-out evaluations along the way. Writes config.json, metrics.csv, eval.csv and
 * summary.json to the run folder.
 */
final class DemoRun implements AutoCloseable {
    static final int PARTITIONS = 4;
    static final int MAX_TOKENS = 6;
    static final long EVAL_SEED = 7;
    /**
     * libtorch threads of the one-JVM trainer. On 2 cores the services keep both busy (`bench pipeline` shows the
     * cores each part uses), so a second trainer thread only waits for a core: 1 and 2 gave the same step time
     * (0.72 and 0.71 of the in-process loop, mean of 3 and 2 runs). The system property
     * {@code rlkafka.trainerThreads} overrides it, for measuring on a machine with more cores.
     */
    static final int TRAINER_THREADS = Integer.getInteger("rlkafka.trainerThreads", 1);
    /** How long closing waits for the reward-service to score the generator's last rollouts. */
    static final Duration SCORE_LAST_BATCH_TIMEOUT = Duration.ofSeconds(15);

    /** Everything a run is configured by. */
    record Settings(Task task, ModelConfig modelConfig, Device device, SftConfig sft, int rlSteps, Algorithm algorithm, double lr,
                    double beta, int batchGroups, int groupSize, int maxStaleness, int evalEvery, int evalPrompts) {
        Settings {
            if (rlSteps < 1) throw new IllegalArgumentException("--rl-steps must be >= 1, got " + rlSteps);
            if (evalEvery < 1) throw new IllegalArgumentException("--eval-every must be >= 1, got " + evalEvery);
            if (evalPrompts < 1) throw new IllegalArgumentException("--eval-prompts must be >= 1, got " + evalPrompts);
        }
    }

    /** Held-out sampled (T = 1) and greedy accuracy of one checkpoint. */
    record Accuracy(double sampled, double greedy) {
    }

    record Summary(boolean completed, Accuracy afterSft, Accuracy afterRl, long steps, long finalVersion,
                   long sftMs, long rlMs, long wallMs) {
    }

    private final Settings settings;
    private final String bootstrap;
    /** The cluster's client settings (--kafka-config with --bootstrap); none on the embedded broker. */
    private final KafkaClientConfig client;
    private final Topics topics;
    private final Path runDir;
    private final PrintStream out;
    private final long started = System.nanoTime();
    private final ExecutorService evaluator = Executors.newSingleThreadExecutor(r -> new Thread(r, "demo-eval"));
    private volatile boolean stopRequested;
    /** Which scorers the reward-service waits for (the command line's --required/--optional/...). */
    private UnaryOperator<RewardConfig> scorers = UnaryOperator.identity();
    private RewardService reward;
    private TrainerService trainer;
    private GeneratorService generator;
    private PrintWriter metricsCsv;
    private PrintWriter evalCsv;

    DemoRun(Settings settings, String bootstrap, KafkaClientConfig client, Topics topics, Path runDir, PrintStream out) {
        this.settings = settings;
        this.bootstrap = bootstrap;
        this.client = client;
        this.topics = topics;
        this.runDir = runDir;
        this.out = out;
    }

    DemoRun withScorers(UnaryOperator<RewardConfig> scorers) {
        this.scorers = scorers;
        return this;
    }

    Summary run() throws Exception {
        out.printf("run %s: bootstrap %s, topics %s*, files in %s%n", runDir.getFileName(), bootstrap, topics.prefix(), runDir);
        TopicAdmin.ensureTopics(bootstrap, client, topics, PARTITIONS, (short) 1);
        WeightsRetention.apply(bootstrap, client, topics, settings.modelConfig());   // replay needs no old weights
        writeConfig();

        long sftStart = System.nanoTime();
        Path sftCheckpoint = runDir.resolve("sft.ckpt");
        try (Policy policy = Policy.create(settings.modelConfig(), settings.device(), settings.sft().seed())) {
            Policy.setIntraOpThreads(2);
            out.printf("SFT on '%s': %d steps of %d demonstrations (%d parameters)%n", settings.task().name(),
                    settings.sft().steps(), settings.sft().batchSize(), policy.parameterCount());
            try {
                SftCommand.train(policy, settings.task(), settings.sft(), () -> stopRequested);
            } catch (java.util.concurrent.CancellationException e) {
                out.println(e.getMessage());
                return new Summary(false, new Accuracy(0, 0), new Accuracy(0, 0), 0, 0, elapsedMs(sftStart), 0, elapsedMs(started));
            }
            Checkpoint.of(policy, settings.sft().steps(), java.util.Map.of(),
                    java.util.Map.of("task", settings.task().name(), "kind", "sft")).write(sftCheckpoint);
        }
        long sftMs = elapsedMs(sftStart);
        Accuracy afterSft = evaluate(sftCheckpoint, settings.evalPrompts());
        out.printf("after SFT: held-out accuracy sampled %.1f %%, greedy %.1f %% (%d prompts)%n",
                100 * afterSft.sampled(), 100 * afterSft.greedy(), settings.evalPrompts());
        if (stopRequested) return new Summary(false, afterSft, afterSft, 0, 0, sftMs, 0, elapsedMs(started));

        long rlStart = System.nanoTime();
        openCsvs();
        startServices(sftCheckpoint);
        int prompts = (int) Math.ceil(settings.rlSteps() * settings.batchGroups() * 1.25) + 4 * settings.batchGroups();
        int fed = PromptFeeder.feed(bootstrap, client, topics, settings.task(), prompts, settings.groupSize(), 42, "");
        out.printf("RL (%s): %d prompts on %s; generator -> reward-service -> trainer over Kafka, %d groups of %d per step%n",
                settings.algorithm().id(), fed, topics.prompts(), settings.batchGroups(), settings.groupSize());
        while (!stopRequested && !trainer.awaitStop(Duration.ofMillis(500))) {
            if (trainer.failure().isPresent() || generator.failure().isPresent()) break;
        }
        trainer.failure().ifPresent(e -> out.println("trainer failed: " + e));
        generator.failure().ifPresent(e -> out.println("generator failed: " + e));
        long steps = trainer.step();
        long version = trainer.policyVersion();
        boolean completed = steps >= settings.rlSteps() && trainer.failure().isEmpty();
        closeServices();
        long rlMs = elapsedMs(rlStart);

        // stopped before the trainer's first checkpoint: the policy is still the SFT one
        Path finalCheckpoint = Files.exists(trainerCheckpoint()) ? trainerCheckpoint() : sftCheckpoint;
        Accuracy afterRl = evaluate(finalCheckpoint, settings.evalPrompts());
        Summary summary = new Summary(completed, afterSft, afterRl, steps, version, sftMs, rlMs, elapsedMs(started));
        printSummary(summary);
        writeSummary(summary);
        return summary;
    }

    private void startServices(Path sftCheckpoint) throws Exception {
        RewardConfig rewardConfig = scorers.apply(RewardConfig.defaults(bootstrap).withClientConfig(client).withTopics(topics)
                .withStateDir(runDir.resolve("reward-state")));
        reward = new RewardService(rewardConfig).start();
        if (!rewardConfig.builtInScorers() || !RewardConfig.builtInWeights(settings.task().name()).keySet()
                .containsAll(rewardConfig.requiredScorers().keySet())) {
            // an external scorer is in the loop: say where it has to read and write, or training waits for nothing
            out.printf("reward-service waits for required scorers %s%s: external ones read %s and write %s (docs/scorers.md)%n",
                    rewardConfig.requiredScorers(), rewardConfig.optionalScorers().isEmpty() ? "" : ", optional " + rewardConfig.optionalScorers(),
                    topics.rollouts(), topics.rewards());
        }
        trainer = new TrainerService(TrainerCommand.config(bootstrap, topics, sftCheckpoint, runDir.resolve("trainer"),
                        settings.batchGroups(), 1, settings.maxStaleness(),
                        TrainerCommand.update(settings.algorithm(), settings.lr(), settings.beta(), null, settings.rlSteps()))
                .withDevice("cpu", TRAINER_THREADS)
                .withStop(settings.rlSteps(), false)
                .withClientConfig(client))
                .onStep(this::onStep)
                .start();
        generator = new GeneratorService(generatorConfig(bootstrap, topics, "demo-generator", settings.groupSize(),
                settings.batchGroups(), settings.maxStaleness(), 99).withClientConfig(client)).start();
    }

    /**
     * The generator of a one-JVM run: a batch is one trainer step's groups, sampled at temperature 1, and the
     * admission gate counts one step per policy version.
     */
    static GeneratorConfig generatorConfig(String bootstrap, Topics topics, String generatorId, int groupSize,
                                           int batchGroups, int maxStaleness, long seed) {
        return GeneratorConfig.defaults(bootstrap).withTopics(topics)
                .withGeneratorId(generatorId)
                .withGroupSize(groupSize)
                .withBatching(batchGroups, Duration.ofMillis(20))
                .withSampling(1.0f, 0, 1.0f, MAX_TOKENS)
                .withStaleness(maxStaleness, batchGroups)
                .withSeed(seed);
    }

    private Path trainerCheckpoint() {
        return runDir.resolve("trainer").resolve(TrainerConfig.CHECKPOINT_FILE);
    }

    /** On the trainer's loop thread: one live line, one CSV row, and now and then a held-out evaluation. */
    private void onStep(StepResult r) {
        StringBuilder staleness = new StringBuilder();
        long[] histogram = r.stalenessHistogram();
        for (int k = 0; k < histogram.length; k++) {
            if (histogram[k] > 0) staleness.append(staleness.length() == 0 ? "" : " ").append(k).append(':').append(histogram[k]);
        }
        out.printf(Locale.ROOT, "step %4d  v%-4d reward %.3f  acc %.3f  kl %.4f  staleness %-9s dropped %d  %6.0f tok/s%s%n",
                r.step(), r.policyVersion(), r.rewardMean(), r.accuracy(), r.kl(), staleness, r.droppedStale(), r.tokensPerSecond(),
                algorithmNumbers(r));
        synchronized (this) {
            metricsCsv.printf(Locale.ROOT, "%d,%d,%d,%d,%.5f,%.5f,%.6f,%.6f,%.5f,%.1f,%s,%.1f%n", r.step(), r.policyVersion(),
                    r.groups(), r.droppedStale(), r.rewardMean(), r.accuracy(), r.kl(), r.loss(), r.clipFraction(),
                    r.tokensPerSecond(), staleness.toString().replace(' ', '|'), elapsedMs(started) / 1000.0);
            metricsCsv.flush();
        }
        if (r.step() % settings.evalEvery() == 0 && r.step() < settings.rlSteps()) {
            long step = r.step(), version = r.policyVersion();
            evaluator.submit(() -> {
                try {
                    // 200 prompts keep the side evaluation cheap; the final one uses --eval-prompts
                    Accuracy accuracy = evaluate(trainerCheckpoint(), Math.min(200, settings.evalPrompts()));
                    out.printf(Locale.ROOT, "          held-out accuracy at step %d (v%d): sampled %.1f %%, greedy %.1f %%%n",
                            step, version, 100 * accuracy.sampled(), 100 * accuracy.greedy());
                    synchronized (this) {
                        evalCsv.printf(Locale.ROOT, "%d,%d,%.4f,%.4f%n", step, version, accuracy.sampled(), accuracy.greedy());
                        evalCsv.flush();
                    }
                } catch (Exception e) {
                    out.println("held-out evaluation at step " + step + " failed: " + e);
                }
            });
        }
    }

    /** PPO's value loss or DPO's pair count, to see the critic learn and how many groups still disagree. */
    private static String algorithmNumbers(StepResult r) {
        Double valueLoss = r.diagnostics().get("value_loss"), pairs = r.diagnostics().get("pairs");
        if (valueLoss != null) return String.format(Locale.ROOT, "  value loss %.4f", valueLoss);
        if (pairs != null) return String.format(Locale.ROOT, "  pairs %.0f", pairs);
        return "";
    }

    private Accuracy evaluate(Path checkpoint, int prompts) throws IOException {
        byte[] weights = Checkpoint.read(checkpoint).weights();
        try (Policy policy = WeightCodec.decode(weights, settings.device())) {
            Policy.setIntraOpThreads(1);
            double sampled = Evaluator.evaluate(policy, settings.task(), prompts, EVAL_SEED,
                    SamplingParams.plain(EVAL_SEED, MAX_TOKENS)).accuracy();
            double greedy = Evaluator.evaluate(policy, settings.task(), prompts, EVAL_SEED,
                    SamplingParams.greedy(MAX_TOKENS)).accuracy();
            return new Accuracy(sampled, greedy);
        }
    }

    private void openCsvs() throws IOException {
        metricsCsv = new PrintWriter(Files.newBufferedWriter(runDir.resolve("metrics.csv")));
        metricsCsv.println("step,policy_version,groups,dropped_stale,reward_mean,accuracy,kl,loss,clip_fraction,tokens_per_s,staleness,elapsed_s");
        evalCsv = new PrintWriter(Files.newBufferedWriter(runDir.resolve("eval.csv")));
        evalCsv.println("step,policy_version,heldout_sampled_accuracy,heldout_greedy_accuracy");
    }

    private void writeConfig() throws IOException {
        Files.writeString(runDir.resolve("config.json"), String.format(Locale.ROOT, """
                {
                  "bootstrap": "%s", "topicPrefix": "%s", "task": "%s",
                  "model": {"width": %d, "layers": %d, "heads": %d, "context": %d},
                  "sft": {"steps": %d, "batchSize": %d, "lr": %s},
                  "rl": {"algorithm": "%s", "steps": %d, "lr": %s, "beta": %s, "batchGroups": %d, "groupSize": %d, "maxStaleness": %d},
                  "eval": {"every": %d, "prompts": %d}
                }
                """, bootstrap, topics.prefix(), settings.task().name(), settings.modelConfig().width(),
                settings.modelConfig().layers(), settings.modelConfig().heads(), settings.modelConfig().contextLength(),
                settings.sft().steps(), settings.sft().batchSize(), settings.sft().optimizer().lr(), settings.algorithm().id(),
                settings.rlSteps(), settings.lr(), settings.beta(), settings.batchGroups(), settings.groupSize(), settings.maxStaleness(),
                settings.evalEvery(), settings.evalPrompts()));
    }

    private void printSummary(Summary s) {
        out.println();
        out.println((s.completed() ? "demo finished" : "demo stopped early") + " (" + settings.algorithm().id() + ")");
        out.printf(Locale.ROOT, "  held-out accuracy, sampled at T=1:  after SFT %5.1f %%   after RL %5.1f %%   (%+.1f points)%n",
                100 * s.afterSft().sampled(), 100 * s.afterRl().sampled(), 100 * (s.afterRl().sampled() - s.afterSft().sampled()));
        out.printf(Locale.ROOT, "  held-out accuracy, greedy:          after SFT %5.1f %%   after RL %5.1f %%%n",
                100 * s.afterSft().greedy(), 100 * s.afterRl().greedy());
        out.printf(Locale.ROOT, "  %d trainer steps, final policy version %d%n", s.steps(), s.finalVersion());
        out.printf(Locale.ROOT, "  wall time %.1f s (SFT %.1f s, RL %.1f s)%n", s.wallMs() / 1000.0, s.sftMs() / 1000.0, s.rlMs() / 1000.0);
        out.println("  files: " + runDir + " (config.json, summary.json, metrics.csv, eval.csv, sft.ckpt, trainer/)");
    }

    private void writeSummary(Summary s) throws IOException {
        Files.writeString(runDir.resolve("summary.json"), String.format(Locale.ROOT, """
                {
                  "completed": %s, "algorithm": "%s",
                  "heldoutSampledAccuracy": {"afterSft": %.4f, "afterRl": %.4f},
                  "heldoutGreedyAccuracy": {"afterSft": %.4f, "afterRl": %.4f},
                  "trainerSteps": %d, "finalPolicyVersion": %d,
                  "wallSeconds": %.1f, "sftSeconds": %.1f, "rlSeconds": %.1f
                }
                """, s.completed(), settings.algorithm().id(), s.afterSft().sampled(), s.afterRl().sampled(), s.afterSft().greedy(),
                s.afterRl().greedy(), s.steps(), s.finalVersion(), s.wallMs() / 1000.0, s.sftMs() / 1000.0, s.rlMs() / 1000.0));
    }

    /** Asks a running {@link #run()} to wind down (Ctrl-C). */
    void stop() {
        stopRequested = true;
    }

    private void closeServices() {
        if (generator != null) generator.close();
        if (trainer != null) trainer.close();
        if (reward != null) {
            // the generator's last batch may still be on its way to the reward-service: a replay of the run
            // should find every rollout scored
            try {
                reward.awaitCaughtUp(SCORE_LAST_BATCH_TIMEOUT);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            reward.close();
        }
        generator = null;
        trainer = null;
        reward = null;
        evaluator.shutdown();
        try {
            evaluator.awaitTermination(60, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        closeServices();
        synchronized (this) {
            if (metricsCsv != null) metricsCsv.close();
            if (evalCsv != null) evalCsv.close();
        }
    }

    private static long elapsedMs(long startNanos) {
        return (System.nanoTime() - startNanos) / 1_000_000;
    }
}
