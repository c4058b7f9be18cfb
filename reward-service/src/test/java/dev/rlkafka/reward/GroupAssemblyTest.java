package dev.rlkafka.reward;

import dev.rlkafka.schemas.avro.ScoredGroup;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static dev.rlkafka.reward.Fixtures.reward;
import static dev.rlkafka.reward.Fixtures.rollout;
import static dev.rlkafka.reward.Fixtures.rolloutId;
import static dev.rlkafka.reward.GroupAssembly.Outcome.EMITTED;
import static dev.rlkafka.reward.GroupAssembly.Outcome.EXPIRED;
import static dev.rlkafka.reward.GroupAssembly.Outcome.PENDING;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The group state machine without Kafka: times are plain ms. */
class GroupAssemblyTest {
    private static final String G = "g1";
    private static final long GRACE = 2_000;
    private static final long TIMEOUT = 10_000;
    /** When the service started: before every group of these tests, so no clock is held back by a restart. */
    private static final long STARTED = 0;
    private final GroupAssembly assembly = new GroupAssembly(Map.of("exact-answer", 1.0, "format", 0.1),
            Map.of("judge", 0.5), GRACE, TIMEOUT, true, 1e-6);

    private static Origin origin(long offset) {
        return new Origin("rl.rewards", 0, offset, G.getBytes(), new byte[] {(byte) offset});
    }

    private GroupAssembly.Step score(GroupState group, int index, String scorer, double score, long now) {
        return assembly.addReward(group, reward(G, rolloutId(G, index), scorer, score), origin(index), now);
    }

    /** Three rollouts with (exact-answer, format) = (1,1), (0,1), (0,0); judge never answers. */
    private GroupState requiredComplete(long now) {
        GroupState group = new GroupState(G, 0);
        double[][] scores = {{1, 1}, {0, 1}, {0, 0}};
        for (int i = 0; i < 3; i++) {
            assertEquals(PENDING, assembly.addRollout(group, rollout(G, i, 3, "42"), origin(100 + i), now).outcome());
            assertEquals(PENDING, score(group, i, "exact-answer", scores[i][0], now).outcome());
            assertEquals(PENDING, score(group, i, "format", scores[i][1], now).outcome());
        }
        return group;
    }

    @Test
    void weightedRewardsAndAdvantagesMatchAHandComputedGroup() {
        GroupState group = requiredComplete(500);
        assertEquals(500, group.requiredCompleteMs());
        ScoredGroup scored = assembly.tick(group, 500 + GRACE, STARTED).emitted().orElseThrow();
        // rewards 1·1+0.1·1 = 1.1, 0.1, 0; mean 0.4; population std sqrt((0.49+0.09+0.16)/3) = 0.496655
        assertEquals(List.of(1.1, 0.1, 0.0).toString(), scored.getRewards().stream().map(r -> Math.round(r * 1e9) / 1e9).toList().toString());
        double std = Math.sqrt(0.74 / 3);
        assertEquals(0.7 / std, scored.getAdvantages().get(0), 1e-5);
        assertEquals(-0.3 / std, scored.getAdvantages().get(1), 1e-5);
        assertEquals(-0.4 / std, scored.getAdvantages().get(2), 1e-5);
        assertTrue(scored.getAdvantages().get(0) > 0 && scored.getAdvantages().get(2) < 0, "sign follows reward");
        assertEquals(List.of("judge"), scored.getMissingScorers());
        assertEquals(List.of(0, 1, 2), scored.getRollouts().stream().map(r -> r.getIndex()).toList());
        assertEquals(500, scored.getCompletedAtMs().toEpochMilli());
    }

    @Test
    void groupWaitsForOptionalScorerUntilGraceEnds() {
        GroupState group = requiredComplete(0);
        assertEquals(PENDING, assembly.tick(group, GRACE - 1, STARTED).outcome(), "grace not over");
        assertEquals(EMITTED, assembly.tick(group, GRACE, STARTED).outcome());
    }

    @Test
    void optionalScorerAnsweringEveryRolloutEmitsAtOnceAndIsWeighted() {
        GroupState group = requiredComplete(0);
        assertEquals(PENDING, score(group, 0, "judge", 1, 10).outcome());
        assertEquals(PENDING, score(group, 1, "judge", 0, 10).outcome());
        var step = score(group, 2, "judge", 0, 10);
        assertEquals(EMITTED, step.outcome(), "every optional scorer answered: no need to wait out the grace");
        ScoredGroup scored = step.emitted().orElseThrow();
        assertEquals(1.6, scored.getRewards().get(0), 1e-12);
        assertEquals(List.of(), scored.getMissingScorers());
    }

