package dev.rlkafka.cli;

import ai.djl.Device;
import dev.rlkafka.generator.GeneratorConfig;
import dev.rlkafka.generator.GeneratorService;
import dev.rlkafka.policy.loss.GrpoConfig;
import dev.rlkafka.policy.model.ModelConfig;
import dev.rlkafka.policy.model.Policy;
import dev.rlkafka.policy.sampling.SamplingParams;
import dev.rlkafka.policy.task.Task;
import dev.rlkafka.policy.train.RlLoop;
import dev.rlkafka.policy.train.SftConfig;
import dev.rlkafka.policy.weights.Checkpoint;
import dev.rlkafka.policy.weights.WeightCodec;
import dev.rlkafka.reward.RewardConfig;
import dev.rlkafka.reward.RewardService;
import dev.rlkafka.schemas.serde.RlSerdes;
import dev.rlkafka.schemas.Sha256;
import dev.rlkafka.schemas.TopicAdmin;
import dev.rlkafka.schemas.Topics;
import dev.rlkafka.schemas.avro.WeightChunk;
import dev.rlkafka.trainer.StepResult;
import dev.rlkafka.trainer.TrainerConfig;
import dev.rlkafka.trainer.TrainerService;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;

/**
 * {@code rlkafka bench pipeline}: from one SFT checkpoint, measures in one run (a) RL-loop tokens/s through the
 * services and Kafka vs {@link RlLoop} in-process, (b) wall time to a held-out accuracy target with
 * max-staleness N vs 0, (c) weight publish→swapped latency vs a raw produce→consume of the same bytes.
 */
final class BenchPipeline {
    private static final Logger log = LoggerFactory.getLogger(BenchPipeline.class);
    static final int SERVICE_SEED = 99;
    /** Trainer steps of the (c) run, one version each. */
    static final int LATENCY_STEPS = 60;

    /**
     * @param sftSteps            SFT optimiser steps of the one shared starting checkpoint
     * @param throughputSteps     trainer steps of the throughput runs, warm-up included
     * @param warmupSteps         first steps left out of tokens/s
     * @param pairs               (a) pairs of runs, services then in-process, back to back; the median ratio is reported
     * @param asyncStaleness      max-staleness of the asynchronous runs ((a) and (b)); (b) compares it with 0
     * @param inProcessThreads    libtorch thread counts of the in-process loop, one run each per pair; the fastest is the
     *                            pair's baseline (the services use one each for generator and trainer)
     * @param targetPoints        (b) target: held-out sampled accuracy of the SFT checkpoint plus this many points
     * @param maxSteps            (b) step cap of each run
     * @param seeds               (b) pairs of runs, each pair with its own prompt order and sampling seed; medians are reported
     * @param rawRepeats          (c) raw produce→consume measurements
     */
    record Settings(Task task, ModelConfig modelConfig, Device device, int sftSteps, double lr, int batchGroups,
                    int groupSize, int throughputSteps, int warmupSteps, int pairs, int asyncStaleness, List<Integer> inProcessThreads,
                    double targetPoints, int evalEvery, int evalPrompts, int maxSteps, int seeds, int rawRepeats,
                    boolean skipTimeToTarget, Path workDir) {
        Settings {
            if (sftSteps < 1) throw new IllegalArgumentException("--sft-steps must be >= 1, got " + sftSteps);
            if (warmupSteps < 1) throw new IllegalArgumentException("--warmup-steps must be >= 1, got " + warmupSteps);
            if (throughputSteps < warmupSteps + 2) {
                throw new IllegalArgumentException("--steps must be >= --warmup-steps + 2 = " + (warmupSteps + 2) + ", got " + throughputSteps);
            }
            if (pairs < 1) throw new IllegalArgumentException("--pairs must be >= 1, got " + pairs);
            if (asyncStaleness < 1) throw new IllegalArgumentException("--max-staleness must be >= 1 (0 is the baseline), got " + asyncStaleness);
            if (inProcessThreads.isEmpty() || inProcessThreads.stream().anyMatch(n -> n < 1)
                    || inProcessThreads.stream().distinct().count() < inProcessThreads.size()) {
                throw new IllegalArgumentException("--in-process-threads must be distinct counts >= 1, got " + inProcessThreads);
            }
            inProcessThreads = List.copyOf(inProcessThreads);
            if (evalEvery < 1) throw new IllegalArgumentException("--eval-every must be >= 1, got " + evalEvery);
            if (evalPrompts < 1) throw new IllegalArgumentException("--eval-prompts must be >= 1, got " + evalPrompts);
            if (maxSteps < evalEvery) throw new IllegalArgumentException("--max-steps must be >= --eval-every, got " + maxSteps);
            if (seeds < 1) throw new IllegalArgumentException("--seeds must be >= 1, got " + seeds);
            if (rawRepeats < 1) throw new IllegalArgumentException("--raw-repeats must be >= 1, got " + rawRepeats);
        }
    }

    /**
     * Tokens/s over the steps after the warm-up: tokens trained / wall time between the end of step w and step n;
     * {@code cpu}: the cores each part of the JVM used over the same steps.
     */
    record Throughput(int steps, int warmupSteps, long tokens, double seconds, CpuUse.Share cpu) {
        double tokensPerSecond() {
            return tokens / seconds;
        }

        double msPerStep() {
            return 1000 * seconds / (steps - warmupSteps);
        }

        static Throughput of(long[] stepEndNanos, long[] tokens, int warmup, CpuUse.Share cpu) {
            long sum = 0;
            for (int i = warmup; i < tokens.length; i++) sum += tokens[i];
            double seconds = (stepEndNanos[tokens.length - 1] - stepEndNanos[warmup - 1]) / 1e9;
            return new Throughput(tokens.length, warmup, sum, seconds, cpu);
        }
    }

