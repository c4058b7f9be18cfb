package dev.rlkafka.policy.task;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class TasksTest {

    @Test
    void findsBuiltInTasksByName() {
        assertEquals("arithmetic", Tasks.byName("arithmetic").name());
        assertEquals("reverse", Tasks.byName("reverse").name());
        assertEquals("arithmetic", Tasks.byName(Tasks.DEFAULT).name());
    }

    @Test
    void unknownNameListsKnownOnes() {
        var e = assertThrows(IllegalArgumentException.class, () -> Tasks.byName("chess"));
        assertTrue(e.getMessage().contains("'chess'") && e.getMessage().contains("[arithmetic, reverse]"), e.getMessage());
    }

    @Test
    void everyTaskHasDistinctScorerIdsWithFiniteScoresOnJunk() {
        for (String name : Tasks.names()) {
            Task task = Tasks.byName(name);
            assertEquals(task.scorers().size(), task.scorers().stream().map(Scorer::id).distinct().count(), name);
            TaskPrompt p = task.prompts(Split.TRAIN, 1, 0).get(0);
            for (String junk : new String[] {"", " ", "\n\t", "\uFFFD\uFFFD", "9".repeat(500)}) {
                assertTrue(Double.isFinite(task.reward(p, junk)), name + " on '" + junk + "'");
            }
        }
    }
}
