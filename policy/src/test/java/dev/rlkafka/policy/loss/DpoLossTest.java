package dev.rlkafka.policy.loss;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class DpoLossTest {

    private static final DpoConfig BETA_01 = new DpoConfig(0.1);

    private final NDManager manager = NDManager.newBaseManager();

    @AfterEach
    void close() {
        manager.close();
    }

    private NDArray p(float... values) {
        return manager.create(values, new Shape(values.length));
    }

    private static double softplus(double x) {
        return Math.log1p(Math.exp(x));
    }

    private static double sigmoid(double x) {
        return 1 / (1 + Math.exp(-x));
    }

    @Test
    void handComputedLossMarginAndImplicitRewards() {
        // β = 0.1. pair 0: chosen −2 vs ref −3 (+1), rejected −4 vs ref −3 (−1): margin 0.1·(1 + 1) = 0.2
        //          pair 1: chosen −5 vs ref −4.5 (−0.5), rejected −2 vs ref −3 (+1): margin 0.1·(−0.5 − 1) = −0.15
        // L = mean(−log σ(0.2), −log σ(−0.15)) = (softplus(−0.2) + softplus(0.15))/2
        DpoLoss.Result result = DpoLoss.compute(p(-2, -5), p(-4, -2), p(-3, -4.5f), p(-3, -3), BETA_01);
        assertEquals((softplus(-0.2) + softplus(0.15)) / 2, result.loss().getFloat(), 1e-6);
        assertEquals(0.025f, result.meanMargin(), 1e-6f);
        assertEquals(0.5f, result.accuracy(), 0f, "one of two pairs ranked right");
        assertEquals(0.1f * (1 - 0.5f) / 2, result.chosenReward(), 1e-6f);
        assertEquals(0.1f * (-1 + 1) / 2, result.rejectedReward(), 1e-6f);
    }

    @Test
    void gradientRaisesTheChosenAndLowersTheRejected() {
        // dL/dlogπ(y_w) = −β·σ(−margin)/P, dL/dlogπ(y_l) = +β·σ(−margin)/P; pair 0 of the case above, P = 1
        NDArray chosen = p(-2), rejected = p(-4);
        chosen.setRequiresGradient(true);
        rejected.setRequiresGradient(true);
        try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
            collector.backward(DpoLoss.compute(chosen, rejected, p(-3), p(-3), BETA_01).loss());
        }
        double expected = 0.1 * sigmoid(-0.2);
        assertArrayEquals(new float[] {(float) -expected}, chosen.getGradient().toFloatArray(), 1e-7f);
        assertArrayEquals(new float[] {(float) expected}, rejected.getGradient().toFloatArray(), 1e-7f);
    }

    @Test
    void equalPolicyAndReferenceGiveLogTwo() {
        DpoLoss.Result result = DpoLoss.compute(p(-1, -7), p(-3, -2), p(-1, -7), p(-3, -2), BETA_01);
        assertEquals(Math.log(2), result.loss().getFloat(), 1e-6);
        assertEquals(0f, result.meanMargin(), 0f);
    }

    @Test
    void hugeMarginsStayFinite() {
        // margins ±100: −log σ(100) ≈ 0 and −log σ(−100) ≈ 100, no overflow through exp
        float good = DpoLoss.compute(p(0), p(-1000), p(-1000), p(0), new DpoConfig(0.05)).loss().getFloat();
        float bad = DpoLoss.compute(p(-1000), p(0), p(0), p(-1000), new DpoConfig(0.05)).loss().getFloat();
        assertEquals(0f, good, 1e-6f);
        assertEquals(100f, bad, 1e-3f);
    }

    @Test
    void badShapesAndBetaAreRejected() {
        var e = assertThrows(IllegalArgumentException.class, () -> DpoLoss.compute(p(1, 2), p(1), p(1, 2), p(1, 2), BETA_01));
        assertTrue(e.getMessage().startsWith("rejectedLogp must have shape (2)"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new DpoConfig(0));
        assertThrows(IllegalArgumentException.class, () -> new DpoConfig(Double.NaN));
    }
}
