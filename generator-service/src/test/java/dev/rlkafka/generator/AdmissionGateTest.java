package dev.rlkafka.generator;

import dev.rlkafka.schemas.DeadLetters;
import dev.rlkafka.schemas.avro.DeadLetter;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AdmissionGateTest {
    private static final String ROLLOUTS = "run.rl.rollouts";
    private static final String SCORED_GROUPS = "run.rl.scored-groups";
    private int nextGroup;

    @Test
    void synchronousGateAdmitsOneVersionOfGroupsThenWaitsForTheNextVersion() {
        AdmissionGate gate = new AdmissionGate(0, 2, 0);
        assertEquals(2, gate.remaining());
        gate.admitted(groups(2));
        assertFalse(gate.isOpen(), "version 0 is worth 2 groups; the trainer has not published version 1");
        gate.versionPublished(1);
        assertEquals(2, gate.remaining());
        gate.admitted(groups(1));
        assertEquals(1, gate.remaining());
        gate.admitted(groups(1));
        assertFalse(gate.isOpen());
    }

    @Test
    void staleness2LetsTheGeneratorRunThreeVersionsAhead() {
        AdmissionGate gate = new AdmissionGate(2, 4, 0);
        assertEquals(12, gate.capacity(), "(0 + 2 + 1) · 4");
        gate.admitted(groups(12));
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
        gate.admitted(groups(5));
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

    @Test
    void aLostGroupGivesItsPlaceBackOnceAndOnlyWhenThisGateAdmittedIt() {
        AdmissionGate gate = new AdmissionGate(1, 2, 0);
        gate.admitted(List.of("a", "b", "c", "d"));
        assertFalse(gate.isOpen(), "(0 + 1 + 1) · 2 groups in flight");
        assertFalse(gate.lost("from-another-generator"), "not admitted here: a restarted generator's earlier groups");
        assertFalse(gate.isOpen());
        assertTrue(gate.lost("b"));
        assertEquals(1, gate.remaining(), "b expired: its place is free");
        assertFalse(gate.lost("b"), "a second dead letter of b frees nothing more");
        assertEquals(1, gate.remaining());
        assertEquals(4, gate.admittedGroups());
        assertEquals(1, gate.lostGroups());
    }

    @Test
    void withoutLostPlacesLostGroupsWouldStopTheLoop() {
        // a scorer started late: the whole first lead expires before any group is trained
        AdmissionGate gate = new AdmissionGate(2, 4, 0);
        List<String> lead = groups(12);
        gate.admitted(lead);
        assertFalse(gate.isOpen(), "no version will come: the trainer has nothing to train");
        lead.forEach(gate::lost);
        assertEquals(12, gate.remaining(), "the lead is back, so the next groups can reach the trainer");
    }

    @Test
    void remembersTheNewestAdmittedGroupsOnly() {
        AdmissionGate gate = new AdmissionGate(0, 1, 0);
        gate.admitted(List.of("first"));
        gate.admitted(groups(AdmissionGate.REMEMBERED));
        assertFalse(gate.lost("first"), "forgotten after REMEMBERED newer groups");
        assertTrue(gate.lost("g" + (nextGroup - 1)));
    }

    @Test
    void onlyADeadLetterOfAWholeGroupOrOfAScoredGroupMeansNeverTrained() {
        assertEquals(Optional.of("g7"), neverTrained(DeadLetters.GROUP_TIMEOUT, ROLLOUTS, -1, "g7"), "expired");
        assertEquals(Optional.of("g6"), neverTrained("NON_FINITE_SCORE", ROLLOUTS, -1, "g6"), "rewards that sum to infinity");
        assertEquals(Optional.of("g8"), neverTrained("NON_FINITE_ADVANTAGE", SCORED_GROUPS, 12, "g8"), "the trainer could not train it");
        assertEquals(Optional.empty(), neverTrained("DUPLICATE_REWARD", "run.rl.rewards", 3, "g9"), "the group itself is still trained");
        assertEquals(Optional.empty(), neverTrained("KEY_MISMATCH", ROLLOUTS, 5, "g9"), "one rollout, not the group");
        assertEquals(Optional.empty(), neverTrained(DeadLetters.GROUP_TIMEOUT, ROLLOUTS, -1, null), "no group named");
    }

    private List<String> groups(int n) {
        return IntStream.range(0, n).mapToObj(i -> "g" + nextGroup++).toList();
    }

    private static Optional<String> neverTrained(String errorType, String sourceTopic, long offset, String key) {
        DeadLetter letter = DeadLetters.builder().source(sourceTopic, offset < 0 ? -1 : 0, offset)
                .key(key == null ? null : key.getBytes(StandardCharsets.UTF_8))
                .errorType(errorType).reason("test").serviceId("test").build();
        return AdmissionGate.neverTrained(letter, ROLLOUTS, SCORED_GROUPS);
    }
}
