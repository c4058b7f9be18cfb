package dev.rlkafka.policy.task;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ReverseTaskTest {

    private final ReverseTask task = new ReverseTask();
    private final TaskPrompt prompt = new TaskPrompt("p1", "reverse stop=", "pots");

    @Test
    void promptsAskToReverseALowercaseWord() {
        for (TaskPrompt p : task.prompts(Split.TRAIN, 200, 1)) {
            assertTrue(p.text().matches("reverse [a-z]{3,6}="), p.text());
            String word = p.text().substring("reverse ".length(), p.text().length() - 1);
            assertEquals(new StringBuilder(word).reverse().toString(), p.referenceAnswer());
        }
    }

    @Test
    void trainAndHeldOutNeverShareAWordAndAreSeeded() {
        Set<String> train = new HashSet<>();
        task.prompts(Split.TRAIN, 20_000, 5).forEach(p -> train.add(p.referenceAnswer()));
        Set<String> heldOut = new HashSet<>();
        task.prompts(Split.HELD_OUT, 2000, 5).forEach(p -> heldOut.add(p.referenceAnswer()));
        // 3-letter words: 17 576 of them, so 20 000 train draws do hit held-out ones unless excluded
        heldOut.retainAll(train);
        assertEquals(Set.of(), heldOut);
        assertEquals(task.prompts(Split.HELD_OUT, 30, 8), task.prompts(Split.HELD_OUT, 30, 8));
    }

    @Test
    void exactAnswerAndPartialCredit() {
        Scorer exact = task.scorers().get(0), overlap = task.scorers().get(1);
        assertEquals("exact-answer", exact.id());
        assertEquals(1.0, exact.score(prompt, "pots"));
        assertEquals(1.0, exact.score(prompt, " pots\n"));
        assertEquals(0.0, exact.score(prompt, "stop"));
        assertEquals(0.0, exact.score(prompt, ""));
        assertEquals(1.0, overlap.score(prompt, "pots"));
        assertEquals(0.75, overlap.score(prompt, "pot"), 1e-12, "3 of 4 positions");
        assertEquals(0.5, overlap.score(prompt, "potsxyzz"), 1e-12, "4 of 8 positions");
        assertEquals(0.5, overlap.score(prompt, "poxx"), 1e-12, "2 of 4 positions");
        assertEquals(0.0, overlap.score(prompt, "stop"), 1e-12, "no position agrees");
        assertEquals(0.0, overlap.score(prompt, ""), 1e-12);
        assertEquals(0.0, overlap.score(prompt, "   "), 1e-12);
        assertEquals(1.5, task.reward(prompt, "pots"), 1e-12);
    }

    @Test
    void aboutHalfOfDemonstrationsHaveOneWrongLetter() {
        Random rng = new Random(3);
        int wrong = 0, n = 10_000;
        for (TaskPrompt p : task.prompts(Split.TRAIN, n, 3)) {
            String demo = task.demonstration(p, rng);
            assertTrue(demo.matches("[a-z]+"), demo);
            int differing = 0;
            for (int i = 0; i < demo.length(); i++) if (demo.charAt(i) != p.referenceAnswer().charAt(i)) differing++;
            assertTrue(differing <= 1, demo + " vs " + p.referenceAnswer());
            wrong += differing;
        }
        assertEquals(ReverseTask.DEFAULT_DEMO_ERROR_RATE, (double) wrong / n, 0.02);
    }
}
