package dev.rlkafka.trainer;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

class AuditTest {

    @Test
    void orderDoesNotMatter() {
        assertEquals(Audit.of(List.of("g1", "g2", "g3")), Audit.of(List.of("g3", "g1", "g2")));
    }

    @Test
    void aGroupTwiceOrMissingChangesCountAndHash() {
        Audit once = Audit.of(List.of("g1", "g2"));
        Audit twice = Audit.of(List.of("g1", "g1", "g2"));
        Audit skipped = Audit.of(List.of("g1"));
        assertNotEquals(once.hash(), twice.hash());
        assertEquals(3, twice.count());
        assertNotEquals(once.hash(), skipped.hash());
    }

    @Test
    void hashIsTheWrappingSumOfPerIdHashes() {
        Audit audit = Audit.of(List.of("a", "b"));
        assertEquals(Audit.hashOf("a") + Audit.hashOf("b"), audit.hash());
    }
}
