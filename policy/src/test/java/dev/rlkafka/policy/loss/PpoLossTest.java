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
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class PpoLossTest {

    /** ε = 0.2, ε_v = 0.2, c_H = 0.1, cap 2; the GAE settings play no part in the losses. */
    private static final PpoConfig CONFIG = new PpoConfig(0.2, 0.2, 0.04, 1.0, 0.95, 0.1, 2.0, true);
    private static final PpoConfig NO_ENTROPY = new PpoConfig(0.2, 0.2, 0.04, 1.0, 0.95, 0.0, 2.0, true);

    private final NDManager manager = NDManager.newBaseManager();

    @AfterEach
    void close() {
        manager.close();
    }

    private NDArray bt(float... values) {
        return manager.create(values, new Shape(2, 3));
    }

    private static float ln(double x) {
        return (float) Math.log(x);
    }

    /** Runs {@code loss} with {@code x} as a gradient leaf; returns dL/dx. */
    private static float[] gradient(NDArray x, Function<NDArray, NDArray> loss) {
        x.setRequiresGradient(true);
        try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
            collector.backward(loss.apply(x));
        }
        try (NDArray grad = x.getGradient()) {
            return grad.toFloatArray();
        }
    }

    @Test
    void handComputedPolicyLoss() {
        // log π_prox = −1 everywhere; per token ρ = π_θ/π_prox, A (per token), w = π_prox/π_behav, entropy H:
        //   token  ρ    A     min(ρA, clip(ρ)A)   w (capped)   w·surrogate   H
        //   r0t0   1.1  +2    2.2                 1            2.2           1
        //   r0t1   1.5  +1    1.2 (clipped)       3 → 2        2.4           2
        //   r1t0   0.5  −1    −0.8 (clipped)      1            −0.8          0.5
        //   r1t1   1.0  +0.5  0.5                 1            0.5           0.5
        //   r1t2   0.9  −2    −1.8                0.5          −0.9          1
        // Σ w·surrogate = 3.4, Σ H = 5, L = −(3.4 + 0.1·5)/5 = −0.78
        // clip fraction 2/5; mean ρ 5/5 = 1; mean w 5.5/5 = 1.1; mean H 1. r0t2 is padding holding garbage.
        NDArray prox = bt(-1, -1, -1, -1, -1, -1);
        NDArray logp = bt(-1 + ln(1.1), -1 + ln(1.5), -60, -1 + ln(0.5), -1, -1 + ln(0.9));
        NDArray behaviour = bt(-1, -1 - ln(3), 60, -1, -1, -1 - ln(0.5));
        NDArray advantages = bt(2, 1, 1e9f, -1, 0.5f, -2);
        NDArray entropy = bt(1, 2, 1e9f, 0.5f, 0.5f, 1);
        NDArray mask = bt(1, 1, 0, 1, 1, 1);

        PpoLoss.PolicyResult result = PpoLoss.policy(logp, prox, behaviour, advantages, entropy, mask, CONFIG);

        assertEquals(-0.78f, result.loss().getFloat(), 1e-5f);
        assertEquals(0.4f, result.clipFraction(), 1e-6f);
        assertEquals(1.0f, result.meanRatio(), 1e-5f);
        assertEquals(1.1f, result.meanBehaviourWeight(), 1e-5f);
        assertEquals(1.0f, result.meanEntropy(), 1e-6f);
    }

    @Test
    void policyGradientFollowsTheAdvantageSignAndVanishesWhereClipped() {
        // on-policy (ρ = 1 at tokens 0, 3, 4), N = 4 tokens: dL/dlogp = −A·ρ/N;
        // token 1 has ρ = 1.5 > 1.2 with A > 0: the clipped branch is the min and is constant in θ
        float[] prox = {-1, -1, -1, -1, -1, -1};
        float[] grad = gradient(bt(-1, -1 + ln(1.5), -1, -1, -1, -1), logp -> PpoLoss.policy(logp, bt(prox), bt(prox),
                bt(2, 1, 0, -1, 0.5f, 0), bt(0, 0, 0, 0, 0, 0), bt(1, 1, 0, 1, 1, 0), NO_ENTROPY).loss());
        assertArrayEquals(new float[] {-2f / 4, 0, 0, 1f / 4, -0.5f / 4, 0}, grad, 1e-6f);
    }

    @Test
    void entropyBonusRewardsAHigherEntropy() {
        // dL/dH = −c_H/N on completion tokens: raising the entropy lowers the loss
        float[] prox = {-1, -1, -1, -1, -1, -1};
        float[] grad = gradient(bt(1, 1, 1, 1, 1, 1), entropy -> PpoLoss.policy(bt(prox), bt(prox), bt(prox),
                bt(0, 0, 0, 0, 0, 0), entropy, bt(1, 1, 1, 1, 0, 0), CONFIG).loss());
        assertArrayEquals(new float[] {-0.1f / 4, -0.1f / 4, -0.1f / 4, -0.1f / 4, 0, 0}, grad, 1e-7f);
    }

    @Test
    void handComputedClippedValueLoss() {
        // ε_v = 0.2; V, V_old, R per token and ½·max((V − R)², (V_old + clip(V − V_old, ±0.2) − R)²):
        //   r0t0  V 1.0  V_old 0.5  R 1.0   (0)² vs (0.7 − 1)² = 0.09   → 0.09 (moved too far: clipped term wins)
        //   r0t1  V 0.6  V_old 0.5  R 0.0   0.36 vs 0.36                → 0.36
        //   r0t2  V 0.0  V_old 0.5  R 2.0   4.0 vs (0.3 − 2)² = 2.89    → 4.0
        //   r1t0  V 0.2  V_old 0.2  R 0.2   0                           → 0
        // L = ½·4.45/4 = 0.55625; value clip fraction 2/4; mean V 1.8/4 = 0.45. r1t1, r1t2 are padding.
        NDArray values = bt(1.0f, 0.6f, 0.0f, 0.2f, 1e9f, -1e9f);
        NDArray old = bt(0.5f, 0.5f, 0.5f, 0.2f, 0, 0);
        NDArray returns = bt(1.0f, 0.0f, 2.0f, 0.2f, 1e9f, 5);
        PpoLoss.ValueResult result = PpoLoss.value(values, old, returns, bt(1, 1, 1, 1, 0, 0), CONFIG);
        assertEquals(0.55625f, result.loss().getFloat(), 1e-5f);
        assertEquals(0.5f, result.valueClipFraction(), 1e-6f);
        assertEquals(0.45f, result.meanValue(), 1e-6f);
    }

    @Test
    void valueGradientPullsTowardsTheReturnUnlessClipped() {
        // dL/dV = (V − R)/N where the unclipped term is the max, 0 where the clipped one is (token 0 above)
        float[] grad = gradient(bt(1.0f, 0.6f, 0.0f, 0.2f, 0, 0), values -> PpoLoss.value(values, bt(0.5f, 0.5f, 0.5f, 0.2f, 0, 0),
                bt(1.0f, 0.0f, 2.0f, 0.2f, 0, 0), bt(1, 1, 1, 1, 0, 0), CONFIG).loss());
        assertArrayEquals(new float[] {0, 0.6f / 4, -2f / 4, 0, 0, 0}, grad, 1e-6f);
        assertTrue(grad[2] < 0, "a value below its return is pushed up");
    }

    @Test
    void badShapesAndConfigAreRejected() {
        NDArray x = bt(0, 0, 0, 0, 0, 0);
        var e = assertThrows(IllegalArgumentException.class, () ->
                PpoLoss.policy(x, x, x, manager.zeros(new Shape(2)), x, x, CONFIG));
        assertTrue(e.getMessage().startsWith("advantages must have shape (2, 3)"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> PpoLoss.value(x, x, manager.zeros(new Shape(2, 2)), x, CONFIG));
        assertTrue(e.getMessage().startsWith("returns"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new PpoConfig(0.2, 0, 0.04, 1, 0.95, 0, 2, true));
        assertThrows(IllegalArgumentException.class, () -> new PpoConfig(0.2, 0.2, 0.04, 1.1, 0.95, 0, 2, true));
        assertThrows(IllegalArgumentException.class, () -> new PpoConfig(0.2, 0.2, 0.04, 1, 0.95, -0.1, 2, true));
    }
}
