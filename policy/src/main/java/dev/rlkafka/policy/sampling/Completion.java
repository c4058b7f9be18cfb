package dev.rlkafka.policy.sampling;

import java.util.Arrays;
import java.util.Objects;

/**
 * One sampled completion.
 *
 * @param tokenIds     sampled ids, ending with EOS when {@code finishReason} is EOS
 * @param text         tokenIds decoded, special tokens dropped
 * @param logprobs     log-prob of each sampled token under the distribution it was drawn from
 *                     (after temperature, top-k, top-p renormalisation); same length as tokenIds
 * @param finishReason why sampling stopped
 */
public record Completion(int[] tokenIds, String text, float[] logprobs, FinishReason finishReason) {

    public Completion {
        Objects.requireNonNull(text, "text");
        Objects.requireNonNull(finishReason, "finishReason");
        tokenIds = tokenIds.clone();
        logprobs = logprobs.clone();
        if (tokenIds.length != logprobs.length) {
            throw new IllegalArgumentException("tokenIds and logprobs must have the same length, got "
                    + tokenIds.length + " and " + logprobs.length);
        }
    }

    @Override
    public int[] tokenIds() {
        return tokenIds.clone();
    }

    @Override
    public float[] logprobs() {
        return logprobs.clone();
    }

    public int length() {
        return tokenIds.length;
    }

    /** Sum of the token log-probs: log-prob of the whole completion under the sampling distribution. */
    public double totalLogprob() {
        double sum = 0;
        for (float lp : logprobs) sum += lp;
        return sum;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Completion c && Arrays.equals(tokenIds, c.tokenIds) && text.equals(c.text)
                && Arrays.equals(logprobs, c.logprobs) && finishReason == c.finishReason;
    }

    @Override
    public int hashCode() {
        return Objects.hash(Arrays.hashCode(tokenIds), text, Arrays.hashCode(logprobs), finishReason);
    }

    @Override
    public String toString() {
        return "Completion[tokenIds=" + Arrays.toString(tokenIds) + ", text=" + text
                + ", logprobs=" + Arrays.toString(logprobs) + ", finishReason=" + finishReason + "]";
    }
}
