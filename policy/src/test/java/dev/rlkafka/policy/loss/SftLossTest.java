package dev.rlkafka.policy.loss;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class SftLossTest {

    private final NDManager manager = NDManager.newBaseManager();

    @AfterEach
    void close() {
        manager.close();
    }

    @Test
    void meanNllOverCompletionTokensOnly() {
        // completion tokens −1, −2, −4, −5 (the −9 and −3 are prompt/padding): L = 12/4 = 3
        NDArray logp = manager.create(new float[] {-1, -2, -9, -3, -4, -5}, new Shape(2, 3));
        NDArray mask = manager.create(new float[] {1, 1, 0, 0, 1, 1}, new Shape(2, 3));
        assertEquals(3.0f, SftLoss.compute(logp, mask).getFloat(), 1e-6f);
    }

    @Test
    void gradientIsMinusOneOverTokenCountOnCompletionAndZeroElsewhere() {
        NDArray logp = manager.create(new float[] {-1, -2, Float.NEGATIVE_INFINITY, -3, -4, -5}, new Shape(2, 3));
        NDArray mask = manager.create(new float[] {1, 1, 0, 0, 1, 1}, new Shape(2, 3));
        logp.setRequiresGradient(true);
        try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
            NDArray loss = SftLoss.compute(logp, mask);
            assertEquals(3.0f, loss.getFloat(), 1e-6f, "a −inf padding log-prob does not poison the loss");
            collector.backward(loss);
        }
        try (NDArray grad = logp.getGradient()) {
            assertArrayEquals(new float[] {-0.25f, -0.25f, 0, 0, -0.25f, -0.25f}, grad.toFloatArray(), 1e-7f);
        }
    }

    @Test
    void maskOfAnotherShapeIsRejected() {
        NDArray logp = manager.zeros(new Shape(2, 3));
        var e = assertThrows(IllegalArgumentException.class, () -> SftLoss.compute(logp, manager.ones(new Shape(2, 4))));
        assertEquals("mask must have shape (2, 3) like logp, got (2, 4)", e.getMessage());
    }
}