    @Test
    void optionalScorerThatSkippedOneRolloutIsMissingForTheWholeGroup() {
        GroupState group = requiredComplete(0);
        score(group, 0, "judge", 1, 10);
        ScoredGroup scored = assembly.tick(group, GRACE, STARTED).emitted().orElseThrow();
        assertEquals(1.1, scored.getRewards().get(0), 1e-12, "judge not weighted into one reward of the group only");
        assertEquals(List.of("judge"), scored.getMissingScorers());
        assertEquals(1.0, scored.getScores().get(0).get("judge"), "its raw score is still reported");
    }

    @Test
    void unconfiguredScorerIsReportedButNotWeighted() {
        GroupState group = new GroupState(G, 0);
        assembly.addRollout(group, rollout(G, 0, 2, "42"), origin(1), 0);
        assembly.addRollout(group, rollout(G, 1, 2, "41"), origin(2), 0);
        score(group, 0, "length", 7, 0);
        for (int i = 0; i < 2; i++) {
            score(group, i, "exact-answer", 1 - i, 0);
            score(group, i, "format", 1, 0);
        }
        ScoredGroup scored = assembly.tick(group, GRACE, STARTED).emitted().orElseThrow();
        assertEquals(1.1, scored.getRewards().get(0), 1e-12);
        assertEquals(7.0, scored.getScores().get(0).get("length"));
    }

    @Test
    void rewardBeforeItsRolloutIsHeldNotRejected() {
        GroupState group = new GroupState(G, 0);
        var early = score(group, 1, "exact-answer", 1, 0);
        assertEquals(List.of(), early.rejections());
        assertEquals(1, group.held().size());
        assembly.addRollout(group, rollout(G, 1, 2, "42"), origin(9), 5);
        assertEquals(0, group.held().size(), "its rollout arrived");
        assertEquals(1.0, group.score(rolloutId(G, 1), "exact-answer"));
    }

    @Test
    void heldRewardForARolloutNotInTheCompleteGroupIsUnknown() {
        GroupState group = new GroupState(G, 0);
        assembly.addReward(group, reward(G, "g1/7", "format", 1), origin(3), 0);
        var step = assembly.addRollout(group, rollout(G, 0, 1, "42"), origin(4), 0);
        assertEquals(1, step.rejections().size());
        Rejection r = step.rejections().get(0);
        assertEquals(GroupAssembly.UNKNOWN_ROLLOUT, r.errorType());
        assertTrue(r.reason().contains("g1/7"), r.reason());
        assertArrayEquals(new byte[] {3}, r.origin().value(), "original bytes of the held reward");
        assertTrue(group.scoresOf("g1/7").isEmpty());
    }

    @Test
    void rewardForUnknownRolloutOfACompleteGroupIsRejectedAtOnce() {
        GroupState group = requiredComplete(0);
        var step = score(group, 5, "judge", 1, 1);
        assertEquals(GroupAssembly.UNKNOWN_ROLLOUT, step.rejections().get(0).errorType());
    }

    @Test
    void badRewardsAreRejectedAndFirstScoreWins() {
        GroupState group = new GroupState(G, 0);
        assembly.addRollout(group, rollout(G, 0, 2, "42"), origin(1), 0);
        assertEquals(GroupAssembly.NON_FINITE_SCORE, score(group, 0, "format", Double.NaN, 0).rejections().get(0).errorType());
        assertEquals(GroupAssembly.NON_FINITE_SCORE, score(group, 0, "format", Double.POSITIVE_INFINITY, 0).rejections().get(0).errorType());
        score(group, 0, "format", 1, 0);
        var dup = score(group, 0, "format", 0, 0);
        assertEquals(GroupAssembly.DUPLICATE_REWARD, dup.rejections().get(0).errorType());
        assertTrue(dup.rejections().get(0).reason().contains("already scored rollout g1/0 with 1.0"), dup.rejections().get(0).reason());
        assertEquals(1.0, group.score("g1/0", "format"));
    }

    @Test
    void rolloutsThatDisagreeWithTheGroupAreSizeMismatches() {
        GroupState group = new GroupState(G, 0);
        assembly.addRollout(group, rollout(G, 0, 2, "42"), origin(1), 0);
        var wrongSize = assembly.addRollout(group, rollout(G, 1, 3, "42"), origin(2), 0);
        var outOfRange = assembly.addRollout(group, rollout(G, 2, 2, "42"), origin(3), 0);
        var duplicateIndex = assembly.addRollout(group, rollout(G, 0, 2, "41"), origin(4), 0);
        for (var step : List.of(wrongSize, outOfRange, duplicateIndex)) {
            assertEquals(GroupAssembly.GROUP_SIZE_MISMATCH, step.rejections().get(0).errorType());
        }
        assertTrue(wrongSize.rejections().get(0).reason().contains("groupSize 3"), wrongSize.rejections().get(0).reason());
        assertEquals(1, group.rollouts().size());
        assertEquals("42", group.rollouts().get(0).getCompletionText(), "the first rollout with index 0 stays");
    }

