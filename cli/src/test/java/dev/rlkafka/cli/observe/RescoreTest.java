package dev.rlkafka.cli.observe;

import dev.rlkafka.cli.observe.Rescore.Agreement;
import dev.rlkafka.cli.observe.Rescore.Report;
import dev.rlkafka.schemas.avro.Reward;
import dev.rlkafka.schemas.avro.Rollout;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RescoreTest {

    @Test
    void aLenientJudgeDisagreesWithExactAnswerOnTheStrayDigitAnswers() {
        Rescore rescore = new Rescore(RescoreScorers.byName(RescoreScorers.ANSWER_PREFIX), Rescore.DEFAULT_THRESHOLD, 5);
        // reference 81: right, right plus a stray digit (the demo's wrong demonstrations), wrong, right with a space
        List<Rollout> rollouts = List.of(Records.rollout("g", 0, 0, "81"), Records.rollout("g", 1, 0, "817"),
                Records.rollout("g", 2, 0, "18"), Records.rollout("g", 3, 0, " 81"));
        List<Double> exact = List.of(1.0, 0.0, 0.0, 1.0);
        for (int i = 0; i < rollouts.size(); i++) {
            Optional<Reward> reward = rescore.score(rollouts.get(i), Records.AT);
            assertTrue(reward.isPresent());
            assertEquals("answer-prefix", reward.get().getScorerId());
            assertEquals(rollouts.get(i).getGroupId(), reward.get().getGroupId());
            rescore.oldReward(Records.reward(rollouts.get(i).getRolloutId(), "exact-answer", exact.get(i)));
        }

        Report report = rescore.report();
        assertEquals(4, report.rollouts());
        assertEquals(4, report.scored());
        assertEquals(0.75, report.newMean(), 1e-12);
        Agreement a = report.agreements().get(0);
        assertEquals("exact-answer", a.oldScorer());
        assertEquals(4, a.count());
        assertEquals(1, a.disagreements());
        assertEquals(0.25, a.meanAbsDiff(), 1e-12);
        // x = (1,0,0,1), y = (1,1,0,1): x̄ = .5, ȳ = .75; Σdxdy = .125+(-.125)+.375+.125 = .5, Σdx² = 1, Σdy² = .75
        assertEquals(0.5 / Math.sqrt(0.75), a.pearson(), 1e-12);
        assertEquals(List.of(new Rescore.Example("g/1", "40+41=", "817", 0.0, 1.0)), a.examples());
    }

    @Test
    void rescoringWithTheSameScorerAgreesEverywhere() {
        Rescore rescore = new Rescore(RescoreScorers.byName("exact-answer"), 0.5, 5);
        List<String> completions = List.of("81", "817", "18", " 81 ");
        for (int i = 0; i < completions.size(); i++) {
            Rollout r = Records.rollout("h", i, 3, completions.get(i));
            double score = rescore.score(r, Records.AT).orElseThrow().getScore();
            rescore.oldReward(Records.reward(r.getRolloutId(), "exact-answer", score));
            rescore.oldReward(Records.reward(r.getRolloutId(), "format", 1.0));
        }
        Report report = rescore.report();
        Agreement exact = report.agreements().stream().filter(a -> a.oldScorer().equals("exact-answer")).findFirst().orElseThrow();
        assertEquals(0, exact.disagreements());
        assertEquals(0, exact.meanAbsDiff(), 0);
        assertEquals(1.0, exact.pearson(), 1e-12);
        Agreement format = report.agreements().stream().filter(a -> a.oldScorer().equals("format")).findFirst().orElseThrow();
        assertTrue(Double.isNaN(format.pearson()), "a constant old scorer has no correlation");
        assertEquals(2, format.disagreements(), "format 1 where exact-answer says 0: different sign");
    }

    @Test
    void aScoreFurtherApartThanTheThresholdDisagreesEvenWithTheSameSign() {
        Rescore rescore = new Rescore(RescoreScorers.byName("exact-answer"), 0.5, 5);
        assertFalse(rescore.disagree(0.8, 1.0));
        assertTrue(rescore.disagree(0.4, 1.0));
        assertTrue(rescore.disagree(-0.1, 0.1));
        assertFalse(rescore.disagree(0.0, 0.0));
    }

    @Test
    void aBuiltInScorerOfAnotherTaskDoesNotApplyAndARepeatedRolloutIsScoredOnce() {
        Rescore rescore = new Rescore(RescoreScorers.byName("char-overlap"), 0.5, 5);   // reverse's scorer
        Rollout arithmetic = Records.rollout("i", 0, 0, "81");
        assertTrue(rescore.score(arithmetic, Records.AT).isEmpty());
        assertTrue(rescore.score(arithmetic, Records.AT).isEmpty());
        Report report = rescore.report();
        assertEquals(1, report.rollouts());
        assertEquals(0, report.scored());
        assertEquals(1, report.notApplicable());
        assertEquals(1, report.duplicateRollouts());
    }

    @Test
    void anUnknownScorerNameListsTheKnownOnes() {
        var e = assertThrows(IllegalArgumentException.class, () -> RescoreScorers.byName("judge"));
        assertTrue(e.getMessage().contains("exact-answer") && e.getMessage().contains("answer-prefix"), e.getMessage());
    }
}
