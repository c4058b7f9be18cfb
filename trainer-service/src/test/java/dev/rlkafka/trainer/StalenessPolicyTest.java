package dev.rlkafka.trainer;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class StalenessPolicyTest {

    @Test
    void stalenessIsCurrentVersionMinusOldestRolloutVersion() {
        assertEquals(3, StalenessPolicy.staleness(5, 2));
        assertEquals(0, StalenessPolicy.staleness(5, 5));
    }

    @Test
    void keepsGroupsUpToTheBoundAndDropsPastIt() {
        StalenessPolicy policy = new StalenessPolicy(2);
        assertTrue(policy.keep(0));
        assertTrue(policy.keep(2));
        assertFalse(policy.keep(3));
    }

    @Test
    void zeroMeansOnlyCurrentVersionRollouts() {
        StalenessPolicy synchronous = new StalenessPolicy(0);
        assertTrue(synchronous.keep(0));
        assertFalse(synchronous.keep(1));
    }

    @Test
    void negativeBoundIsRejectedByName() {
        var e = assertThrows(IllegalArgumentException.class, () -> new StalenessPolicy(-1));
        assertEquals("maxStaleness must be >= 0, got -1", e.getMessage());
    }
}
