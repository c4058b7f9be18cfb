package dev.rlkafka.policy.optim;

import static dev.rlkafka.policy.optim.OptimTestSupport.param;
import static dev.rlkafka.policy.optim.OptimTestSupport.setGradients;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class GradientClippingTest {

    private final NDManager manager = NDManager.newBaseManager();
    // gradients (3, 4) and (12): global norm √(9 + 16 + 144) = 13
    private final Map<String, Parameter> params = Map.of(
            "a", param("a", manager.create(new float[] {1, 1})), "b", param("b", manager.create(new float[] {1})));

    @AfterEach
    void close() {
        manager.close();
    }

    private float[] gradient(String name) {
        try (NDArray g = params.get(name).getArray().getGradient()) {
            return g.toFloatArray();
        }
    }

    @Test
    void scalesGradientsToTheMaxNorm() {
        setGradients(manager, params, Map.of("a", new float[] {3, 4}, "b", new float[] {12}));
        assertEquals(13.0, GradientClipping.clipGlobalNorm(params.values(), 6.5), 1e-5);
        // factor 6.5/13 = 0.5
        assertArrayEquals(new float[] {1.5f, 2}, gradient("a"), 1e-5f);
        assertArrayEquals(new float[] {6}, gradient("b"), 1e-5f);
        assertEquals(6.5, GradientClipping.clipGlobalNorm(params.values(), 100), 1e-4, "norm after clipping");
    }

    @Test
    void leavesGradientsBelowTheMaxNormAlone() {
        setGradients(manager, params, Map.of("a", new float[] {3, 4}, "b", new float[] {12}));
        assertEquals(13.0, GradientClipping.clipGlobalNorm(params.values(), 20), 1e-5);
        assertArrayEquals(new float[] {3, 4}, gradient("a"), 0f);
        assertArrayEquals(new float[] {12}, gradient("b"), 0f);
    }

    @Test
    void nonFiniteNormIsReportedNotSpread() {
        setGradients(manager, params, Map.of("a", new float[] {Float.NaN, 4}, "b", new float[] {12}));
        assertEquals(Double.NaN, GradientClipping.clipGlobalNorm(params.values(), 1));
        assertArrayEquals(new float[] {12}, gradient("b"), 0f);
    }
}
