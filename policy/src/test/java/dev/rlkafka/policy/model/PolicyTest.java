package dev.rlkafka.policy.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PolicyTest {

    static final ModelConfig TINY = new ModelConfig(259, 16, 32, 2, 4);

    @Test
    void configRejectsWidthNotDivisibleByHeads() {
        var e = assertThrows(IllegalArgumentException.class, () -> new ModelConfig(259, 16, 30, 2, 4));
        assertEquals("width must be a multiple of heads, got width 30 and heads 4", e.getMessage());
    }

    @Test
    void parameterCountMatchesTheFormula() {
        try (Policy policy = Policy.create(TINY, Device.cpu(), 1)) {
            assertEquals(TINY.parameterCount(), policy.parameterCount());
        }
    }

    @Test
    void sameSeedGivesSameWeightsAndOtherSeedDoesNot() {
        try (Policy a = Policy.create(TINY, Device.cpu(), 42);
             Policy b = Policy.create(TINY, Device.cpu(), 42);
             Policy c = Policy.create(TINY, Device.cpu(), 43)) {
            Map<String, float[]> wa = a.weightsSnapshot(), wb = b.weightsSnapshot(), wc = c.weightsSnapshot();
            assertEquals(wa.keySet(), wb.keySet());
            wa.forEach((name, values) -> assertArrayEquals(values, wb.get(name), name));
            assertFalse(java.util.Arrays.equals(wa.get("wte"), wc.get("wte")));
        }
    }

    @Test
    void parametersHaveStableNamesAndOnlyMatricesAreDecayed() {
        try (Policy policy = Policy.create(TINY, Device.cpu(), 1)) {
            List<String> names = List.copyOf(policy.parameters().keySet());
            assertEquals(List.of("wte", "wpe", "h0.ln1.gamma", "h0.ln1.beta", "h0.attn.qkv.weight", "h0.attn.qkv.bias",
                    "h0.attn.proj.weight", "h0.attn.proj.bias", "h0.ln2.gamma", "h0.ln2.beta", "h0.mlp.up.weight",
                    "h0.mlp.up.bias", "h0.mlp.down.weight", "h0.mlp.down.bias"), names.subList(0, 14));
            assertEquals("lnF.beta", names.get(names.size() - 1));
            assertEquals(new Shape(96, 32), policy.parameters().get("h0.attn.qkv.weight").getArray().getShape());
            assertTrue(policy.weightMatrixNames().contains("h1.mlp.down.weight"));
            assertFalse(policy.weightMatrixNames().contains("h1.mlp.down.bias"));
            assertFalse(policy.weightMatrixNames().contains("lnF.gamma"));
        }
    }

    @Test
    void logitsDoNotDependOnFutureTokens() {
        try (Policy policy = Policy.create(TINY, Device.cpu(), 3); NDManager step = policy.manager().newSubManager()) {
            NDArray a = policy.logits(step.create(new long[] {256, 1, 2, 3, 4}, new Shape(1, 5)));
            NDArray b = policy.logits(step.create(new long[] {256, 1, 2, 9, 9}, new Shape(1, 5)));
            assertEquals(new Shape(1, 5, 259), a.getShape());
            float[] first3a = a.get(":, :3, :").toFloatArray(), first3b = b.get(":, :3, :").toFloatArray();
            assertArrayEquals(first3a, first3b, 1e-6f, "causal: positions 0..2 must not see 3..4");
            assertFalse(java.util.Arrays.equals(a.get(":, 4, :").toFloatArray(), b.get(":, 4, :").toFloatArray()));
        }
    }

    @Test
    void djlBlockForwardGivesTheSameLogits() {
        // Gpt is a regular DJL Block too, e.g. for a Predictor or Trainer built around it
        try (Policy policy = Policy.create(TINY, Device.cpu(), 3); NDManager step = policy.manager().newSubManager()) {
            NDArray tokens = step.create(new long[] {256, 1, 2, 3}, new Shape(1, 4));
            NDArray viaBlock = policy.gpt().forward(new ai.djl.training.ParameterStore(step, false),
                    new ai.djl.ndarray.NDList(tokens), false).singletonOrThrow();
            assertArrayEquals(policy.logits(tokens).toFloatArray(), viaBlock.toFloatArray(), 1e-6f);
        }
    }

    @Test
    void backwardReachesEveryParameter() {
        try (Policy policy = Policy.create(TINY, Device.cpu(), 5)) {
            try (NDManager step = policy.manager().newSubManager()) {
                try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    NDArray logits = policy.logits(step.create(new long[] {256, 5, 6, 7, 8, 9}, new Shape(2, 3)));
                    gc.backward(logits.logSoftmax(-1).get(":, :, 7").sum().neg());
                }
                policy.parameters().forEach((name, p) -> {
                    try (NDArray grad = p.getArray().getGradient()) {
                        assertTrue(grad.abs().sum().getFloat() > 0, "no gradient reached " + name);
                    }
                });
            }
        }
    }

    @Test
    void zeroGradientsStopsAccumulationAcrossBackwards() {
        try (Policy policy = Policy.create(TINY, Device.cpu(), 5); NDManager step = policy.manager().newSubManager()) {
            float[] first = null;
            for (int i = 0; i < 2; i++) {
                policy.zeroGradients();
                try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    gc.backward(policy.logits(step.create(new long[] {256, 5, 6}, new Shape(1, 3))).sum());
                }
                try (NDArray grad = policy.parameters().get("h0.mlp.up.weight").getArray().getGradient()) {
                    if (first == null) first = grad.toFloatArray();
                    else assertArrayEquals(first, grad.toFloatArray(), 1e-7f, "second backward accumulated");
                }
            }
        }
    }
}
