package dev.rlkafka.policy.sampling;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.rlkafka.policy.model.KvCache;
import dev.rlkafka.policy.model.ModelConfig;
import dev.rlkafka.policy.model.NoGrad;
import dev.rlkafka.policy.model.Policy;
import dev.rlkafka.policy.tokenizer.ByteTokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Batched autoregressive sampling. Prompts are left-padded to a common length; each row has its own
 * positions (0 at its first real token) and an attention mask that hides the padding, and draws its
 * randomness from its own {@link SplittableRandom}, so a row's tokens do not depend on the rest of the
 * batch. The default path keeps a KV cache (one new token per step); {@link #sampleWithoutCache}
 * recomputes the whole prefix each step, for tests and the bench.
 */
public final class Sampler {

    private static final float MASKED = -1e9f;   // as in Gpt: finite so padding queries cannot make NaN

    private final Policy policy;

    public Sampler(Policy policy) {
        this.policy = policy;
    }

    /** Samples one completion per prompt (token ids, BOS first) with a KV cache. */
    public List<Completion> sample(List<int[]> prompts, SamplingParams params) {
        return run(prompts, params, true);
    }

    /** Same result as {@link #sample} (up to float rounding), recomputing the prefix every step. */
    public List<Completion> sampleWithoutCache(List<int[]> prompts, SamplingParams params) {
        return run(prompts, params, false);
    }

    /** Convenience: encodes each prompt text with BOS and samples. */
    public List<Completion> sampleTexts(List<String> prompts, SamplingParams params) {
        return sample(prompts.stream().map(ByteTokenizer::encodePrompt).toList(), params);
    }

    private List<Completion> run(List<int[]> prompts, SamplingParams params, boolean useCache) {
        // a generator's own thread has grad mode on: without this every decode step would record a graph
        return NoGrad.call(() -> runWithoutGrad(prompts, params, useCache));
    }

    private List<Completion> runWithoutGrad(List<int[]> prompts, SamplingParams params, boolean useCache) {
        ModelConfig config = policy.config();
        int b = prompts.size();
        if (b == 0) return List.of();
        int[] promptLen = new int[b];
        int longest = 0;
        for (int r = 0; r < b; r++) {
            int[] p = prompts.get(r);
            promptLen[r] = p.length;
            if (p.length == 0 || p.length >= config.contextLength()) {
                throw new IllegalArgumentException("prompt " + r + " has " + p.length
                        + " tokens; need 1 to " + (config.contextLength() - 1) + " (contextLength " + config.contextLength() + ")");
            }
            for (int id : p) {
                if (id < 0 || id >= config.vocabSize()) throw new IllegalArgumentException("prompt " + r + " has token id " + id + " outside the vocabulary");
            }
            longest = Math.max(longest, p.length);
        }
        int[] pad = new int[b];
        for (int r = 0; r < b; r++) pad[r] = longest - promptLen[r];

        Row[] rows = new Row[b];
        for (int r = 0; r < b; r++) {
            int limit = Math.min(params.maxTokens(), config.contextLength() - promptLen[r]);
            rows[r] = new Row(limit, new SplittableRandom(params.rowSeed(r)));
        }
        // slots [0, longest) hold the left-padded prompts; slot longest + s holds the s-th sampled token
        int width = longest + maxLimit(rows);
        long[] slots = new long[b * width];   // (B, width) row-major
        for (int r = 0; r < b; r++) {
            Arrays.fill(slots, r * width, r * width + pad[r], ByteTokenizer.PAD);
            int[] p = prompts.get(r);
            for (int i = 0; i < p.length; i++) slots[r * width + pad[r] + i] = p[i];
        }

        int v = config.vocabSize();
        try (NDManager call = policy.manager().newSubManager()) {
            KvCache cache = useCache ? new KvCache(call, config.layers(), width) : null;
            int filled = longest;   // slots written so far
            float[] last = forward(call, slots, width, pad, 0, filled, cache);   // (B, V) logits at slot filled - 1
            while (true) {
                boolean anyActive = false;
                for (int r = 0; r < b; r++) {
                    Row row = rows[r];
                    if (row.finish != null) { slots[r * width + filled] = ByteTokenizer.PAD; continue; }
                    int token = row.pick(last, r * v, v, params);
                    slots[r * width + filled] = token;
                    if (token == ByteTokenizer.EOS) row.finish = FinishReason.EOS;
                    else if (row.tokens.size() >= row.limit) row.finish = FinishReason.MAX_TOKENS;
                    anyActive |= row.finish == null;
                }
                filled++;
                if (!anyActive) break;
                last = useCache
                        ? forward(call, slots, width, pad, filled - 1, filled, cache)
                        : forward(call, slots, width, pad, 0, filled, null);
            }
        }
        List<Completion> out = new ArrayList<>(b);
        for (Row row : rows) out.add(row.completion());
        return out;
    }

    private static int maxLimit(Row[] rows) {
        int m = 0;
        for (Row row : rows) m = Math.max(m, row.limit);
        return m;
    }

    /**
     * Runs slots [from, to) of every row through the model (with the cache holding [0, from)) and
     * returns the logits at slot to - 1 as a Java array (B * V). Step arrays die with the step manager.
     */
    private float[] forward(NDManager call, long[] slots, int width, int[] pad, int from, int to, KvCache cache) {
        int b = pad.length, t = to - from, ctx = policy.config().contextLength();
        long[] tokens = new long[b * t];
        long[] positions = new long[b * t];
        float[] mask = new float[b * t * to];   // (B, 1, T, Tk) with Tk = to: keys are slots [0, to)
        for (int r = 0; r < b; r++) {
            for (int i = 0; i < t; i++) {
                int slot = from + i;
                tokens[r * t + i] = slots[r * width + slot];
                // a finished row keeps stepping with PAD; clamp so its (ignored) position stays in the table
                positions[r * t + i] = Math.min(Math.max(slot - pad[r], 0), ctx - 1);
                for (int j = 0; j < to; j++) {
                    boolean visible = j >= pad[r] && j <= slot;
                    mask[(r * t + i) * to + j] = visible ? 0f : MASKED;
                }
            }
        }
        try (NDManager step = call.newSubManager()) {
            NDArray logits = policy.forward(step.create(tokens, new Shape(b, t)), step.create(positions, new Shape(b, t)),
                    step.create(mask, new Shape(b, 1, t, to)), cache);               // (B, T, V)
            return logits.get(":, -1, :").toFloatArray();                              // (B, V)
        }
    }

    /** One row's sampled tokens and its own random stream. */
    private static final class Row {
        final int limit;
        final SplittableRandom random;
        final List<Integer> tokens = new ArrayList<>();
        final List<Float> logprobs = new ArrayList<>();
        FinishReason finish;

        Row(int limit, SplittableRandom random) {
            this.limit = limit;
            this.random = random;
        }

        int pick(float[] logits, int offset, int v, SamplingParams params) {
            double[] p = TokenDistribution.probabilities(logits, offset, v, params);
            int token = TokenDistribution.inverseCdf(p, random.nextDouble());
            tokens.add(token);
            logprobs.add((float) Math.log(p[token]));
            return token;
        }

        Completion completion() {
            int[] ids = tokens.stream().mapToInt(Integer::intValue).toArray();
            float[] lps = new float[logprobs.size()];
            for (int i = 0; i < lps.length; i++) lps[i] = logprobs.get(i);
            return new Completion(ids, ByteTokenizer.decode(ids), lps, finish);
        }
    }
}
