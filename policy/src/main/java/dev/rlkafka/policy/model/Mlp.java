package dev.rlkafka.policy.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Activation;
import ai.djl.nn.core.Linear;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/** Position-wise feed-forward: C -> 4C -> GELU -> C. */
final class Mlp extends AbstractBlock {

    private final ModelConfig config;
    final Linear up;
    final Linear down;

    Mlp(ModelConfig config) {
        this.config = config;
        this.up = addChildBlock("up", Linear.builder().setUnits(4L * config.width()).build());
        this.down = addChildBlock("down", Linear.builder().setUnits(config.width()).build());
    }

    /** (B, T, C) -> (B, T, C) */
    NDArray forward(NDArray x) {
        NDArray hidden = Activation.gelu(Layers.linear(up, x));   // (B, T, 4C)
        return Layers.linear(down, hidden);
    }

    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        return new NDList(forward(inputs.singletonOrThrow()));
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        up.initialize(manager, dataType, new Shape(1, config.width()));
        down.initialize(manager, dataType, new Shape(1, 4L * config.width()));
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return new Shape[] {inputShapes[0]};
    }
}
