package dev.rlkafka.policy.optim;

import static dev.rlkafka.policy.optim.OptimTestSupport.backward;
import static dev.rlkafka.policy.optim.OptimTestSupport.param;
import static dev.rlkafka.policy.optim.OptimTestSupport.setGradients;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class AdamWTest {

    private final NDManager manager = NDManager.newBaseManager();

    @AfterEach
    void close() {
        manager.close();
    }

    @Test
    void firstStepMovesEachCoordinateByLrAgainstTheGradient() {
        // step 1: m̂ = g, v̂ = g², so θ moves by lr·g/(|g| + ε) ≈ lr·sign(g) whatever |g| is
        Parameter x = param("x", manager.create(new float[] {0, 0, 5}));
        try (AdamW adamW = new AdamW(AdamWConfig.withLr(0.1), Map.of("x", x))) {
            setGradients(manager, Map.of("x", x), Map.of("x", new float[] {-6, 0.001f, 40}));
            adamW.step();
            assertArrayEquals(new float[] {0.1f, -0.1f, 4.9f}, x.getArray().toFloatArray(), 1e-5f);
            assertEquals(1, adamW.stepCount());
        }
    }

    @Test
    void minimisesAQuadratic() {
        // L = (x − 3)², from x = 0
        Parameter x = param("x", manager.create(new float[] {0}));
        try (AdamW adamW = new AdamW(AdamWConfig.withLr(0.05), Map.of("x", x))) {
            for (int i = 0; i < 400; i++) {
                adamW.zeroGradients();
                backward(manager, step -> x.getArray().sub(3).square().sum());
                adamW.step();
            }
            assertEquals(3f, x.getArray().getFloat(0), 0.02f);
        }
    }

    @Test
    void decayShrinksMatricesButNotBiases() {
        // zero gradients: the Adam term is 0/(0 + ε) = 0 and only decay acts, θ ← (1 − lr·λ)·θ = 0.99·θ
        Parameter w = param("w", manager.create(new float[] {1, -2, 3, 4}, new Shape(2, 2)));
        Parameter b = param("b", manager.create(new float[] {1, -2}));
        Map<String, Parameter> params = new LinkedHashMap<>(Map.of("w", w, "b", b));
        try (AdamW adamW = new AdamW(new AdamWConfig(0.1, 0.9, 0.95, 1e-8, 0.1), params)) {
            assertEquals(Set.of("w"), adamW.decayed());
            setGradients(manager, params, Map.of("w", new float[4], "b", new float[2]));
            adamW.step();
            assertArrayEquals(new float[] {0.99f, -1.98f, 2.97f, 3.96f}, w.getArray().toFloatArray(), 1e-6f);
            assertArrayEquals(new float[] {1, -2}, b.getArray().toFloatArray(), 0f);
        }
    }

    @Test
    void predicateChoosesWhatDecays() {
        Parameter w = param("w", manager.create(new float[] {1, 1}, new Shape(1, 2)));
        try (AdamW adamW = new AdamW(AdamWConfig.withLr(0.1), Map.of("w", w), name -> false)) {
            setGradients(manager, Map.of("w", w), Map.of("w", new float[2]));
            adamW.step();
            assertArrayEquals(new float[] {1, 1}, w.getArray().toFloatArray(), 0f);
        }
    }

    @Test
    void stateRoundTripGivesIdenticalNextStep() {
        Map<String, float[]> grads1 = Map.of("w", new float[] {0.3f, -1, 2, 0.5f}, "b", new float[] {-0.2f, 4});
        Map<String, float[]> grads2 = Map.of("w", new float[] {-1, 0.1f, 0.7f, 3}, "b", new float[] {1, -0.5f});
        Map<String, Parameter> a = Map.of("w", param("w", manager.create(new float[] {1, 2, 3, 4}, new Shape(2, 2))),
                "b", param("b", manager.create(new float[] {0.5f, -0.5f})));
        try (AdamW first = new AdamW(AdamWConfig.withLr(0.01), a); NDManager checkpoint = manager.newSubManager()) {
            for (int i = 0; i < 3; i++) {
                setGradients(manager, a, i % 2 == 0 ? grads1 : grads2);
                first.step();
            }
            Map<String, NDArray> state = first.state(checkpoint);
            Map<String, Parameter> b = Map.of("w", param("w", a.get("w").getArray().duplicate()),
                    "b", param("b", a.get("b").getArray().duplicate()));
            try (AdamW second = new AdamW(AdamWConfig.withLr(0.01), b)) {
                second.loadState(state);
                assertEquals(3, second.stepCount());
                setGradients(manager, a, grads2);
                setGradients(manager, b, grads2);
                first.step();
                second.step();
                for (String name : a.keySet()) {
                    assertArrayEquals(a.get(name).getArray().toFloatArray(), b.get(name).getArray().toFloatArray(), 0f, name);
                }
            }
        }
    }

    @Test
    void stateOfAnotherModelIsRejected() {
        Parameter w = param("w", manager.create(new float[] {1, 2}));
        Parameter other = param("other", manager.create(new float[] {1, 2, 3}));
        try (AdamW adamW = new AdamW(AdamWConfig.DEFAULT, Map.of("w", w));
             AdamW otherAdamW = new AdamW(AdamWConfig.DEFAULT, Map.of("w", other));
             NDManager checkpoint = manager.newSubManager()) {
            var e = assertThrows(IllegalArgumentException.class, () -> adamW.loadState(otherAdamW.state(checkpoint)));
            assertTrue(e.getMessage().contains("m.w has shape (3)"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> adamW.loadState(Map.of("step", checkpoint.create(1L))));
            assertTrue(e.getMessage().contains("do not match"), e.getMessage());
        }
    }

    @Test
    void gradientsAccumulateUntilZeroed() {
        Parameter x = param("x", manager.create(new float[] {2}));
        try (AdamW adamW = new AdamW(AdamWConfig.DEFAULT, Map.of("x", x))) {
            backward(manager, step -> x.getArray().square().sum());   // dL/dx = 2x = 4
            backward(manager, step -> x.getArray().square().sum());
            try (NDArray g = x.getArray().getGradient()) {
                assertEquals(8f, g.getFloat(0), 1e-6f);
            }
            adamW.zeroGradients();
            try (NDArray g = x.getArray().getGradient()) {
                assertEquals(0f, g.getFloat(0), 0f);
            }
        }
    }

    @Test
    void stepsLeaveNoArraysBehind() {
        Map<String, Parameter> params = Map.of("w", param("w", manager.randomNormal(new Shape(8, 8))),
                "b", param("b", manager.zeros(new Shape(8))));
        try (AdamW adamW = new AdamW(AdamWConfig.DEFAULT, params)) {
            setGradients(manager, params, Map.of("w", new float[64], "b", new float[8]));
            adamW.step();
            adamW.zeroGradients();
            int before = manager.getManagedArrays().size();
            for (int i = 0; i < 20; i++) {
                adamW.step();
                adamW.zeroGradients();
                GradientClipping.clipGlobalNorm(params.values(), 1.0);
            }
            assertEquals(before, manager.getManagedArrays().size());
        }
    }

    @Test
    void badSettingsAreRejectedByName() {
        var e = assertThrows(IllegalArgumentException.class, () -> new AdamWConfig(0, 0.9, 0.95, 1e-8, 0.1));
        assertTrue(e.getMessage().startsWith("lr"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new AdamWConfig(1e-3, 1, 0.95, 1e-8, 0.1));
        assertTrue(e.getMessage().startsWith("beta1"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new AdamWConfig(1, 0.9, 0.95, 1e-8, 1));
        assertTrue(e.getMessage().startsWith("lr·weightDecay"), e.getMessage());
    }
}
