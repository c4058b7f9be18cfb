package dev.rlkafka.policy.loss;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class AdvantagesTest {

    @Test
    void normalisedByPopulationStd() {
        // rewards 1, 0, 0, 1: mean 0.5, std 0.5 → ±1
        assertArrayEquals(new double[] {1, -1, -1, 1}, Advantages.groupNormalised(new double[] {1, 0, 0, 1}, true, 0), 1e-12);
        // rewards 3, 0, 0, 0: mean 0.75, var (2.25² + 3·0.75²)/4 = 1.6875, std 1.29904
        double std = Math.sqrt(1.6875);
        assertArrayEquals(new double[] {2.25 / std, -0.75 / std, -0.75 / std, -0.75 / std},
                Advantages.groupNormalised(new double[] {3, 0, 0, 0}, true, 0), 1e-12);
    }

    @Test
    void drGrpoOnlySubtractsTheMean() {
        assertArrayEquals(new double[] {2.25, -0.75, -0.75, -0.75}, Advantages.groupNormalised(new double[] {3, 0, 0, 0}, false, 1e-6), 1e-12);
    }

    @Test
    void epsShrinksAdvantagesOfATightGroup() {
        double[] a = Advantages.groupNormalised(new double[] {1.0, 1.0 + 2e-6}, true, 1e-6);   // std 1e-6
        assertArrayEquals(new double[] {-0.5, 0.5}, a, 1e-9);
    }

    @Test
    void equalRewardsGiveZeroAdvantagesNotNaN() {
        assertArrayEquals(new double[] {0, 0, 0}, Advantages.groupNormalised(new double[] {0.7, 0.7, 0.7}, true, 0), 0);
        assertArrayEquals(new double[] {0}, Advantages.groupNormalised(new double[] {5}, true, 1e-6), 0);
    }

    @Test
    void rejectsNonFiniteRewardsNamingTheIndex() {
        var e = assertThrows(IllegalArgumentException.class, () -> Advantages.groupNormalised(new double[] {1, Double.NaN}, true, 1e-6));
        assertTrue(e.getMessage().contains("reward 1"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Advantages.groupNormalised(new double[0], true, 1e-6));
        assertThrows(IllegalArgumentException.class, () -> Advantages.groupNormalised(new double[] {1, 2}, true, -1));
    }

    @Test
    void rejectsFiniteRewardsWhoseMeanStdOrAdvantageOverflows() {
        // the sum overflows: every advantage would be NaN
        var e = assertThrows(IllegalArgumentException.class, () -> Advantages.groupNormalised(new double[] {1e308, 1.5e308}, true, 1e-6));
        assertTrue(e.getMessage().contains("too large"), e.getMessage());
        // the variance overflows: every advantage would be 0
        assertThrows(IllegalArgumentException.class, () -> Advantages.groupNormalised(new double[] {1e200, -1e200}, true, 1e-6));
        // r − mean overflows
        assertThrows(IllegalArgumentException.class, () -> Advantages.groupNormalised(new double[] {1.7e308, -1.7e308, -1.7e308}, false, 1e-6));
        // without dividing by std the variance does not matter
        assertArrayEquals(new double[] {1e200, -1e200}, Advantages.groupNormalised(new double[] {1e200, -1e200}, false, 1e-6), 0);
    }
}
