package dev.rlkafka.policy.task;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ArithmeticTaskTest {

    private final ArithmeticTask task = new ArithmeticTask();
    private final TaskPrompt prompt = new TaskPrompt("p1", "23+58=", "81");

    private double score(String scorerId, String completion) {
        return task.scorers().stream().filter(s -> s.id().equals(scorerId)).findFirst().orElseThrow()
                .score(prompt, completion);
    }

    @Test
    void promptsAreAdditionsWithTheirSum() {
        for (TaskPrompt p : task.prompts(Split.TRAIN, 200, 7)) {
            String[] ab = p.text().substring(0, p.text().length() - 1).split("\\+");
            int a = Integer.parseInt(ab[0]), b = Integer.parseInt(ab[1]);
            assertTrue(p.text().endsWith("="), p.text());
            assertTrue(a >= 10 && a <= 99 && b >= 10 && b <= 99, p.text());
            assertEquals(Integer.toString(a + b), p.referenceAnswer(), p.text());
        }
    }

    @Test
    void trainAndHeldOutNeverShareAProblem() {
        Set<String> train = new HashSet<>();
        for (long seed = 0; seed < 5; seed++) task.prompts(Split.TRAIN, 2000, seed).forEach(p -> train.add(p.text()));
        Set<String> heldOut = new HashSet<>();
        task.prompts(Split.HELD_OUT, 2000, 99).forEach(p -> heldOut.add(p.text()));
        assertTrue(heldOut.size() > 300, "held-out split has many problems, saw " + heldOut.size());
        heldOut.retainAll(train);
        assertEquals(Set.of(), heldOut);
    }

    @Test
    void aboutOneProblemInTenIsHeldOut() {
        int heldOut = 0;
        for (int a = 10; a <= 99; a++) for (int b = 10; b <= 99; b++) if (ArithmeticTask.splitOf(a, b) == Split.HELD_OUT) heldOut++;
        assertEquals(0.1, heldOut / 8100.0, 0.02);
    }

    @Test
    void sameSeedSameListOtherSeedOtherList() {
        assertEquals(task.prompts(Split.TRAIN, 50, 3), task.prompts(Split.TRAIN, 50, 3));
        assertNotEquals(task.prompts(Split.TRAIN, 50, 3), task.prompts(Split.TRAIN, 50, 4));
        List<TaskPrompt> prompts = task.prompts(Split.HELD_OUT, 100, 3);
        assertEquals(100, prompts.stream().map(TaskPrompt::id).distinct().count(), "ids are unique");
    }

    @Test
    void oneDigitOperandsStillHaveBothSplits() {
        ArithmeticTask small = new ArithmeticTask(1, 0.5);
        assertEquals(5, small.prompts(Split.HELD_OUT, 5, 1).size());
        assertEquals(5, small.prompts(Split.TRAIN, 5, 1).size());
    }

    @Test
    void exactAnswerRewardsOnlyTheRightSum() {
        assertEquals(1.0, score("exact-answer", "81"));
        assertEquals(1.0, score("exact-answer", " 81\n"), "trimmed");
        assertEquals(0.0, score("exact-answer", "82"));
        assertEquals(0.0, score("exact-answer", "081"));
        assertEquals(0.0, score("exact-answer", "81x"));
        assertEquals(0.0, score("exact-answer", ""));
        assertEquals(0.0, score("exact-answer", "   "));
        assertEquals(0.0, score("exact-answer", "eighty-one"));
    }

    @Test
    void formatRewardsDigitsOnlyOfPlausibleLength() {
        assertEquals(1.0, score("format", "81"));
        assertEquals(1.0, score("format", "82"), "wrong but well formed");
        assertEquals(1.0, score("format", "1"));
        assertEquals(1.0, score("format", "199"));
        assertEquals(0.0, score("format", "1999"), "two 2-digit numbers never sum to 4 digits");
        assertEquals(0.0, score("format", " 81"), "whitespace is a format error");
        assertEquals(0.0, score("format", "8 1"));
        assertEquals(0.0, score("format", ""));
        assertEquals(0.0, score("format", "+81"));
    }

    @Test
    void rewardIsWeightedSumOfScorers() {
        assertEquals(1.1, task.reward(prompt, "81"), 1e-12);
        assertEquals(1.0, task.reward(prompt, " 81"), 1e-12);
        assertEquals(0.1, task.reward(prompt, "80"), 1e-12);
        assertEquals(0.0, task.reward(prompt, "abc"), 1e-12);
    }

    @Test
    void aboutHalfOfDemonstrationsAreTheRightSumWithAStrayDigit() {
        Random rng = new Random(1);
        int wrong = 0, n = 10_000;
        for (TaskPrompt p : task.prompts(Split.TRAIN, n, 1)) {
            String demo = task.demonstration(p, rng);
            if (demo.equals(p.referenceAnswer())) continue;
            wrong++;
            assertTrue(demo.startsWith(p.referenceAnswer()), "the sum itself is demonstrated right: " + demo);
            assertEquals(p.referenceAnswer().length() + 1, demo.length(), "one stray digit: " + demo);
            assertTrue(Character.isDigit(demo.charAt(demo.length() - 1)), demo);
            assertEquals(0.0, task.scorers().get(0).score(p, demo), "exact-answer rejects it: " + demo);
        }
        // binomial sd = sqrt(0.25 / 10000) = 0.005; 0.02 is 4 sd
        assertEquals(ArithmeticTask.DEFAULT_DEMO_ERROR_RATE, (double) wrong / n, 0.02);
    }

    @Test
    void errorRateZeroGivesPerfectDemonstrations() {
        ArithmeticTask perfect = new ArithmeticTask(3, 0.0);
        Random rng = new Random(2);
        for (TaskPrompt p : perfect.prompts(Split.TRAIN, 500, 2)) assertEquals(p.referenceAnswer(), perfect.demonstration(p, rng));
    }

    @Test
    void invalidSettingsAreRejectedByName() {
        var e = assertThrows(IllegalArgumentException.class, () -> new ArithmeticTask(0, 0.5));
        assertTrue(e.getMessage().contains("digits"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new ArithmeticTask(2, 1.5));
        assertTrue(e.getMessage().contains("demoErrorRate"), e.getMessage());
    }
}
