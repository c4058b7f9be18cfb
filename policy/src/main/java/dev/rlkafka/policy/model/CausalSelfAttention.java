package dev.rlkafka.policy.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.core.Linear;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/** Multi-head masked self-attention (nanoGPT's CausalSelfAttention), with an optional KV cache. */
final class CausalSelfAttention extends AbstractBlock {

    private final ModelConfig config;
    final Linear qkv;    // C -> 3C: query, key, value for all heads in one matmul
    final Linear proj;   // C -> C: heads back into the residual stream

    CausalSelfAttention(ModelConfig config) {
        this.config = config;
        this.qkv = addChildBlock("qkv", Linear.builder().setUnits(3L * config.width()).build());
        this.proj = addChildBlock("proj", Linear.builder().setUnits(config.width()).build());
    }

    /**
     * @param x     (B, T, C)
     * @param mask  additive, 0 where a query may see a key and a large negative elsewhere, (B or 1, 1, T, Tk)
     * @param cache past keys/values, or null to attend within x only (then Tk = T)
     * @return (B, T, C)
     */
    NDArray forward(NDArray x, NDArray mask, KvCache cache, int layer) {
        long b = x.getShape().get(0), t = x.getShape().get(1);
        int c = config.width(), h = config.heads(), hs = config.headSize();
        NDList qkvSplit = Layers.linear(qkv, x).split(3, 2);   // (B, T, 3C) -> 3 × (B, T, C)
        NDArray q = heads(qkvSplit.get(0), b, t, h, hs);   // (B, H, T, hs)
        NDArray k = heads(qkvSplit.get(1), b, t, h, hs);
        NDArray v = heads(qkvSplit.get(2), b, t, h, hs);
        if (cache != null) {
            NDArray[] kv = cache.append(layer, k, v);       // (B, H, Tk, hs)
            k = kv[0];
            v = kv[1];
        }
        // softmax(q kᵀ / √hs + mask) v
        NDArray att = Scale.by(q.matMul(k.transpose(0, 1, 3, 2)), 1.0 / Math.sqrt(hs)).add(mask);   // (B, H, T, Tk)
        NDArray y = att.softmax(-1).matMul(v);                                              // (B, H, T, hs)
        y = y.transpose(0, 2, 1, 3).reshape(b, t, c);                                       // (B, T, C)
        return Layers.linear(proj, y);
    }

    private static NDArray heads(NDArray x, long b, long t, int h, int hs) {
        return x.reshape(b, t, h, hs).transpose(0, 2, 1, 3);   // (B, T, C) -> (B, H, T, hs)
    }

    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray x = inputs.get(0);
        return new NDList(forward(x, Gpt.causalMask(x.getManager(), x.getShape().get(1)), null, 0));
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        Shape c = new Shape(1, config.width());
        qkv.initialize(manager, dataType, c);
        proj.initialize(manager, dataType, c);
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return new Shape[] {inputShapes[0]};
    }
}