    /** One held-out evaluation of the trainer's checkpoint after {@code step}, which ended {@code seconds} into the run. */
    record Eval(long step, double seconds, double accuracy) {
    }

    /**
     * One run of the three services. {@code swapMs}: publish→swapped per version the generator loaded (v0 excluded);
     * {@code visibleMs}: publish→complete at a read_committed consumer of the weights topic, for the same versions;
     * {@code trainerWaitMs}: over the steps {@code throughput} measures, the trainer's mean time per step between
     * steps, waiting for its next batch (NaN where not measured).
     */
    record ServiceRun(String name, int maxStaleness, long steps, double seconds, Throughput throughput, double trainerWaitMs,
                      List<Eval> evals, Eval reached, Map<Long, Long> swapMs, Map<Long, Long> visibleMs, long versionsPublished,
                      long droppedStale, List<byte[]> lastWeightRecords) {
    }

    /** One run of the in-process loop with {@code threads} libtorch threads. */
    record InProcessRun(int threads, Throughput throughput) {
    }

    /**
     * (a) one pair of runs of the same steps, back to back: the services over Kafka, then the loop in-process once per
     * thread count. {@code probeMs}: {@link SpeedProbe} before the services, between them and the in-process runs, and after.
     */
    record Pair(ServiceRun services, List<InProcessRun> inProcessRuns, List<Double> probeMs) {
        /** Above this {@link #machineDrift()} a pair's ratio is flagged: the machine, not the code, moved it. */
        static final double DRIFT_LIMIT = 0.10;

        Pair {
            if (inProcessRuns.isEmpty()) throw new IllegalArgumentException("a pair needs at least one in-process run");
            inProcessRuns = List.copyOf(inProcessRuns);
        }

        /**
         * The baseline: the in-process run with the most tokens/s. Which thread count that is depends on the machine
         * (see the README's speed section), and the services are measured against the loop at its best.
         */
        InProcessRun fastestInProcess() {
            return inProcessRuns.stream().max(java.util.Comparator.comparingDouble(r -> r.throughput().tokensPerSecond())).orElseThrow();
        }

        Throughput inProcess() {
            return fastestInProcess().throughput();
        }

        double ratio() {
            return services.throughput().tokensPerSecond() / inProcess().tokensPerSecond();
        }

        double machineDrift() {
            return SpeedProbe.spread(probeMs.stream().mapToDouble(Double::doubleValue).toArray());
        }
    }

    /**
     * Everything measured; ratios are methods. {@code latencyRun}: the services with the weight watchers on, for (c);
     * (a)'s runs go without them, so that their reading of every version is not counted against the services.
     */
    record Result(Settings settings, double sftSeconds, double sftAccuracy, double target, List<Pair> pairs,
                  ServiceRun latencyRun, List<ServiceRun> async, List<ServiceRun> sync, long weightBytes, int weightRecords,
                  List<Double> rawMs) {
        /** (a): the median over the pairs of services / in-process tokens/s. */
        double throughputRatio() {
            return median(pairs.stream().map(Pair::ratio).toList());
        }

        /** (a) as the fastest services run over the fastest in-process run, pairs aside: what drift cannot flatter. */
        double fastestRunsRatio() {
            return fastestServices() / fastestInProcess();
        }

        double fastestServices() {
            return pairs.stream().mapToDouble(p -> p.services().throughput().tokensPerSecond()).max().orElse(Double.NaN);
        }

        double fastestInProcess() {
            return pairs.stream().mapToDouble(p -> p.inProcess().tokensPerSecond()).max().orElse(Double.NaN);
        }

        /** The pair with the median ratio (the lower middle one of an even count): its cores are shown. */
        int medianPair() {
            List<Integer> byRatio = java.util.stream.IntStream.range(0, pairs.size()).boxed()
                    .sorted(java.util.Comparator.comparingDouble(i -> pairs.get(i).ratio())).toList();
            return byRatio.get((pairs.size() - 1) / 2);
        }

        double swapMedianMs() {
            return median(latencyRun.swapMs().values().stream().map(Long::doubleValue).toList());
        }

        /** Of publish→swapped, the part until a read_committed consumer has the whole version. */
        double visibleMedianMs() {
            return median(latencyRun.visibleMs().values().stream().map(Long::doubleValue).toList());
        }

        /** The rest: from every chunk being readable to the generator sampling with the version. */
        double visibleToSwappedMedianMs() {
            return median(latencyRun.swapMs().entrySet().stream()
                    .map(e -> (double) (e.getValue() - latencyRun.visibleMs().get(e.getKey()))).toList());
        }

        double rawMedianMs() {
            return median(rawMs);
        }

        boolean timedToTarget() {
            return !async.isEmpty() && !sync.isEmpty();
        }

        /** (b): median over the seeds of the wall seconds to the target; a run that missed it counts as infinitely slow. */
        static double medianSecondsToTarget(List<ServiceRun> runs) {
            return median(runs.stream().map(r -> r.reached() == null ? Double.POSITIVE_INFINITY : r.reached().seconds()).toList());
        }

        static double medianStepsToTarget(List<ServiceRun> runs) {
            return median(runs.stream().map(r -> r.reached() == null ? Double.POSITIVE_INFINITY : (double) r.reached().step()).toList());
        }
    }

    private final Settings settings;
    private final String bootstrap;
    private final String runId;
    private final PrintStream out;
    private final long started = System.nanoTime();

    BenchPipeline(Settings settings, String bootstrap, String runId, PrintStream out) {
        this.settings = settings;
        this.bootstrap = bootstrap;
        this.runId = runId;
        this.out = out;
    }

