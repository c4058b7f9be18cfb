package dev.rlkafka.policy.sampling;

/**
 * How to sample a batch of completions.
 *
 * @param temperature softmax temperature, > 0; behaviour log-probs are under this temperature
 * @param topK        keep only the k most likely tokens; 0 = off
 * @param topP        keep the smallest set of most likely tokens with mass >= topP, in (0, 1]; 1 = off
 * @param seed        row i of a batch draws from its own stream seeded with seed + i
 * @param maxTokens   completion length cap in tokens, >= 1 (the context length also caps it)
 */
public record SamplingParams(float temperature, int topK, float topP, long seed, int maxTokens) {

    public SamplingParams {
        if (!(temperature > 0) || Float.isInfinite(temperature)) {
            throw new IllegalArgumentException("temperature must be > 0 and finite, got " + temperature);
        }
        if (topK < 0) throw new IllegalArgumentException("topK must be >= 0 (0 = off), got " + topK);
        if (!(topP > 0 && topP <= 1)) throw new IllegalArgumentException("topP must be in (0, 1], got " + topP);
        if (maxTokens < 1) throw new IllegalArgumentException("maxTokens must be >= 1, got " + maxTokens);
    }

    /** Plain ancestral sampling at temperature 1: behaviour log-probs are the policy's own. */
    public static SamplingParams plain(long seed, int maxTokens) {
        return new SamplingParams(1f, 0, 1f, seed, maxTokens);
    }

    /** Argmax decoding for evaluation: top-k of 1 keeps only the most likely token (log-prob 0). */
    public static SamplingParams greedy(int maxTokens) {
        return new SamplingParams(1f, 1, 1f, 0L, maxTokens);
    }

    /** Seed of row {@code row}'s random stream: sampling a prompt alone with this seed gives the same tokens. */
    public long rowSeed(int row) {
        return seed + row;
    }
}
