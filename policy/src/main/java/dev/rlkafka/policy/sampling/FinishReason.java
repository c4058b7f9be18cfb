package dev.rlkafka.policy.sampling;

/** Why a completion ended; mirrors the Avro {@code FinishReason} of a rollout. */
public enum FinishReason {
    /** The model sampled EOS (included as the last token). */
    EOS,
    /** Cut at {@link SamplingParams#maxTokens()} or at the model's context length. */
    MAX_TOKENS
}
