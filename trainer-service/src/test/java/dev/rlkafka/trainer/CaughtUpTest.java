package dev.rlkafka.trainer;

import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.OptionalLong;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** When the trainer may keep a dropped group's place: only with nothing known to wait on any partition. */
class CaughtUpTest {
    private static final TopicPartition P0 = new TopicPartition("rl.scored-groups", 0);
    private static final TopicPartition P1 = new TopicPartition("rl.scored-groups", 1);

    @Test
    void caughtUpOnlyWhenEveryPartitionsLagIsKnownAndZero() {
        assertTrue(caughtUp(Map.of(P0, OptionalLong.of(0), P1, OptionalLong.of(0))));
        assertFalse(caughtUp(Map.of(P0, OptionalLong.of(0), P1, OptionalLong.of(1))), "a group waits on partition 1");
        assertFalse(caughtUp(Map.of(P0, OptionalLong.of(0), P1, OptionalLong.empty())), "partition 1 not fetched yet: groups may wait there");
    }

    private static boolean caughtUp(Map<TopicPartition, OptionalLong> lags) {
        return TrainerService.caughtUp(List.copyOf(lags.keySet()), lags::get);
    }
}
