package dev.rlkafka.generator;

import dev.rlkafka.schemas.avro.Prompt;

/**
 * A prompt checked against the model and tokenized, ready to be sampled.
 *
 * @param prompt    the prompt as read
 * @param tokenIds  BOS + UTF-8 bytes of its text
 * @param groupSize rollouts to sample for it (its own groupSize, or the generator's default when 0)
 */
public record PreparedPrompt(Prompt prompt, int[] tokenIds, int groupSize) {
    public PreparedPrompt {
        tokenIds = tokenIds.clone();
        if (groupSize < 1) throw new IllegalArgumentException("groupSize must be >= 1, got " + groupSize);
    }

    @Override
    public int[] tokenIds() {
        return tokenIds.clone();
    }

    public String promptId() {
        return prompt.getPromptId();
    }
}
