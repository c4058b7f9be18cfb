package dev.rlkafka.policy.bench;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.rlkafka.policy.model.LogProbs;
import dev.rlkafka.policy.model.ModelConfig;
import dev.rlkafka.policy.model.Policy;
import dev.rlkafka.policy.sampling.Completion;
import dev.rlkafka.policy.sampling.Sampler;
import dev.rlkafka.policy.sampling.SamplingParams;
import dev.rlkafka.policy.tokenizer.ByteTokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Measures, in one run on one machine: sampling throughput with the KV cache and with full prefix
 * recompute, training throughput (forward + backward + SGD step on the completion NLL), and training
 * FLOP/s against this machine's measured matmul FLOP/s.
 */
public final class PolicyBench {

    private static final Logger log = LoggerFactory.getLogger(PolicyBench.class);

    /**
     * @param model            model to measure, randomly initialised (speed does not depend on the values)
     * @param device           where it runs
     * @param batch            rows sampled together and rows per training step (a generator batch is
     *                         prompts × group size, so 64 = 8 prompts × G 8 is typical)
     * @param promptTokens     prompt length, BOS included; completions run to the end of the context
     * @param repeats          timed repetitions of each measurement, after one untimed warm-up
     * @param samplingThreads  libtorch intra-op threads while sampling
     * @param trainingThreads  libtorch intra-op threads while training; on the shared 2-core dev machine
     *                         2 threads trained at 348 tokens/s against 13,340 with 1 (OpenMP threads
     *                         spin-wait for a core other processes hold), so the default is 1
     */
    public record Config(ModelConfig model, Device device, int batch, int promptTokens, int repeats,
                         int samplingThreads, int trainingThreads) {
        public Config {
            if (batch < 1) throw new IllegalArgumentException("batch must be >= 1, got " + batch);
            if (promptTokens < 1 || promptTokens >= model.contextLength()) {
                throw new IllegalArgumentException("promptTokens must be in [1, " + model.contextLength() + "), got " + promptTokens);
            }
            if (repeats < 1) throw new IllegalArgumentException("repeats must be >= 1, got " + repeats);
            if (samplingThreads < 1 || trainingThreads < 1) {
                throw new IllegalArgumentException("threads must be >= 1, got " + samplingThreads + " and " + trainingThreads);
            }
        }

        public static Config defaults() {
            return new Config(ModelConfig.DEFAULT, Device.cpu(), 64, 4, 3, 1, 1);
        }

        public int newTokens() {
            return model.contextLength() - promptTokens;
        }
    }