    Result run() throws Exception {
        Files.createDirectories(settings.workDir());
        phase("SFT: %d steps on '%s' (one checkpoint, the start of every measured run)", settings.sftSteps(), settings.task().name());
        long sftStart = System.nanoTime();
        Path sft = settings.workDir().resolve("sft.ckpt");
        // SftConfig.DEFAULT's seed (1234) seeds the policy and the SFT batches
        SftCommand.trainCheckpoint(settings.task(), settings.modelConfig(), settings.device(),
                SftConfig.DEFAULT.withSteps(settings.sftSteps()), sft);
        double sftSeconds = (System.nanoTime() - sftStart) / 1e9;
        byte[] sftWeights = Checkpoint.read(sft).weights();
        double sftAccuracy = HeldOut.accuracy(sftWeights, settings.task(), settings.device(), settings.evalPrompts(), HeldOut.SAMPLED);
        double target = Math.min(1.0, sftAccuracy + settings.targetPoints() / 100);
        phase("SFT done in %.1f s: held-out sampled accuracy %.1f %% (%d prompts); target for (b) %.1f %%",
                sftSeconds, 100 * sftAccuracy, settings.evalPrompts(), 100 * target);

        // first: it takes the fresh JVM's warm-up (C1 compiling the broker's, Streams' and the clients' code), which
        // (a) is not meant to measure
        phase("(c) services with weight watchers: %d steps", LATENCY_STEPS);
        ServiceRun latencyRun = runServices("latency", sft, settings.asyncStaleness(), LATENCY_STEPS, Double.NaN, 0, true);

        // back-to-back pairs: this machine's speed drifts by more than the difference being measured
        List<Pair> pairs = new ArrayList<>();
        for (int p = 1; p <= settings.pairs(); p++) {
            double before = SpeedProbe.ms();
            phase("(a) pair %d of %d: services over Kafka, %d steps, %d groups of %d, max-staleness %d", p, settings.pairs(),
                    settings.throughputSteps(), settings.batchGroups(), settings.groupSize(), settings.asyncStaleness());
            ServiceRun services = runServices("throughput-" + p, sft, settings.asyncStaleness(), settings.throughputSteps(), Double.NaN, 0, false);
            double between = SpeedProbe.ms();
            List<InProcessRun> inProcessRuns = new ArrayList<>();
            // the run right after the services may find the JVM slower (see the README): which count goes first alternates
            List<Integer> order = new ArrayList<>(settings.inProcessThreads());
            if (p % 2 == 0) java.util.Collections.reverse(order);
            for (int threads : order) {
                phase("(a) pair %d of %d: in-process RlLoop (GRPO), same steps and batch shape, %d libtorch thread(s)", p, settings.pairs(), threads);
                inProcessRuns.add(new InProcessRun(threads, runInProcess(sftWeights, threads)));
            }
            inProcessRuns.sort(java.util.Comparator.comparingInt(InProcessRun::threads));
            Pair pair = new Pair(services, inProcessRuns, List.of(before, between, SpeedProbe.ms()));
            pairs.add(pair);
            phase("(a) pair %d of %d: %.0f / %.0f tokens/s (%.0f / %.0f ms/step, in-process %s), ratio %.3f; speed probe %s ms", p,
                    settings.pairs(), services.throughput().tokensPerSecond(), pair.inProcess().tokensPerSecond(),
                    services.throughput().msPerStep(), pair.inProcess().msPerStep(), msByThreads(pair), pair.ratio(), probes(pair));
        }

        List<byte[]> weightRecords = latencyRun.lastWeightRecords();
        long weightBytes = weightRecords.stream().mapToLong(b -> b.length).sum();
        phase("(c) raw produce→consume of the last version's %d record(s), %d bytes, %d times", weightRecords.size(), weightBytes, settings.rawRepeats());
        List<Double> rawMs = rawProduceConsume(weightRecords);

        List<ServiceRun> async = new ArrayList<>(), sync = new ArrayList<>();
        if (!settings.skipTimeToTarget()) {
            // one pair is at the mercy of its prompts and of a 200-prompt evaluation every few steps: several seeds, medians
            for (int seed = 1; seed <= settings.seeds(); seed++) {
                phase("(b) seed %d of %d: max-staleness %d until held-out sampled accuracy >= %.1f %% (cap %d steps)", seed, settings.seeds(),
                        settings.asyncStaleness(), 100 * target, settings.maxSteps());
                async.add(reportReached(runServices("async-s" + seed, sft, settings.asyncStaleness(), settings.maxSteps(), target, seed, false)));
                phase("(b) seed %d of %d: max-staleness 0 until held-out sampled accuracy >= %.1f %% (cap %d steps)", seed, settings.seeds(),
                        100 * target, settings.maxSteps());
                sync.add(reportReached(runServices("sync-s" + seed, sft, 0, settings.maxSteps(), target, seed, false)));
            }
        }
        return new Result(settings, sftSeconds, sftAccuracy, target, pairs, latencyRun, async, sync,
                weightBytes, weightRecords.size(), rawMs);
    }

    private ServiceRun reportReached(ServiceRun r) {
        if (r.reached() != null) {
            phase("(b) %s: reached %.1f %% at step %d, %.1f s", r.name(), 100 * r.reached().accuracy(), r.reached().step(), r.reached().seconds());
        } else {
            phase("(b) %s: target not reached in %d steps (%.1f s)", r.name(), r.steps(), r.seconds());
        }
        return r;
    }

