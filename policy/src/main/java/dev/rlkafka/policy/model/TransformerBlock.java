package dev.rlkafka.policy.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.norm.LayerNorm;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/** Pre-LayerNorm residual block: x + attn(ln1(x)), then + mlp(ln2(x)). */
final class TransformerBlock extends AbstractBlock {

    private final ModelConfig config;
    final LayerNorm ln1;
    final CausalSelfAttention attn;
    final LayerNorm ln2;
    final Mlp mlp;

    TransformerBlock(ModelConfig config) {
        this.config = config;
        this.ln1 = addChildBlock("ln1", LayerNorm.builder().build());
        this.attn = addChildBlock("attn", new CausalSelfAttention(config));
        this.ln2 = addChildBlock("ln2", LayerNorm.builder().build());
        this.mlp = addChildBlock("mlp", new Mlp(config));
    }

    /** (B, T, C) -> (B, T, C); mask and cache as in {@link CausalSelfAttention#forward}. */
    NDArray forward(NDArray x, NDArray mask, KvCache cache, int layer) {
        x = x.add(attn.forward(Layers.norm(ln1, x), mask, cache, layer));
        return x.add(mlp.forward(Layers.norm(ln2, x)));
    }

    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray x = inputs.get(0);
        return new NDList(forward(x, Gpt.causalMask(x.getManager(), x.getShape().get(1)), null, 0));
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        Shape c = new Shape(1, config.width());
        ln1.initialize(manager, dataType, c);
        attn.initialize(manager, dataType, c);
        ln2.initialize(manager, dataType, c);
        mlp.initialize(manager, dataType, c);
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return new Shape[] {inputShapes[0]};
    }
}
