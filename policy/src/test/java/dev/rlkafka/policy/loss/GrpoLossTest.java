package dev.rlkafka.policy.loss;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class GrpoLossTest {

    private static final float LN2 = (float) Math.log(2);
    private static final GrpoConfig NO_KL = new GrpoConfig(0.2, 0.0, 2.0);

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

    /** Runs the loss with {@code logp} as a gradient leaf; returns the gradient w.r.t. logp. */
    private float[] gradient(NDArray logp, Function<NDArray, GrpoLoss.Result> loss) {
        logp.setRequiresGradient(true);
        try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
            collector.backward(loss.apply(logp).loss());
        }
        try (NDArray grad = logp.getGradient()) {
            return grad.toFloatArray();
        }
    }

    @Test
    void handComputedDecoupledLoss() {
        // ε = 0.2, β = 0.1, cap = 2; row 0 has A = +1 and its third token masked, row 1 has A = −1.
        // log π_prox = −1 everywhere; ρ = π_θ/π_prox and w = π_prox/π_behav chosen per token:
        //   token  ρ    A   min(ρA, clip(ρ)A)   w (capped)    w·surrogate   ref−logp   k3 = e^x − x − 1
        //   r0t0   1.1  +1  1.1                 1             1.1           −ln2       ln2 − 0.5
        //   r0t1   1.5  +1  1.2 (clipped)       3 → 2         2.4           0          0
        //   r1t0   0.5  −1  −0.8 (clipped)      1             −0.8          0          0
        //   r1t1   1.0  −1  −1.0                1             −1.0          +ln2       1 − ln2
        //   r1t2   0.9  −1  −0.9                0.5           −0.45         0          0
        // Σ w·surrogate = 1.25, Σ kl = 0.5, L = −(1.25 − 0.1·0.5)/5 = −0.24
        // mean kl 0.1; clip fraction 2/5 (|ρ−1| > 0.2 at 1.5 and 0.5); mean ρ 5.0/5 = 1; mean w 5.5/5 = 1.1
        // The masked token holds garbage (logp −50, behaviour +50, ref +80) that would overflow exp if used.
        NDArray prox = bt(-1, -1, -1, -1, -1, -1);
        NDArray logp = bt(-1 + ln(1.1), -1 + ln(1.5), -50, -1 + ln(0.5), -1, -1 + ln(0.9));
        NDArray behaviour = bt(-1, -1 - ln(3), 50, -1, -1, -1 - ln(0.5));
        NDArray ref = logp.add(bt(-LN2, 0, 130, 0, LN2, 0));
        NDArray advantages = manager.create(new float[] {1, -1});
        NDArray mask = bt(1, 1, 0, 1, 1, 1);

        GrpoLoss.Result result = GrpoLoss.compute(logp, prox, behaviour, ref, advantages, mask, new GrpoConfig(0.2, 0.1, 2.0));

        assertEquals(-0.24f, result.loss().getFloat(), 1e-5f);
        assertEquals(0.1f, result.meanKl(), 1e-5f);
        assertEquals(0.4f, result.clipFraction(), 1e-6f);
        assertEquals(1.0f, result.meanRatio(), 1e-5f);
        assertEquals(1.1f, result.meanBehaviourWeight(), 1e-5f);
    }

    @Test
    void perTokenAdvantagesEqualBroadcastPerRolloutOnes() {
        NDArray logp = bt(-1, -2, -3, -1, -2, -3);
        NDArray old = bt(-1.1f, -1.9f, -3, -0.5f, -2, -3.2f);
        NDArray mask = bt(1, 1, 1, 1, 1, 0);
        float perRollout = GrpoLoss.compute(logp, old, old, old, manager.create(new float[] {0.5f, -2}), mask, GrpoConfig.DEFAULT).loss().getFloat();
        float perToken = GrpoLoss.compute(logp, old, old, old, bt(0.5f, 0.5f, 0.5f, -2, -2, -2), mask, GrpoConfig.DEFAULT).loss().getFloat();
        assertEquals(perRollout, perToken, 1e-7f);
    }

    @Test
    void positiveAdvantageGivesNegativeGradientAndNegativeAdvantagePositive() {
        // on-policy, logp = ref: dL/dlogp = −A·ρ/N with ρ = 1, N = 6 tokens, and the KL term has zero slope
        float[] values = {-1, -2, -3, -0.5f, -1.5f, -2.5f};
        float[] grad = gradient(bt(values), logp -> {
            NDArray same = bt(values);
            return GrpoLoss.compute(logp, same, same, same, manager.create(new float[] {1, -1}), bt(1, 1, 1, 1, 1, 1), GrpoConfig.DEFAULT);
        });
        float n = 6;
        assertArrayEquals(new float[] {-1 / n, -1 / n, -1 / n, 1 / n, 1 / n, 1 / n}, grad, 1e-6f);
    }

    @Test
    void ratioAboveOnePlusEpsWithPositiveAdvantageGetsNoGradient() {
        // ρ = 1.5 > 1.2 with A > 0: the clipped branch is the min and is constant in θ.
        // ρ = 1.1 stays in the trust region; with A < 0 a ratio of 1.5 is not clipped (min picks −1.5).
        float[] prox = {-1, -1, -1, -1, -1, -1};
        float[] grad = gradient(bt(-1 + ln(1.5), -1 + ln(1.1), -1, -1 + ln(1.5), -1, -1), logp ->
                GrpoLoss.compute(logp, bt(prox), bt(prox), logp.stopGradient(), manager.create(new float[] {1, -1}),
                        bt(1, 1, 0, 1, 0, 0), NO_KL));
        assertEquals(0f, grad[0], 0f, "clipped: ρ = 1.5, A = +1");
        assertEquals(-1.1f / 3, grad[1], 1e-6f, "dL/dlogp = −A·ρ/N inside the region");
        assertEquals(1.5f / 3, grad[3], 1e-6f, "ρ = 1.5, A = −1 is not clipped");
    }

    @Test
    void ratioBelowOneMinusEpsWithNegativeAdvantageGetsNoGradient() {
        float[] prox = {-1, -1, -1, -1, -1, -1};
        float[] grad = gradient(bt(-1 + ln(0.5), -1, -1, -1, -1, -1), logp ->
                GrpoLoss.compute(logp, bt(prox), bt(prox), logp.stopGradient(), manager.create(new float[] {-1, 1}),
                        bt(1, 0, 0, 0, 0, 0), NO_KL));
        assertEquals(0f, grad[0], 0f);
    }

    @Test
    void behaviourWeightIsCappedAndScalesTheGradient() {
        // π_prox/π_behav = e³ ≈ 20 is capped to 2: L = −2·ρA/N = −2 at ρ = 1, A = 1, one token
        float[] grad = gradient(bt(-1, 0, 0, 0, 0, 0), logp -> {
            GrpoLoss.Result result = GrpoLoss.compute(logp, logp.stopGradient(), bt(-4, 0, 0, 0, 0, 0), logp.stopGradient(),
                    manager.create(new float[] {1, 1}), bt(1, 0, 0, 0, 0, 0), NO_KL);
            assertEquals(-2f, result.loss().getFloat(), 1e-6f);
            assertEquals(2f, result.meanBehaviourWeight(), 1e-6f);
            return result;
        });
        assertEquals(-2f, grad[0], 1e-6f);
    }

    @Test
    void equalsStandardPpoClipWhenProximalIsBehaviour() {
        // standard PPO: −mean(min(ρA, clip(ρ)A)) with ρ = π_θ/π_behav; ρ = 1.3 → clip 1.2, A = 2, one token
        NDArray logp = bt(ln(1.3) - 2, 0, 0, 0, 0, 0);
        NDArray behaviour = bt(-2, 0, 0, 0, 0, 0);
        GrpoLoss.Result result = GrpoLoss.compute(logp, behaviour, behaviour, logp, manager.create(new float[] {2, 2}),
                bt(1, 0, 0, 0, 0, 0), NO_KL);
        assertEquals(-2.4f, result.loss().getFloat(), 1e-5f);
        assertEquals(1f, result.meanBehaviourWeight(), 1e-6f);
    }

    @Test
    void maskedTokensContributeNothingWhateverTheyHold() {
        NDArray mask = bt(1, 0, 1, 0, 1, 0);
        NDArray adv = manager.create(new float[] {1, -0.5f});
        float inf = Float.POSITIVE_INFINITY, nan = Float.NaN;
        // same completion tokens; padding holds zeros in one call and NaN/±inf/huge values in the other
        float clean = GrpoLoss.compute(bt(-1, 0, -3, 0, -2, 0), bt(-1.1f, 0, -3.1f, 0, -2.1f, 0), bt(-1, 0, -3, 0, -2, 0),
                bt(-0.5f, 0, -3, 0, -2, 0), adv, mask, GrpoConfig.DEFAULT).loss().getFloat();
        float[] withGarbage = new float[1];
        float[] grad = gradient(bt(-1, -inf, -3, nan, -2, 1e30f), logp -> {
            GrpoLoss.Result result = GrpoLoss.compute(logp, bt(-1.1f, nan, -3.1f, inf, -2.1f, -1e30f),
                    bt(-1, inf, -3, -inf, -2, nan), bt(-0.5f, 1e30f, -3, nan, -2, -inf), adv, mask, GrpoConfig.DEFAULT);
            withGarbage[0] = result.loss().getFloat();
            return result;
        });
        assertTrue(Float.isFinite(clean) && clean != 0, "clean " + clean);
        assertEquals(clean, withGarbage[0], 1e-6f);
        for (int i : new int[] {1, 3, 5}) assertEquals(0f, grad[i], 0f, "masked token " + i);
        for (int i : new int[] {0, 2, 4}) assertTrue(grad[i] != 0 && Float.isFinite(grad[i]), "token " + i + ": " + grad[i]);
    }

    @Test
    void klIsZeroAtTheReferenceAndPositiveAway() {
        NDArray logp = bt(-1, -2, -3, -1, -2, -3);
        NDArray adv = manager.create(new float[] {1, -1});
        NDArray mask = bt(1, 1, 1, 1, 1, 1);
        assertEquals(0f, GrpoLoss.compute(logp, logp, logp, logp, adv, mask, GrpoConfig.DEFAULT).meanKl(), 0f);
        for (float shift : new float[] {-1, -0.01f, 0.01f, 1}) {
            float kl = GrpoLoss.compute(logp, logp, logp, logp.add(shift), adv, mask, GrpoConfig.DEFAULT).meanKl();
            assertTrue(kl > 0, "shift " + shift + ": kl " + kl);
        }
    }

    @Test
    void klPenaltyPullsLogpTowardsTheReference() {
        // A = 0 leaves only β·kl; with π_ref above π_θ, raising logp lowers the loss: gradient < 0
        float[] grad = gradient(bt(-2, -2, -2, -2, -2, -2), logp -> GrpoLoss.compute(logp, logp.stopGradient(), logp.stopGradient(),
                bt(-1, -3, -2, -1, -1, -1), manager.create(new float[] {0, 0}), bt(1, 1, 1, 1, 1, 1), GrpoConfig.DEFAULT));
        assertTrue(grad[0] < 0, "ref above: " + grad[0]);
        assertTrue(grad[1] > 0, "ref below: " + grad[1]);
        assertEquals(0f, grad[2], 1e-7f, "at the reference");
    }

    @Test
    void float64AdvantagesKeepTheLossFloat32() {
        NDArray logp = bt(-1, -2, -3, -1, -2, -3);
        NDArray advantages = manager.create(new double[] {1, -1});
        NDArray loss = GrpoLoss.compute(logp, logp, logp, logp, advantages, bt(1, 1, 1, 1, 1, 1), GrpoConfig.DEFAULT).loss();
        assertEquals(DataType.FLOAT32, loss.getDataType());
        assertEquals(0f, loss.getFloat(), 1e-7f, "mean advantage 0 on-policy at the reference");
    }

    @Test
    void badShapesAndConfigAreRejected() {
        NDArray x = bt(0, 0, 0, 0, 0, 0);
        var e = assertThrows(IllegalArgumentException.class, () ->
                GrpoLoss.compute(x, x, x, x, manager.zeros(new Shape(3)), x, GrpoConfig.DEFAULT));
        assertTrue(e.getMessage().startsWith("advantages must be (B) = (2)"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () ->
                GrpoLoss.compute(x, manager.zeros(new Shape(2, 2)), x, x, manager.zeros(new Shape(2)), x, GrpoConfig.DEFAULT));
        assertTrue(e.getMessage().startsWith("proximalLogp"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new GrpoConfig(0, 0.04, 2));
        assertThrows(IllegalArgumentException.class, () -> new GrpoConfig(0.2, -1, 2));
        e = assertThrows(IllegalArgumentException.class, () -> new GrpoConfig(0.2, 0.04, 0.5));
        assertTrue(e.getMessage().contains("behaviourCap"), e.getMessage());
    }
}