    /**
     * The three services from the SFT checkpoint on fresh topics, until {@code maxSteps} or held-out accuracy >= target.
     * {@code seed} shifts the prompt order and the generator's sampling; {@code watch} follows the weights topic and the
     * generator's swaps for (c), which costs CPU of its own.
     */
    private ServiceRun runServices(String name, Path sft, int maxStaleness, int maxSteps, double target, long seed,
                                   boolean watch) throws Exception {
        Topics topics = Topics.withPrefix("bench-" + runId + "-" + name + ".");
        TopicAdmin.ensureTopics(bootstrap, topics, DemoRun.PARTITIONS, (short) 1);
        Path dir = Files.createDirectories(settings.workDir().resolve(name));
        Path checkpoint = dir.resolve("trainer").resolve(TrainerConfig.CHECKPOINT_FILE);
        boolean evaluating = !Double.isNaN(target);

        long[] stepEnd = new long[maxSteps];
        long[] tokens = new long[maxSteps];
        List<Eval> evals = new ArrayList<>();
        AtomicReference<Eval> reached = new AtomicReference<>();
        long[] dropped = new long[1];
        AtomicReference<CpuUse.Snapshot> cpuAfterWarmup = new AtomicReference<>(), cpuAtEnd = new AtomicReference<>();
        AtomicReference<TrainerService> self = new AtomicReference<>();
        long[] waitMs = {-1, -1};   // trainer's batch wait at the end of the warm-up and of the last step
        ExecutorService evaluator = Executors.newSingleThreadExecutor(r -> new Thread(r, "bench-eval"));
        long[] runStart = {System.nanoTime()};

        GeneratorConfig generatorConfig = DemoRun.generatorConfig(bootstrap, topics, "bench-generator-" + name,
                settings.groupSize(), settings.batchGroups(), maxStaleness, SERVICE_SEED + seed);
        WeightsWatcher weights = watch ? new WeightsWatcher(generatorConfig) : null;
        Thread weightsThread = watch ? new Thread(weights, "bench-weights-watcher") : null;
        if (watch) weightsThread.start();

        RewardService reward = null;
        TrainerService trainer = null;
        GeneratorService generator = null;
        SwapWatcher swaps = null;
        Thread swapThread = null;
        try {
            reward = new RewardService(RewardConfig.defaults(bootstrap).withTopics(topics).withStateDir(dir.resolve("reward-state"))).start();
            runStart[0] = System.nanoTime();
            trainer = new TrainerService(TrainerCommand.config(bootstrap, topics, sft, dir.resolve("trainer"), settings.batchGroups(), 1,
                    maxStaleness, settings.lr(), GrpoConfig.DEFAULT_BETA, maxSteps)
                    .withDevice("cpu", DemoRun.TRAINER_THREADS)
                    .withStop(maxSteps, false))
                    .onStep(r -> {
                        int i = (int) r.step() - 1;
                        if (i < 0 || i >= maxSteps) return;
                        stepEnd[i] = System.nanoTime();
                        tokens[i] = r.tokens();
                        dropped[0] += r.droppedStale();
                        if (r.step() == settings.warmupSteps()) {
                            cpuAfterWarmup.set(CpuUse.take());
                            waitMs[0] = self.get().batchWaitMillis();
                        }
                        if (r.step() == maxSteps) {
                            cpuAtEnd.set(CpuUse.take());
                            waitMs[1] = self.get().batchWaitMillis();
                        }
                        if (r.step() % 10 == 0) {
                            log.info("{} step {} v{} reward {} {} tok/s", name, r.step(), r.policyVersion(),
                                    String.format(Locale.ROOT, "%.3f", r.rewardMean()), Math.round(r.tokensPerSecond()));
                        }
                        if (evaluating && r.step() % settings.evalEvery() == 0 && reached.get() == null) {
                            double seconds = (stepEnd[i] - runStart[0]) / 1e9;
                            byte[] w = HeldOut.weights(checkpoint);   // written before the listener runs: this step's weights
                            evaluator.submit(() -> {
                                double accuracy = HeldOut.accuracy(w, settings.task(), settings.device(), settings.evalPrompts(), HeldOut.SAMPLED);
                                Eval e = new Eval(r.step(), seconds, accuracy);
                                synchronized (evals) {
                                    evals.add(e);
                                }
                                phase("(b) %s: held-out sampled accuracy at step %d (%.1f s): %.1f %%", name, r.step(), seconds, 100 * accuracy);
                                if (accuracy >= target) reached.compareAndSet(null, e);
                                return null;
                            });
                        }
                    });
            self.set(trainer);   // the listener reads the trainer's wait through it
            trainer.start();
            generator = new GeneratorService(generatorConfig).start();
            if (watch) {
                swaps = new SwapWatcher(generator);
                swapThread = new Thread(swaps, "bench-swap-watcher");
                swapThread.start();
            }
            int prompts = (int) Math.ceil(maxSteps * settings.batchGroups() * 1.25) + 4 * settings.batchGroups();
            PromptFeeder.feed(bootstrap, topics, settings.task(), prompts, settings.groupSize(), 42 + seed, "");
            while (!trainer.awaitStop(Duration.ofMillis(200)) && reached.get() == null) {
                if (trainer.failure().isPresent()) throw new IllegalStateException(name + ": trainer failed", trainer.failure().get());
                if (generator.failure().isPresent()) throw new IllegalStateException(name + ": generator failed", generator.failure().get());
            }
            long steps = Math.min(trainer.step(), maxSteps);
            double seconds = (System.nanoTime() - runStart[0]) / 1e9;
            evaluator.shutdown();
            evaluator.awaitTermination(5, TimeUnit.MINUTES);   // evaluations of steps already taken still count
            long versions = trainer.policyVersion();
            Map<Long, Long> swapMs = new java.util.TreeMap<>();
            Map<Long, Long> visibleMs = new java.util.TreeMap<>();
            if (watch) {
                swaps.stop();
                swapThread.join();
                weights.stop();
                weightsThread.join();
                swaps.swappedAtMs.forEach((version, at) -> {
                    Long publishedAt = weights.createdAtMs.get(version);
                    Long visibleAt = weights.visibleAtMs.get(version);
                    if (version > 0 && publishedAt != null && visibleAt != null) {
                        swapMs.put(version, at - publishedAt);
                        visibleMs.put(version, visibleAt - publishedAt);
                    }
                });
            }
            int measured = (int) Math.min(steps, maxSteps);
            Throughput throughput = measured >= settings.warmupSteps() + 2
                    ? Throughput.of(Arrays.copyOf(stepEnd, measured), Arrays.copyOf(tokens, measured), settings.warmupSteps(),
                    cpuAfterWarmup.get() != null && cpuAtEnd.get() != null ? CpuUse.between(cpuAfterWarmup.get(), cpuAtEnd.get()) : CpuUse.Share.NONE)
                    : null;
            List<Eval> sorted;
            synchronized (evals) {
                sorted = evals.stream().sorted(java.util.Comparator.comparingLong(Eval::step)).toList();
            }
            // the first evaluated step at or above the target (a later step's evaluation may have finished first)
            Eval first = sorted.stream().filter(e -> e.accuracy() >= target).findFirst().orElse(null);
            double trainerWaitMs = throughput != null && waitMs[0] >= 0 && waitMs[1] >= 0
                    ? (double) (waitMs[1] - waitMs[0]) / (throughput.steps() - throughput.warmupSteps()) : Double.NaN;
            return new ServiceRun(name, maxStaleness, steps, seconds, throughput, trainerWaitMs, sorted, first, swapMs, visibleMs, versions,
                    dropped[0], watch ? weights.lastRecords.get() : List.of());
        } finally {
            evaluator.shutdownNow();
            if (swaps != null) swaps.stop();
            if (weights != null) weights.stop();
            if (generator != null) generator.close();
            if (trainer != null) trainer.close();
            if (reward != null) reward.close();
        }
    }

