package dev.rlkafka.policy.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Embedding;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.LayerNorm;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Decoder-only transformer in the shape of nanoGPT's GPT: token + learned position embeddings,
 * pre-LayerNorm blocks, a final LayerNorm and an LM head tied to the token embedding.
 */
public final class Gpt extends AbstractBlock {

    /** Added to attention scores a query may not see. Finite, not -inf: a fully masked row (a padding
     *  query) then softmaxes to a uniform row instead of NaN, and NaN would leak through 0·NaN in att·v. */
    static final float MASKED = -1e9f;

    private final ModelConfig config;
    final Parameter wte;   // (V, C) token embedding, also the LM head (tied, as in GPT-2)
    final Parameter wpe;   // (contextLength, C) position embedding
    final TransformerBlock[] blocks;
    final LayerNorm lnF;

    public Gpt(ModelConfig config) {
        this.config = config;
        this.wte = addParameter(Parameter.builder().setName("wte").setType(Parameter.Type.WEIGHT)
                .optShape(new Shape(config.vocabSize(), config.width())).build());
        this.wpe = addParameter(Parameter.builder().setName("wpe").setType(Parameter.Type.WEIGHT)
                .optShape(new Shape(config.contextLength(), config.width())).build());
        this.blocks = new TransformerBlock[config.layers()];
        for (int i = 0; i < blocks.length; i++) blocks[i] = addChildBlock("h" + i, new TransformerBlock(config));
        this.lnF = addChildBlock("lnF", LayerNorm.builder().build());
    }

    public ModelConfig config() {
        return config;
    }

    /**
     * @param tokens    (B, T) int64 token ids
     * @param positions (B, T) int64 position of each token in its own sequence (rows may be left-padded)
     * @param mask      additive attention mask (B or 1, 1, T, Tk), see {@link #causalMask}
     * @param cache     keys/values of earlier positions, appended to; null to attend within this call only
     * @return logits (B, T, V)
     */
    public NDArray forward(NDArray tokens, NDArray positions, NDArray mask, KvCache cache) {
        NDArray x = hidden(tokens, positions, mask, cache);   // (B, T, C)
        // x·wteᵀ as linear(x, wte): an op attaches its result to its first operand's manager, and
        // wte.transpose() would attach one array per call to the policy's own manager (a leak)
        return Linear.linear(x, wte.getArray()).singletonOrThrow();   // (B, T, V)
    }

    /** The final LayerNorm's output (B, T, C), what the LM head reads; the PPO critic puts its value head here. */
    public NDArray hidden(NDArray tokens, NDArray positions, NDArray mask, KvCache cache) {
        NDArray x = embed(tokens, wte.getArray()).add(embed(positions, wpe.getArray()));   // (B, T, C)
        for (int layer = 0; layer < blocks.length; layer++) {
            x = blocks[layer].forward(x, mask, cache, layer);
        }
        return Layers.norm(lnF, x);
    }

    private static NDArray embed(NDArray ids, NDArray table) {
        return Embedding.embedding(ids, table, SparseFormat.DENSE).singletonOrThrow();
    }

    /** Standard causal mask (1, 1, T, T): position i sees 0..i. Created in {@code manager}. */
    public static NDArray causalMask(NDManager manager, long t) {
        int n = Math.toIntExact(t);
        float[] m = new float[n * n];
        for (int i = 0; i < n; i++) for (int j = i + 1; j < n; j++) m[i * n + j] = MASKED;
        return manager.create(m, new Shape(1, 1, n, n));
    }

    /** Parameters by stable, readable name ("h0.attn.qkv.weight"), in a fixed order. */
    Map<String, Parameter> namedParameters() {
        Map<String, Parameter> named = new LinkedHashMap<>();
        named.put("wte", wte);
        named.put("wpe", wpe);
        for (int i = 0; i < blocks.length; i++) {
            TransformerBlock b = blocks[i];
            String p = "h" + i + ".";
            putNorm(named, p + "ln1", b.ln1);
            putLinear(named, p + "attn.qkv", b.attn.qkv);
            putLinear(named, p + "attn.proj", b.attn.proj);
            putNorm(named, p + "ln2", b.ln2);
            putLinear(named, p + "mlp.up", b.mlp.up);
            putLinear(named, p + "mlp.down", b.mlp.down);
        }
        putNorm(named, "lnF", lnF);
        return named;
    }

    private static void putNorm(Map<String, Parameter> named, String prefix, LayerNorm ln) {
        named.put(prefix + ".gamma", ln.getParameters().get("gamma"));
        named.put(prefix + ".beta", ln.getParameters().get("beta"));
    }

    private static void putLinear(Map<String, Parameter> named, String prefix, Linear linear) {
        named.put(prefix + ".weight", linear.getParameters().get("weight"));
        named.put(prefix + ".bias", linear.getParameters().get("bias"));
    }

    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray tokens = inputs.get(0);
        long t = tokens.getShape().get(1);
        NDArray positions = tokens.getManager().arange(0, Math.toIntExact(t), 1, DataType.INT64).reshape(1, t).broadcast(tokens.getShape());
        return new NDList(forward(tokens, positions, causalMask(tokens.getManager(), t), null));
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        Shape c = new Shape(1, config.width());
        for (TransformerBlock b : blocks) b.initialize(manager, dataType, c);
        lnF.initialize(manager, dataType, c);
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return new Shape[] {inputShapes[0].addAll(new Shape(config.vocabSize()))};
    }
}
