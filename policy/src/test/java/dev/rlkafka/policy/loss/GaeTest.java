package dev.rlkafka.policy.loss;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class GaeTest {

    @Test
    void handComputedAdvantagesAndReturns() {
        // r = [0, 0, 1], V = [0.5, 0.4, 0.6], γ = 1, λ = 0.5, V after the last token = 0:
        //   δ2 = 1 + 0 − 0.6 = 0.4      A2 = 0.4
        //   δ1 = 0 + 0.6 − 0.4 = 0.2    A1 = 0.2 + 0.5·0.4 = 0.4
        //   δ0 = 0 + 0.4 − 0.5 = −0.1   A0 = −0.1 + 0.5·0.4 = 0.1
        // returns = A + V = [0.6, 0.8, 1.0]
        Gae.Result result = Gae.compute(new double[] {0, 0, 1}, new double[] {0.5, 0.4, 0.6}, 1.0, 0.5);
        assertArrayEquals(new double[] {0.1, 0.4, 0.4}, result.advantages(), 1e-12);
        assertArrayEquals(new double[] {0.6, 0.8, 1.0}, result.returns(), 1e-12);
    }

    @Test
    void lambdaOneIsTheDiscountedReturnMinusTheValue() {
        // γ = 0.9, λ = 1: A_t = Σ_l γ^l r_{t+l} − V_t, so A0 = 0.81·1 − 0.5 = 0.31 and A1 = 0.9·1 − 0.4 = 0.5
        Gae.Result result = Gae.compute(new double[] {0, 0, 1}, new double[] {0.5, 0.4, 0.6}, 0.9, 1.0);
        assertArrayEquals(new double[] {0.31, 0.5, 0.4}, result.advantages(), 1e-12);
        assertArrayEquals(new double[] {0.81, 0.9, 1.0}, result.returns(), 1e-12, "returns are the discounted rewards-to-go");
    }

    @Test
    void lambdaZeroIsTheOneStepTemporalDifference() {
        Gae.Result result = Gae.compute(new double[] {0, 0, 1}, new double[] {0.5, 0.4, 0.6}, 1.0, 0.0);
        assertArrayEquals(new double[] {-0.1, 0.2, 0.4}, result.advantages(), 1e-12);
    }

    @Test
    void shapedRewardsPayTheKlOnEveryTokenAndTheRewardOnTheLast() {
        // β = 0.1, kl = [0.5, −0.2, 0.1], R = 1: r = [−0.05, 0.02, −0.01 + 1]
        assertArrayEquals(new double[] {-0.05, 0.02, 0.99}, Gae.shapedRewards(1.0, new double[] {0.5, -0.2, 0.1}, 0.1), 1e-12);
        assertArrayEquals(new double[] {2.0}, Gae.shapedRewards(2.0, new double[] {0.3}, 0.0), 0, "one token, no penalty");
    }

    @Test
    void aHigherKlOnAnEarlyTokenLowersEveryAdvantageUpToIt() {
        double[] values = {0.2, 0.3, 0.4};
        double[] calm = Gae.compute(Gae.shapedRewards(1, new double[] {0, 0, 0}, 0.1), values, 1, 0.95).advantages();
        double[] drifted = Gae.compute(Gae.shapedRewards(1, new double[] {0, 2, 0}, 0.1), values, 1, 0.95).advantages();
        assertTrue(drifted[0] < calm[0] && drifted[1] < calm[1], "tokens before and at the drift pay for it");
        assertArrayEquals(new double[] {calm[2]}, new double[] {drifted[2]}, 1e-12, "the token after it does not");
    }

    @Test
    void whitenedHasMeanZeroAndUnitStdOverAllTokens() {
        // tokens {1, 3, 5}: mean 3, population std √(8/3)
        double[][] w = Gae.whitened(new double[][] {{1, 3}, {5}});
        double s = Math.sqrt(8.0 / 3);
        assertArrayEquals(new double[] {-2 / s, 0}, w[0], 1e-6);
        assertArrayEquals(new double[] {2 / s}, w[1], 1e-6);
    }

    @Test
    void badInputIsRejected() {
        assertThrows(IllegalArgumentException.class, () -> Gae.compute(new double[] {1}, new double[] {1, 2}, 1, 1));
        assertThrows(IllegalArgumentException.class, () -> Gae.compute(new double[] {1}, new double[] {1}, 1.5, 1));
        assertThrows(IllegalArgumentException.class, () -> Gae.shapedRewards(Double.NaN, new double[] {0}, 0.1));
        assertThrows(IllegalArgumentException.class, () -> Gae.shapedRewards(1, new double[0], 0.1));
    }
}