    /**
     * The same loop without Kafka, on the calling thread with {@code threads} libtorch threads: sample G per prompt,
     * score, advantages, one GRPO step, one after the other.
     */
    private Throughput runInProcess(byte[] sftWeights, int threads) {
        int steps = settings.throughputSteps();
        long[] stepEnd = new long[steps];
        long[] tokens = new long[steps];
        CpuUse.Snapshot cpuAfterWarmup = null;
        try (Policy policy = WeightCodec.decode(sftWeights, settings.device());
             Policy reference = WeightCodec.decode(sftWeights, settings.device())) {
            Policy.setIntraOpThreads(threads);
            TrainerConfig trainerConfig = TrainerCommand.config(bootstrap, Topics.DEFAULT, Path.of("unused"), Path.of("unused"),
                    settings.batchGroups(), 1, settings.asyncStaleness(), settings.lr(), GrpoConfig.DEFAULT_BETA, steps);
            RlLoop loop = new RlLoop(policy, reference, settings.task(),
                    new RlLoop.Config(settings.batchGroups(), settings.groupSize(),
                            SamplingParams.plain(SERVICE_SEED, DemoRun.MAX_TOKENS), true, 42),
                    trainerConfig.update());
            for (int i = 0; i < steps; i++) {
                RlLoop.StepResult r = loop.step();
                stepEnd[i] = System.nanoTime();
                tokens[i] = r.stats().tokens();
                if (i + 1 == settings.warmupSteps()) cpuAfterWarmup = CpuUse.take();
                if ((i + 1) % 10 == 0) log.info("in-process step {} reward {}", i + 1, String.format(Locale.ROOT, "%.3f", r.meanReward()));
            }
        }
        return Throughput.of(stepEnd, tokens, settings.warmupSteps(), CpuUse.between(cpuAfterWarmup, CpuUse.take()));
    }