    @Test
    void incompleteGroupExpiresNamingWhatIsMissing() {
        GroupState group = new GroupState(G, 0);
        assembly.addRollout(group, rollout(G, 0, 2, "42"), origin(1), 0);
        score(group, 0, "exact-answer", 1, 0);
        assertEquals(PENDING, assembly.tick(group, TIMEOUT - 1, STARTED).outcome());
        var step = assembly.tick(group, TIMEOUT, STARTED);
        assertEquals(EXPIRED, step.outcome());
        Rejection timeout = step.rejections().get(0);
        assertEquals(GroupAssembly.GROUP_TIMEOUT, timeout.errorType());
        assertTrue(timeout.reason().contains("group g1") && timeout.reason().contains("missing indices [1]")
                && timeout.reason().contains("g1/0 [format]"), timeout.reason());
    }

    @Test
    void afterARestartTheTimeoutCountsFromTheResumeNotFromBeforeTheDowntime() {
        GroupState group = new GroupState(G, 0);
        assembly.addRollout(group, rollout(G, 0, 1, "42"), origin(1), 0);
        long resumed = 5 * TIMEOUT;   // down for longer than the timeout: the scores may be waiting on the topic
        assertEquals(PENDING, assembly.tick(group, resumed + TIMEOUT - 1, resumed).outcome());
        var step = assembly.tick(group, resumed + TIMEOUT, resumed);
        assertEquals(EXPIRED, step.outcome());
        String reason = step.rejections().get(0).reason();
        assertTrue(reason.contains((6 * TIMEOUT) + " ms after its first record and " + TIMEOUT + " ms after this service resumed"), reason);
    }

    @Test
    void afterARestartTheOptionalGraceCountsFromTheResume() {
        GroupState group = requiredComplete(500);
        long resumed = 5 * TIMEOUT;
        assertEquals(PENDING, assembly.tick(group, resumed + GRACE - 1, resumed).outcome(), "the judge's answer may be on the topic");
        assertEquals(EMITTED, assembly.tick(group, resumed + GRACE, resumed).outcome());
    }

    @Test
    void rewardsOfAGroupWhoseRolloutsNeverCameAreUnknownAtTimeout() {
        GroupState group = new GroupState(G, 0);
        score(group, 0, "exact-answer", 1, 0);
        var step = assembly.tick(group, TIMEOUT, STARTED);
        assertEquals(EXPIRED, step.outcome());
        assertEquals(List.of(GroupAssembly.UNKNOWN_ROLLOUT), step.rejections().stream().map(Rejection::errorType).toList());
    }

    @Test
    void requiredCompleteGroupAtTimeoutIsEmittedNotDropped() {
        var longGrace = new GroupAssembly(Map.of("format", 1.0), Map.of("judge", 1.0), 60_000, TIMEOUT, true, 1e-6);
        GroupState group = new GroupState(G, 0);
        longGrace.addRollout(group, rollout(G, 0, 1, "42"), origin(1), 0);
        longGrace.addReward(group, reward(G, "g1/0", "format", 1), origin(2), 0);
        var step = longGrace.tick(group, TIMEOUT, STARTED);
        assertEquals(EMITTED, step.outcome());
        assertEquals(List.of("judge"), step.emitted().orElseThrow().getMissingScorers());
    }

    @Test
    void stateSurvivesTheStoreCodec() {
        GroupState group = new GroupState(G, 42);
        assembly.addRollout(group, rollout(G, 0, 2, "42"), origin(1), 50);
        score(group, 0, "format", 1, 50);
        score(group, 1, "judge", 0.5, 50);  // held: rollout 1 not here yet
        GroupState copy = GroupStateCodec.decode(GroupStateCodec.encode(group));
        assertEquals(group.groupId(), copy.groupId());
        assertEquals(42, copy.firstSeenMs());
        assertEquals(2, copy.groupSize());
        assertEquals(group.rollouts(), copy.rollouts());
        assertEquals(group.scores(), copy.scores());
        assertEquals(1, copy.held().size());
        assertArrayEquals(group.held().get(0).origin().value(), copy.held().get(0).origin().value());
        assertEquals(group.held().get(0).origin().toString(), copy.held().get(0).origin().toString());
    }

    @Test
    void groupThatIsNotCompleteCannotBeScored() {
        GroupState group = new GroupState(G, 0);
        assertFalse(assembly.requiredComplete(group));
        assertThrows(IllegalStateException.class, () -> assembly.scoredGroup(group));
        assertSame(PENDING, assembly.tick(group, 1, STARTED).outcome());
    }
}
