package dev.rlkafka.reward.http;

import org.junit.jupiter.api.Test;

import java.util.OptionalLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class PartitionOffsetsTest {
    @Test
    void commitsUpToTheOldestUnresolvedRolloutOnly() {
        PartitionOffsets offsets = new PartitionOffsets();
        assertEquals(OptionalLong.empty(), offsets.toCommit(), "nothing polled");
        for (long o = 10; o <= 13; o++) offsets.track(o);
        assertEquals(OptionalLong.of(10), offsets.toCommit(), "10 still in flight: re-read from 10 after a crash");
        offsets.committed(10);
        assertEquals(OptionalLong.empty(), offsets.toCommit(), "already committed");

        offsets.resolve(12);
        offsets.resolve(13);   // fast ones finish first
        assertEquals(OptionalLong.empty(), offsets.toCommit(), "the slow 10 holds the commit back");
        offsets.resolve(10);
        assertEquals(OptionalLong.of(11), offsets.toCommit());
        offsets.resolve(11);
        assertEquals(OptionalLong.of(14), offsets.toCommit(), "all resolved: next to read");
        offsets.committed(14);
        assertEquals(0, offsets.unresolvedCount());

        offsets.track(20);   // gaps (transaction markers) are fine
        offsets.resolve(99); // unknown: ignored
        assertEquals(OptionalLong.of(20), offsets.toCommit());
    }

    @Test
    void anOffsetGoingBackwardsIsABug() {
        PartitionOffsets offsets = new PartitionOffsets();
        offsets.track(5);
        assertThrows(IllegalStateException.class, () -> offsets.track(5));
    }
}