    /**
     * Produces the given records (a published version's weight chunks, as they were on the topic) with a plain,
     * non-transactional producer and times until a consumer that is already polling has all of them.
     */
    private List<Double> rawProduceConsume(List<byte[]> records) throws Exception {
        if (records.isEmpty()) throw new IllegalStateException("no weight version was seen on the weights topic");
        Topics topics = Topics.withPrefix("bench-" + runId + "-raw.");
        TopicAdmin.ensureTopics(bootstrap, topics, DemoRun.PARTITIONS, (short) 1);
        String topic = topics.policyWeights();
        GeneratorConfig generatorConfig = GeneratorConfig.defaults(bootstrap).withTopics(topics).withGeneratorId("bench-raw");
        Properties producerProps = TrainerService.producerProperties(
                TrainerCommand.config(bootstrap, topics, Path.of("unused"), Path.of("unused"), 1, 1, 0, 1e-4, 0, 0));
        producerProps.remove(ProducerConfig.TRANSACTIONAL_ID_CONFIG);
        Properties consumerProps = GeneratorService.weightsConsumerProperties(generatorConfig);
        consumerProps.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_uncommitted");
        List<Double> ms = new ArrayList<>();
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(producerProps);
             KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(consumerProps)) {
            List<TopicPartition> partitions = consumer.partitionsFor(topic).stream()
                    .map(p -> new TopicPartition(topic, p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToEnd(partitions);
            partitions.forEach(consumer::position);   // resolve the end offsets before timing
            for (int repeat = -2; repeat < settings.rawRepeats(); repeat++) {   // two untimed warm-ups
                String key = "raw-" + repeat;
                long start = System.nanoTime();
                for (byte[] value : records) producer.send(new ProducerRecord<>(topic, key, value));
                producer.flush();
                int received = 0;
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                while (received < records.size()) {
                    if (System.nanoTime() > deadline) throw new IllegalStateException("raw record " + key + " not consumed within 30 s");
                    for (ConsumerRecord<byte[], byte[]> rec : consumer.poll(Duration.ofMillis(100))) {
                        if (new String(rec.key(), java.nio.charset.StandardCharsets.UTF_8).equals(key)) received++;
                    }
                }
                if (repeat >= 0) ms.add((System.nanoTime() - start) / 1e6);
            }
        }
        return ms;
    }


    private void phase(String format, Object... args) {
        out.printf(Locale.ROOT, "[%6.1f s] %s%n", (System.nanoTime() - started) / 1e9, String.format(Locale.ROOT, format, args));
    }

    static double median(List<Double> values) {
        if (values.isEmpty()) return Double.NaN;
        double[] v = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }

    /** Watches the generator's policy version; records the wall-clock ms when each version became the one it samples with. */
    private static final class SwapWatcher implements Runnable {
        final Map<Long, Long> swappedAtMs = new ConcurrentHashMap<>();
        private final GeneratorService generator;
        private volatile boolean running = true;

        SwapWatcher(GeneratorService generator) {
            this.generator = generator;
        }

        @Override
        public void run() {
            long last = -1;
            while (running) {
                long version = generator.policyVersion();
                if (version > last) {
                    swappedAtMs.put(version, System.currentTimeMillis());
                    last = version;
                }
                try {
                    Thread.sleep(1);   // 1 ms resolution; the latencies measured are tens to hundreds of ms
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }

        void stop() {
            running = false;
        }
    }

    /** Reads the run's weights topic (read_committed, as a generator does): each version's createdAtMs and raw records. */
    private static final class WeightsWatcher implements Runnable {
        final Map<Long, Long> createdAtMs = new ConcurrentHashMap<>();
        /** Wall-clock ms when this read_committed consumer had every chunk of the version. */
        final Map<Long, Long> visibleAtMs = new ConcurrentHashMap<>();
        final AtomicReference<List<byte[]>> lastRecords = new AtomicReference<>(List.of());
        private final GeneratorConfig config;
        private volatile boolean running = true;

        WeightsWatcher(GeneratorConfig config) {
            this.config = config;
        }

        @Override
        public void run() {
            Properties props = GeneratorService.weightsConsumerProperties(config);
            props.put(ConsumerConfig.CLIENT_ID_CONFIG, config.generatorId() + "-bench-watcher");
            String topic = config.topics().policyWeights();
            Map<Long, List<byte[]>> partial = new java.util.HashMap<>();
            try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(props)) {
                List<TopicPartition> partitions = consumer.partitionsFor(topic).stream()
                        .map(p -> new TopicPartition(topic, p.partition())).toList();
                consumer.assign(partitions);
                consumer.seekToBeginning(partitions);
                while (running) {
                    for (ConsumerRecord<byte[], byte[]> rec : consumer.poll(Duration.ofMillis(50))) {
                        WeightChunk chunk = RlSerdes.weightChunk().codec().decode(rec);
                        List<byte[]> chunks = partial.computeIfAbsent(chunk.getVersion(), v -> new ArrayList<>());
                        chunks.add(rec.value());
                        if (chunks.size() == chunk.getChunkCount()) {
                            visibleAtMs.put(chunk.getVersion(), System.currentTimeMillis());
                            createdAtMs.put(chunk.getVersion(), chunk.getCreatedAtMs().toEpochMilli());
                            lastRecords.set(List.copyOf(partial.remove(chunk.getVersion())));
                        }
                    }
                }
            }
        }

        void stop() {
            running = false;
        }
    }

    /** The table printed on stdout. */
    static String table(Result r) {
        StringBuilder t = new StringBuilder();
        int median = r.medianPair();
        t.append(String.format(Locale.ROOT, "%nrlkafka bench pipeline  (task %s, %d groups x %d per step, SFT %d steps -> held-out sampled accuracy %.1f %%)%n",
                r.settings().task().name(), r.settings().batchGroups(), r.settings().groupSize(), r.settings().sftSteps(), 100 * r.sftAccuracy()));
        t.append(String.format(Locale.ROOT, "%d cores, JIT %s, weights sha256 %s%n", Runtime.getRuntime().availableProcessors(), jit(),
                Sha256.implementation()));
        t.append(String.format(Locale.ROOT, "%-62s %14s %14s %9s%n", "measure", "pipeline", "baseline", "ratio"));
        t.append("-".repeat(102)).append('\n');
        List<Throughput> services = r.pairs().stream().map(p -> p.services().throughput()).toList();
        List<Throughput> inProcess = r.pairs().stream().map(Pair::inProcess).toList();
        t.append(String.format(Locale.ROOT, "%-62s %14.0f %14.0f %9.3f%n",
                "(a) RL-loop tokens/s: services / in-process loop, median of " + r.pairs().size(),
                medianOf(services, Throughput::tokensPerSecond), medianOf(inProcess, Throughput::tokensPerSecond), r.throughputRatio()));
        t.append(String.format(Locale.ROOT, "%-62s %14.0f %14.0f%n", "    ms per trainer step (steps " + (services.get(0).warmupSteps() + 1)
                + ".." + services.get(0).steps() + "), median", medianOf(services, Throughput::msPerStep), medianOf(inProcess, Throughput::msPerStep)));
        // the baseline's own speed drifts between pairs more than the services' does: the fastest run of each side
        t.append(String.format(Locale.ROOT, "%-62s %14.0f %14.0f %9.3f%n", "    fastest run of each side, tokens/s",
                r.fastestServices(), r.fastestInProcess(), r.fastestRunsRatio()));
        List<Double> waits = r.pairs().stream().map(p -> p.services().trainerWaitMs()).toList();
        t.append(String.format(Locale.ROOT, "%-62s %14.0f%n", "    trainer's wait for its next batch, ms per step, median", median(waits)));
        t.append("    per pair, ratio (ms per step):");
        for (int i = 0; i < r.pairs().size(); i++) {
            t.append(String.format(Locale.ROOT, "  %d: %.3f (%.0f / %.0f)", i + 1, r.pairs().get(i).ratio(),
                    services.get(i).msPerStep(), inProcess.get(i).msPerStep()));
        }
        t.append('\n');
        t.append("    in-process ms per step by libtorch threads, per pair (the most tokens/s is the baseline):");
        for (int i = 0; i < r.pairs().size(); i++) t.append(String.format(Locale.ROOT, "  %d: %s", i + 1, msByThreads(r.pairs().get(i))));
        t.append('\n');
        t.append("    trainer's wait per step (groups dropped as stale), per pair:");
        for (int i = 0; i < waits.size(); i++) {
            t.append(String.format(Locale.ROOT, "  %d: %.0f (%d)", i + 1, waits.get(i), r.pairs().get(i).services().droppedStale()));
        }
        t.append('\n');
        t.append("    machine speed probe, ms before / between / after:");
        for (int i = 0; i < r.pairs().size(); i++) t.append(String.format(Locale.ROOT, "  %d: %s", i + 1, probes(r.pairs().get(i))));
        t.append('\n');
        List<String> drifted = java.util.stream.IntStream.range(0, r.pairs().size())
                .filter(i -> r.pairs().get(i).machineDrift() > Pair.DRIFT_LIMIT).mapToObj(i -> Integer.toString(i + 1)).toList();
        if (!drifted.isEmpty()) {
            t.append(String.format(Locale.ROOT, "    ! the machine's speed changed by more than %.0f %% during pair(s) %s: "
                    + "their ratios measure the machine as much as the services%n", 100 * Pair.DRIFT_LIMIT, String.join(", ", drifted)));
        }
        t.append("    cores used, services, pair ").append(median + 1).append(":   ").append(services.get(median).cpu().line()).append('\n');
        t.append("    cores used, in-process, pair ").append(median + 1).append(", ").append(r.pairs().get(median).fastestInProcess().threads())
                .append(" thread(s): ").append(inProcess.get(median).cpu().line()).append('\n');
        if (r.timedToTarget()) {
            String target = String.format(Locale.ROOT, "%.1f %%", 100 * r.target());
            double asyncSeconds = Result.medianSecondsToTarget(r.async()), syncSeconds = Result.medianSecondsToTarget(r.sync());
            double asyncSteps = Result.medianStepsToTarget(r.async()), syncSteps = Result.medianStepsToTarget(r.sync());
            t.append(String.format(Locale.ROOT, "%-62s %14s %14s %9s%n", "(b) wall s to held-out " + target + ": staleness "
                            + r.settings().asyncStaleness() + " / 0, median of " + r.async().size(),
                    finite("%.1f", asyncSeconds), finite("%.1f", syncSeconds), finite("%.3f", asyncSeconds / syncSeconds)));
            t.append(String.format(Locale.ROOT, "%-62s %14s %14s %9s%n", "    trainer steps to the target, median",
                    finite("%.0f", asyncSteps), finite("%.0f", syncSteps), finite("%.3f", asyncSteps / syncSteps)));
            t.append("    per seed, s (steps):");
            for (int i = 0; i < r.async().size(); i++) {
                t.append(String.format(Locale.ROOT, "  %d: %s / %s", i + 1, reachedSeconds(r.async().get(i)), reachedSeconds(r.sync().get(i))));
            }
            t.append('\n');
        } else {
            t.append(String.format(Locale.ROOT, "%-62s %14s %14s %9s%n", "(b) time to target", "skipped", "skipped", "n/a"));
        }
        t.append(String.format(Locale.ROOT, "%-62s %14.1f %14.1f %9.1f%n",
                "(c) median ms publish->swapped / raw produce->consume", r.swapMedianMs(), r.rawMedianMs(), r.swapMedianMs() / r.rawMedianMs()));
        t.append(String.format(Locale.ROOT, "%-62s %14.1f %14.1f%n",
                "    of which publish->visible (committed) / visible->swapped", r.visibleMedianMs(), r.visibleToSwappedMedianMs()));
        t.append(String.format(Locale.ROOT, "    (%d versions swapped, %d weight record(s) of %d bytes in all, raw x%d)%n",
                r.latencyRun().swapMs().size(), r.weightRecords(), r.weightBytes(), r.rawMs().size()));
        return t.toString();
    }

    /** "1 thread 73, 2 threads 94" */
    private static String msByThreads(Pair pair) {
        return pair.inProcessRuns().stream().map(run -> String.format(Locale.ROOT, "%d thread%s %.0f", run.threads(),
                run.threads() == 1 ? "" : "s", run.throughput().msPerStep())).collect(Collectors.joining(", "));
    }

    /** "41/42/41" */
    private static String probes(Pair pair) {
        return pair.probeMs().stream().map(ms -> String.format(Locale.ROOT, "%.0f", ms)).collect(Collectors.joining("/"));
    }

    private static double medianOf(List<Throughput> runs, java.util.function.ToDoubleFunction<Throughput> value) {
        return median(runs.stream().map(value::applyAsDouble).toList());
    }

    /** The launcher runs the JIT's first tier only (see ./rlkafka); the ratios depend on it, so the report says which. */
    static String jit() {
        var vm = java.lang.management.ManagementFactory.getPlatformMXBean(com.sun.management.HotSpotDiagnosticMXBean.class);
        boolean tiered = Boolean.parseBoolean(vm.getVMOption("TieredCompilation").getValue());
        int stopAt = Integer.parseInt(vm.getVMOption("TieredStopAtLevel").getValue());
        return !tiered ? "C2 only" : stopAt >= 4 ? "C1 + C2 (tiered)" : "C1 only (TieredStopAtLevel=" + stopAt + ")";
    }

    private static String reachedSeconds(ServiceRun run) {
        return run.reached() == null ? String.format(Locale.ROOT, ">%.1f (>%d)", run.seconds(), run.steps())
                : String.format(Locale.ROOT, "%.1f (%d)", run.reached().seconds(), run.reached().step());
    }

    /** "n/a" for a median or ratio with a run that missed the target in it. */
    private static String finite(String format, double v) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, format, v) : "n/a";
    }

