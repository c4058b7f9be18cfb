package dev.rlkafka.policy.model;

import dev.rlkafka.policy.tokenizer.ByteTokenizer;

/**
 * Shape of the decoder-only transformer.
 *
 * @param vocabSize     token ids are in [0, vocabSize)
 * @param contextLength most tokens (prompt + completion) the model sees; size of the position embedding
 * @param width         residual stream width C (nanoGPT's n_embd)
 * @param layers        transformer blocks
 * @param heads         attention heads; width / heads is the head size
 */
public record ModelConfig(int vocabSize, int contextLength, int width, int layers, int heads) {
    /** {@link #DEFAULT}'s fields as compile-time constants, for CLI option defaults. */
    public static final int DEFAULT_CONTEXT = 64, DEFAULT_WIDTH = 64, DEFAULT_LAYERS = 3, DEFAULT_HEADS = 4;

    /**
     * About 0.17 M parameters. Measured on 2 CPU cores (1 intra-op thread, busy machine): plain Adam,
     * lr 3e-3, batch 64 of "BOS 37+45=" → "82 EOS", 90 s = 1610 steps gave 183/200 greedy exact answers;
     * width 128 (0.64 M) managed 671 steps and 19/200 in the same 90 s. 64 tokens of context hold the
     * prompt, the answer and a short rationale.
     */
    public static final ModelConfig DEFAULT = new ModelConfig(ByteTokenizer.VOCAB_SIZE, DEFAULT_CONTEXT, DEFAULT_WIDTH, DEFAULT_LAYERS, DEFAULT_HEADS);

    public ModelConfig {
        if (vocabSize < 1) throw new IllegalArgumentException("vocabSize must be >= 1, got " + vocabSize);
        if (contextLength < 1) throw new IllegalArgumentException("contextLength must be >= 1, got " + contextLength);
        if (width < 1) throw new IllegalArgumentException("width must be >= 1, got " + width);
        if (layers < 1) throw new IllegalArgumentException("layers must be >= 1, got " + layers);
        if (heads < 1) throw new IllegalArgumentException("heads must be >= 1, got " + heads);
        if (width % heads != 0) {
            throw new IllegalArgumentException("width must be a multiple of heads, got width " + width + " and heads " + heads);
        }
    }

    public int headSize() {
        return width / heads;
    }

    /** Parameter count with a tied LM head: embeddings + per block (LN, attention, MLP) + final LN. */
    public long parameterCount() {
        long c = width;
        long perBlock = 2 * (2 * c)            // two LayerNorms (gamma, beta)
                + (c * 3 * c + 3 * c)          // qkv
                + (c * c + c)                  // attention output projection
                + (c * 4 * c + 4 * c)          // MLP up
                + (4 * c * c + c);             // MLP down
        return (long) vocabSize * c + (long) contextLength * c + layers * perBlock + 2 * c;
    }
}
