package dev.rlkafka.policy.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class RlGroupTest {

    private static RlSample rollout(double reward) {
        return new RlSample(new int[] {1, 2}, new int[] {3}, new float[] {-1f}, reward, 0, 0);
    }

    @Test
    void preferencePairIsTheBestAndTheWorstRollout() {
        RlSample low = rollout(0.1), best = rollout(1.1), middle = rollout(1.0), worst = rollout(0.0);
        RlGroup.PreferencePair pair = new RlGroup(List.of(low, best, middle, worst)).preferencePair().orElseThrow();
        assertSame(best, pair.chosen());
        assertSame(worst, pair.rejected());
    }

    @Test
    void theFirstOfEqualBestOrWorstRolloutsIsTaken() {
        RlSample a = rollout(1), b = rollout(0), c = rollout(1), d = rollout(0);
        RlGroup.PreferencePair pair = new RlGroup(List.of(a, b, c, d)).preferencePair().orElseThrow();
        assertSame(a, pair.chosen());
        assertSame(b, pair.rejected());
    }

    @Test
    void aGroupWhoseRewardsAllTieGivesNoPair() {
        assertTrue(new RlGroup(List.of(rollout(1.1), rollout(1.1), rollout(1.1))).preferencePair().isEmpty());
        assertTrue(new RlGroup(List.of(rollout(0))).preferencePair().isEmpty(), "one rollout prefers nothing");
    }

    @Test
    void rolloutsFlattenInOrderAndEmptyGroupsAreRejected() {
        RlSample a = rollout(1), b = rollout(0), c = rollout(2);
        assertEquals(List.of(a, b, c), RlGroup.rollouts(List.of(new RlGroup(List.of(a, b)), new RlGroup(List.of(c)))));
        assertThrows(IllegalArgumentException.class, () -> new RlGroup(List.of()));
        assertThrows(IllegalArgumentException.class, () -> new RlGroup.PreferencePair(a, c), "chosen must beat rejected");
    }
}