    /** Raw numbers and ratios. */
    static String json(Result r) {
        Settings s = r.settings();
        StringBuilder j = new StringBuilder("{\n");
        j.append(String.format(Locale.ROOT, "  \"settings\": {\"task\": \"%s\", \"model\": {\"width\": %d, \"layers\": %d, \"heads\": %d, \"context\": %d}, "
                        + "\"sftSteps\": %d, \"lr\": %s, \"batchGroups\": %d, \"groupSize\": %d, \"steps\": %d, \"warmupSteps\": %d, \"pairs\": %d, "
                        + "\"maxStaleness\": %d, \"inProcessThreads\": %s, \"targetPoints\": %s, \"evalEvery\": %d, \"evalPrompts\": %d, "
                        + "\"maxSteps\": %d, \"rawRepeats\": %d, \"cores\": %d, \"jit\": \"%s\", \"sha256\": \"%s\"},%n",
                s.task().name(), s.modelConfig().width(), s.modelConfig().layers(), s.modelConfig().heads(), s.modelConfig().contextLength(),
                s.sftSteps(), s.lr(), s.batchGroups(), s.groupSize(), s.throughputSteps(), s.warmupSteps(), s.pairs(), s.asyncStaleness(),
                s.inProcessThreads(), s.targetPoints(), s.evalEvery(), s.evalPrompts(), s.maxSteps(), s.rawRepeats(),
                Runtime.getRuntime().availableProcessors(), jit(), Sha256.implementation()));
        j.append(String.format(Locale.ROOT, "  \"sft\": {\"seconds\": %.2f, \"heldoutSampledAccuracy\": %.4f},%n", r.sftSeconds(), r.sftAccuracy()));
        j.append(String.format(Locale.ROOT, "  \"throughput\": {\"pairs\": [%s], \"medianRatio\": %.4f, \"fastestRunsRatio\": %.4f},%n",
                r.pairs().stream().map(p -> String.format(Locale.ROOT, "{\"services\": %s, \"inProcess\": %s, \"baselineThreads\": %d, "
                                + "\"inProcessRuns\": [%s], \"ratio\": %.4f, \"trainerWaitMsPerStep\": %s, \"versionsPublished\": %d, \"droppedStale\": %d, \"speedProbeMs\": [%s]}", json(p.services().throughput()),
                        json(p.inProcess()), p.fastestInProcess().threads(), p.inProcessRuns().stream()
                                .map(run -> String.format(Locale.ROOT, "{\"threads\": %d, \"throughput\": %s}", run.threads(), json(run.throughput())))
                                .collect(Collectors.joining(", ")), p.ratio(), fmt(p.services().trainerWaitMs()), p.services().versionsPublished(), p.services().droppedStale(),
                        p.probeMs().stream().map(BenchPipeline::fmt).collect(Collectors.joining(", ")))).collect(Collectors.joining(", ")),
                r.throughputRatio(), r.fastestRunsRatio()));
        if (r.timedToTarget()) {
            double seconds = Result.medianSecondsToTarget(r.async()) / Result.medianSecondsToTarget(r.sync());
            double steps = Result.medianStepsToTarget(r.async()) / Result.medianStepsToTarget(r.sync());
            j.append(String.format(Locale.ROOT, "  \"timeToTarget\": {\"target\": %.4f, \"async\": [%s], \"sync\": [%s], "
                            + "\"medianSecondsAsync\": %s, \"medianSecondsSync\": %s, \"ratioSeconds\": %s, \"ratioSteps\": %s},%n",
                    r.target(), r.async().stream().map(BenchPipeline::json).collect(Collectors.joining(", ")),
                    r.sync().stream().map(BenchPipeline::json).collect(Collectors.joining(", ")),
                    fmt(Result.medianSecondsToTarget(r.async())), fmt(Result.medianSecondsToTarget(r.sync())), fmt(seconds), fmt(steps)));
        } else {
            j.append("  \"timeToTarget\": null,\n");
        }
        j.append(String.format(Locale.ROOT, "  \"weightLatency\": {\"weightBytes\": %d, \"weightRecords\": %d, \"publishToSwappedMs\": {%s}, "
                        + "\"publishToSwappedMedianMs\": %s, \"publishToVisibleMedianMs\": %s, \"rawProduceConsumeMs\": [%s], \"rawMedianMs\": %s, \"ratio\": %s}%n",
                r.weightBytes(), r.weightRecords(),
                r.latencyRun().swapMs().entrySet().stream().map(e -> "\"" + e.getKey() + "\": " + e.getValue()).collect(Collectors.joining(", ")),
                fmt(r.swapMedianMs()), fmt(r.visibleMedianMs()), r.rawMs().stream().map(BenchPipeline::fmt).collect(Collectors.joining(", ")),
                fmt(r.rawMedianMs()), fmt(r.swapMedianMs() / r.rawMedianMs())));
        return j.append("}\n").toString();
    }

