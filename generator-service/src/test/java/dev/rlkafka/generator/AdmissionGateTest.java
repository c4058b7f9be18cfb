package dev.rlkafka.generator;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AdmissionGateTest {

    @Test
    void synchronousGateAdmitsOneVersionOfGroupsThenWaitsForTheNextVersion() {
        AdmissionGate gate = new AdmissionGate(0, 2, 0);
        assertEquals(2, gate.remaining());
        gate.admitted(2);
        assertFalse(gate.isOpen(), "version 0 is worth 2 groups; the trainer has not published version 1");
        gate.versionPublished(1);
        assertEquals(2, gate.remaining());
        gate.admitted(1);
        assertEquals(1, gate.remaining());
        gate.admitted(1);
        assertFalse(gate.isOpen());
    }

    @Test
    void staleness2LetsTheGeneratorRunThreeVersionsAhead() {
        AdmissionGate gate = new AdmissionGate(2, 4, 0);
        assertEquals(12, gate.capacity(), "(0 + 2 + 1) · 4");
        gate.admitted(12);
        assertFalse(gate.isOpen());
        gate.versionPublished(3);
        assertEquals(24, gate.capacity(), "(3 + 2 + 1) · 4");
        assertEquals(12, gate.remaining());
    }

    @Test
    void countsFromTheVersionItStartsAt() {
        AdmissionGate gate = new AdmissionGate(1, 3, 7);
        assertEquals(6, gate.capacity(), "(7 − 7 + 1 + 1) · 3: a restart at version 7 is not 7 versions behind");
        gate.versionPublished(8);
        assertEquals(9, gate.capacity());
    }

    @Test
    void anOlderVersionDoesNotShrinkTheWindow() {
        AdmissionGate gate = new AdmissionGate(0, 2, 0);
        gate.versionPublished(3);
        gate.versionPublished(1);
        assertEquals(3, gate.latestVersion());
        assertEquals(8, gate.capacity());
    }

    @Test
    void overAdmissionLeavesNoRoomRatherThanNegativeRoom() {
        AdmissionGate gate = new AdmissionGate(0, 2, 0);
        gate.admitted(5);
        assertEquals(0, gate.remaining());
        assertTrue(gate.admittedGroups() > gate.capacity());
    }

    @Test
    void aVersionThatCannotBeLoadedMovesAdmissionOnByOneVersionAtMost() {
        assertEquals(4, AdmissionGate.afterUnloadable(3, 4), "the next version, damaged: admission moves on");
        assertEquals(4, AdmissionGate.afterUnloadable(3, 1_000_000_000_000L), "a claim of a far version moves it by one");
        assertEquals(3, AdmissionGate.afterUnloadable(3, 2), "an old one changes nothing");
    }

    @Test
    void rejectsBadSettingsByName() {
        var e = assertThrows(IllegalArgumentException.class, () -> new AdmissionGate(-1, 2, 0));
        assertTrue(e.getMessage().contains("maxStaleness") && e.getMessage().contains("-1"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new AdmissionGate(0, 0, 0));
        assertTrue(e.getMessage().contains("groupsPerVersion"), e.getMessage());
    }
}