    /**
     * @param sampleTokensPerSecCached    completion tokens per second with the KV cache
     * @param sampleTokensPerSecRecompute completion tokens per second recomputing the prefix each step
     * @param trainTokensPerSec           sequence tokens per second through forward + backward + update
     * @param trainFlopsPerToken          6·N + 12·L·C·T (nanoGPT's estimate: weights fwd+bwd, plus attention scores and values)
     * @param matmulFlopsPerSec           plain matmul (B·T, C)×(C, 4C) on this machine, training threads
     */
    public record Result(Config config, long parameters, double sampleTokensPerSecCached, double sampleTokensPerSecRecompute,
                         double trainTokensPerSec, double trainFlopsPerToken, double matmulFlopsPerSec) {

        public double cacheSpeedup() {
            return sampleTokensPerSecCached / sampleTokensPerSecRecompute;
        }

        public double trainFlopsPerSec() {
            return trainTokensPerSec * trainFlopsPerToken;
        }

        /** Training FLOP/s as a fraction of the matmul FLOP/s this machine reached. */
        public double trainFlopsFraction() {
            return trainFlopsPerSec() / matmulFlopsPerSec;
        }

        public String table() {
            ModelConfig m = config.model();
            return String.format(Locale.ROOT, """
                    policy bench: %s, %,d parameters, %s
                    batch %d, prompt %d tokens, %d new tokens; threads: sampling %d, training %d
                    %-34s %14s
                    %-34s %,14.0f
                    %-34s %,14.0f
                    %-34s %13.1fx
                    %-34s %,14.0f
                    %-34s %14.2f
                    %-34s %14.2f
                    %-34s %13.1f%%
                    """,
                    m, parameters, config.device(), config.batch(), config.promptTokens(), config.newTokens(),
                    config.samplingThreads(), config.trainingThreads(),
                    "measure", "value",
                    "sample tokens/s, KV cache", sampleTokensPerSecCached,
                    "sample tokens/s, full recompute", sampleTokensPerSecRecompute,
                    "KV cache speedup", cacheSpeedup(),
                    "train tokens/s (fwd+bwd+update)", trainTokensPerSec,
                    "train GFLOP/s (6N + 12LCT per tok)", trainFlopsPerSec() / 1e9,
                    "matmul GFLOP/s (same machine)", matmulFlopsPerSec / 1e9,
                    "train FLOP/s / matmul FLOP/s", 100 * trainFlopsFraction());
        }

        /** Flat JSON object; field names as in this record plus the derived ratios. */
        public String toJson() {
            ModelConfig m = config.model();
            return String.format(Locale.ROOT, "{\"vocabSize\": %d, \"contextLength\": %d, \"width\": %d, \"layers\": %d, "
                            + "\"heads\": %d, \"parameters\": %d, \"device\": \"%s\", \"batch\": %d, \"promptTokens\": %d, "
                            + "\"newTokens\": %d, \"samplingThreads\": %d, \"trainingThreads\": %d, "
                            + "\"sampleTokensPerSecCached\": %.1f, \"sampleTokensPerSecRecompute\": %.1f, \"cacheSpeedup\": %.3f, "
                            + "\"trainTokensPerSec\": %.1f, \"trainFlopsPerToken\": %.0f, \"trainFlopsPerSec\": %.0f, "
                            + "\"matmulFlopsPerSec\": %.0f, \"trainFlopsFraction\": %.4f}",
                    m.vocabSize(), m.contextLength(), m.width(), m.layers(), m.heads(), parameters, config.device(),
                    config.batch(), config.promptTokens(), config.newTokens(), config.samplingThreads(), config.trainingThreads(),
                    sampleTokensPerSecCached, sampleTokensPerSecRecompute, cacheSpeedup(), trainTokensPerSec, trainFlopsPerToken,
                    trainFlopsPerSec(), matmulFlopsPerSec, trainFlopsFraction());
        }

        public void writeJson(Path path) throws IOException {
            Files.writeString(path, toJson() + "\n");
        }
    }

    private PolicyBench() {}

    public static Result run(Config config) {
        ModelConfig m = config.model();
        try (Policy policy = Policy.create(m, config.device(), 1)) {
            Sampler sampler = new Sampler(policy);
            List<int[]> prompts = prompts(config);
            // maxTokens up to the context end; EOS can stop a row early, so tokens are counted, not assumed
            SamplingParams params = SamplingParams.plain(7, config.newTokens());

            Policy.setIntraOpThreads(config.samplingThreads());
            double[] sampling = interleaved(config.repeats(),
                    () -> countTokens(sampler.sample(prompts, params)),
                    () -> countTokens(sampler.sampleWithoutCache(prompts, params)));
            double cached = sampling[0], recompute = sampling[1];

            Policy.setIntraOpThreads(config.trainingThreads());
            List<int[]> completions = sampler.sample(prompts, params).stream().map(Completion::tokenIds).toList();
            double train = tokensPerSec(config.repeats(), () -> trainStep(policy, prompts, completions));
            long seqTokens = 0;
            for (int r = 0; r < prompts.size(); r++) seqTokens += prompts.get(r).length + completions.get(r).length;
            double t = (double) seqTokens / prompts.size();   // mean sequence length, the attention span
            double flopsPerToken = 6.0 * policy.parameterCount() + 12.0 * m.layers() * m.width() * t;
            double matmul = matmulFlopsPerSec(policy, config.batch() * m.contextLength(), m.width(), config.repeats());

            Result result = new Result(config, policy.parameterCount(), cached, recompute, train, flopsPerToken, matmul);
            log.info("policy bench: {}", result.toJson());
            return result;
        }
    }