    private static String json(Throughput t) {
        return String.format(Locale.ROOT, "{\"steps\": %d, \"warmupSteps\": %d, \"tokens\": %d, \"seconds\": %.3f, \"tokensPerSecond\": %.1f, \"msPerStep\": %.1f, \"cores\": %s}",
                t.steps(), t.warmupSteps(), t.tokens(), t.seconds(), t.tokensPerSecond(), t.msPerStep(), t.cpu().json());
    }

    private static String json(ServiceRun run) {
        return String.format(Locale.ROOT, "{\"maxStaleness\": %d, \"steps\": %d, \"seconds\": %.2f, \"reachedStep\": %s, \"reachedSeconds\": %s, "
                        + "\"droppedStale\": %d, \"evals\": [%s]}",
                run.maxStaleness(), run.steps(), run.seconds(),
                run.reached() == null ? "null" : "" + run.reached().step(),
                run.reached() == null ? "null" : fmt(run.reached().seconds()), run.droppedStale(),
                run.evals().stream().map(e -> String.format(Locale.ROOT, "{\"step\": %d, \"seconds\": %.2f, \"accuracy\": %.4f}",
                        e.step(), e.seconds(), e.accuracy())).collect(Collectors.joining(", ")));
    }

    private static String fmt(double v) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%.4f", v) : "null";
    }
}
