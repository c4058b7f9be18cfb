package dev.rlkafka.cli.observe;

import dev.rlkafka.cli.observe.RunReplay.Replay;
import dev.rlkafka.cli.observe.RunReplay.ScorerStats;
import dev.rlkafka.cli.observe.RunReplay.StepStats;
import dev.rlkafka.cli.observe.RunReplay.VersionStats;
import dev.rlkafka.schemas.avro.Rollout;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RunReplayTest {
    private static final String EXACT = "exact-answer";
    private static final String FORMAT = "format";

    @Test
    void versionRewardAndAccuracyComeFromTheScoredGroupsOfThatVersionsRollouts() {
        RunReplay replay = new RunReplay();
        Rollout a0 = Records.rollout("a", 0, 0, "81"), a1 = Records.rollout("a", 1, 0, "817");
        Rollout b0 = Records.rollout("b", 0, 1, "81"), b1 = Records.rollout("b", 1, 1, "81");
        List.of(a0, a1, b0, b1).forEach(replay::accept);
        replay.accept(Records.scoredGroup(List.of(a0, a1), List.of(1.1, 0.0),
                List.of(Map.of(EXACT, 1.0, FORMAT, 1.0), Map.of(EXACT, 0.0, FORMAT, 0.0))));
        replay.accept(Records.scoredGroup(List.of(b0, b1), List.of(1.1, 1.1),
                List.of(Map.of(EXACT, 1.0, FORMAT, 1.0), Map.of(EXACT, 1.0, FORMAT, 1.0))));

        Replay r = replay.result();
        assertEquals(2, r.versions().size());
        VersionStats v0 = r.versions().get(0), v1 = r.versions().get(1);
        assertEquals(0, v0.policyVersion());
        assertEquals(2, v0.rollouts());
        assertEquals(1, v0.scoredGroups());
        assertEquals((1.1 + 0.0) / 2, v0.rewardMean(), 1e-12);
        assertEquals(0.5, v0.accuracy(), 1e-12, "one of two exact answers");
        assertEquals(0.5, v0.scorerMeans().get(FORMAT), 1e-12);
        assertEquals(1.1, v1.rewardMean(), 1e-12);
        assertEquals(1.0, v1.accuracy(), 1e-12);
    }

    @Test
    void aGroupWithoutExactAnswerScoresHasNoAccuracyRatherThanZero() {
        RunReplay replay = new RunReplay();
        Rollout r0 = Records.rollout("c", 0, 2, "x"), r1 = Records.rollout("c", 1, 2, "y");
        replay.accept(Records.scoredGroup(List.of(r0, r1), List.of(0.3, 0.7), List.of(Map.of("judge", 0.3), Map.of("judge", 0.7))));
        VersionStats v = replay.result().versions().get(0);
        assertTrue(Double.isNaN(v.accuracy()));
        assertEquals(0.5, v.rewardMean(), 1e-12);
        assertEquals(0, v.rollouts(), "no rollout records were read, only the scored group");
    }

    @Test
    void recordsTheServicesMayRepeatCountOnceAndARepeatedStepKeepsItsLastReport() {
        RunReplay replay = new RunReplay();
        Rollout r0 = Records.rollout("d", 0, 0, "81"), r1 = Records.rollout("d", 1, 0, "1");
        var group = Records.scoredGroup(List.of(r0, r1), List.of(1.0, 0.0), List.of(Map.of(EXACT, 1.0), Map.of(EXACT, 0.0)));
        replay.accept(r0);
        replay.accept(r0);
        replay.accept(group);
        replay.accept(group);
        replay.accept(Records.reward("d/0", EXACT, 1.0));
        replay.accept(Records.reward("d/0", EXACT, 0.0));   // a duplicate the reward-service dead-lettered
        replay.accept(Records.reward("d/1", EXACT, 0.0));
        replay.accept(Records.stepMetric(1, 1, Map.of("reward_mean", 0.2, "staleness_0", 2.0, "dropped_stale", 0.0)));
        replay.accept(Records.stepMetric(2, 2, Map.of("reward_mean", 0.4, "staleness_0", 1.0, "staleness_1", 1.0, "dropped_stale", 1.0)));
        // a restarted trainer re-trains step 2 after its checkpoint at step 1
        replay.accept(Records.stepMetric(2, 2, Map.of("reward_mean", 0.5, "staleness_0", 2.0, "dropped_stale", 0.0)));

        Replay r = replay.result();
        assertEquals(1, r.rollouts());
        assertEquals(1, r.scoredGroups());
        assertEquals(1, r.versions().get(0).scoredGroups());
        assertEquals(0.5, r.versions().get(0).rewardMean(), 1e-12, "the repeated group is not averaged in twice");
        ScorerStats exact = r.scorers().get(0);
        assertEquals(2, exact.count());
        assertEquals(1, exact.duplicates());
        assertEquals(0.5, exact.mean(), 1e-12, "the first reward of d/0 counts, not the duplicate");
        assertEquals(2, r.steps().size());
        assertEquals(1, r.repeatedSteps());
        StepStats step2 = r.steps().get(1);
        assertEquals(0.5, step2.value("reward_mean"), 0);
        assertEquals(List.of(4L), r.stalenessHistogram(), "2 groups at step 1 + 2 in the last report of step 2");
        assertEquals(0, r.droppedStale());
        assertEquals(Map.of("trainer/trainer.step", 3L), r.metricsByKind());
    }

    @Test
    void deadLettersAreCountedByErrorTypeWithTheFirstReasonAsExample() {
        RunReplay replay = new RunReplay();
        replay.accept(Records.deadLetter("NON_FINITE_SCORE", "score NaN from judge for g/1"));
        replay.accept(Records.deadLetter("NON_FINITE_SCORE", "score Infinity from judge for g/2"));
        replay.accept(Records.deadLetter("GROUP_TIMEOUT", "group h waited 60 s"));
        replay.undecodable("cannot decode Reward from rl.rewards-0@3: NOT_SINGLE_OBJECT");

        Replay r = replay.result();
        assertEquals(3, r.deadLetters());
        assertEquals(List.of(new RunReplay.DeadLetterStats("GROUP_TIMEOUT", 1, "group h waited 60 s"),
                new RunReplay.DeadLetterStats("NON_FINITE_SCORE", 2, "score NaN from judge for g/1")), r.deadLetterTypes());
        assertEquals(1, r.undecodable());
        assertEquals(List.of("cannot decode Reward from rl.rewards-0@3: NOT_SINGLE_OBJECT"), r.undecodableExamples());
    }

    @Test
    void theStepsCsvKeepsFullPrecisionAndTheDemosStalenessFormat() {
        RunReplay replay = new RunReplay();
        replay.accept(Records.stepMetric(1, 1, Map.of("reward_mean", 0.123456789012, "kl", 1e-7, "groups", 3.0,
                "staleness_0", 2.0, "staleness_1", 0.0, "staleness_2", 1.0, "zeta", 5.0)));
        String csv = ReplayReport.stepsCsv(replay.result());
        String[] lines = csv.split("\n");
        assertEquals("step,policy_version,service_id,groups,dropped_stale,reward_mean,accuracy,kl,loss,clip_fraction,tokens,"
                + "tokens_per_s,lag,wait_ms,publish_ms,zeta,staleness", lines[0]);
        assertEquals("1,1,trainer,3.0,,0.123456789012,,1.0E-7,,,,,,,,5.0,0:2|2:1", lines[1]);
    }
}