    private static List<int[]> prompts(Config config) {
        List<int[]> prompts = new ArrayList<>();
        for (int r = 0; r < config.batch(); r++) {
            int[] p = new int[config.promptTokens()];
            p[0] = ByteTokenizer.BOS;
            for (int i = 1; i < p.length; i++) p[i] = '0' + (r + i) % 10;
            prompts.add(p);
        }
        return prompts;
    }

    private static long countTokens(List<Completion> completions) {
        return completions.stream().mapToLong(Completion::length).sum();
    }

    /** Trains on the completion NLL, L = −Σ log π(y_t | ...), with a plain SGD step; returns sequence tokens processed. */
    private static long trainStep(Policy policy, List<int[]> prompts, List<int[]> completions) {
        try (NDManager step = policy.manager().newSubManager()) {
            policy.zeroGradients();
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                LogProbs lp = LogProbs.compute(policy, step, prompts, completions);
                gc.backward(lp.logp().sum().div(lp.mask().sum()).neg());
            }
            for (var p : policy.parameters().values()) {
                try (NDArray grad = p.getArray().getGradient(); NDArray update = grad.mul(1e-3f)) {
                    p.getArray().subi(update);
                }
            }
        }
        long tokens = 0;
        for (int r = 0; r < prompts.size(); r++) tokens += prompts.get(r).length + completions.get(r).length;
        return tokens;
    }

    private interface Work {
        long run();   // returns tokens processed
    }

    private static double tokensPerSec(int repeats, Work work) {
        work.run();   // warm-up: allocator, JIT, first-use kernels
        long tokens = 0;
        long start = System.nanoTime();
        for (int i = 0; i < repeats; i++) tokens += work.run();
        return tokens / ((System.nanoTime() - start) / 1e9);
    }

    /**
     * Tokens/s of a and of b, alternating a and b each repeat, so that load from other processes on
     * a shared machine falls on both alike and their ratio stays meaningful.
     */
    private static double[] interleaved(int repeats, Work a, Work b) {
        a.run();
        b.run();
        long tokensA = 0, tokensB = 0, nanosA = 0, nanosB = 0;
        for (int i = 0; i < repeats; i++) {
            long t0 = System.nanoTime();
            tokensA += a.run();
            long t1 = System.nanoTime();
            tokensB += b.run();
            long t2 = System.nanoTime();
            nanosA += t1 - t0;
            nanosB += t2 - t1;
        }
        return new double[] {tokensA / (nanosA / 1e9), tokensB / (nanosB / 1e9)};
    }

    /** FLOP/s of (rows, C)×(C, 4C), the MLP's up-projection shape at training batch size: 2·rows·C·4C per product. */
    private static double matmulFlopsPerSec(Policy policy, int rows, int width, int repeats) {
        try (NDManager step = policy.manager().newSubManager()) {
            NDArray a = step.randomNormal(new Shape(rows, width));
            NDArray b = step.randomNormal(new Shape(width, 4L * width));
            int n = 20 * repeats;
            double flopsEach = 2.0 * rows * width * 4.0 * width;
            tokensPerSec(1, () -> { a.matMul(b).close(); return 0; });
            long start = System.nanoTime();
            for (int i = 0; i < n; i++) a.matMul(b).close();
            return n * flopsEach / ((System.nanoTime() - start) / 1e9);
        }
    }

    /** Runs the default bench and prints the table; the CLI's {@code bench policy} wraps {@link #run}. */
    public static void main(String[] args) throws IOException {
        Config c = Config.defaults();
        if (args.length > 1) {   // [json] [samplingThreads trainingThreads] [width batch]: for measuring choices
            ModelConfig m = args.length > 3 ? new ModelConfig(c.model().vocabSize(), c.model().contextLength(),
                    Integer.parseInt(args[3]), c.model().layers(), c.model().heads()) : c.model();
            int batch = args.length > 4 ? Integer.parseInt(args[4]) : c.batch();
            c = new Config(m, c.device(), batch, c.promptTokens(), c.repeats(), Integer.parseInt(args[1]), Integer.parseInt(args[2]));
        }
        Result result = run(c);
        System.out.print(result.table());
        if (args.length > 0) result.writeJson(Path.of(args[0]));
    }
}
