package dev.rlkafka.schemas;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TopicsTest {

    @Test
    void aPrefixIsPutInFrontOfEveryDefaultName() {
        Topics topics = Topics.withPrefix("run42.");
        assertEquals("run42.rl.rollouts", topics.rollouts());
        assertEquals(List.of("run42.rl.prompts", "run42.rl.rollouts", "run42.rl.rewards", "run42.rl.scored-groups",
                "run42.rl.policy-weights", "run42.rl.metrics", "run42.rl.dead-letters"), topics.all());
    }

    @Test
    void theEmptyPrefixGivesTheDefaultNames() {
        assertEquals(Topics.DEFAULT, Topics.withPrefix(""));
        assertEquals(List.of(Topics.PROMPTS, Topics.ROLLOUTS, Topics.REWARDS, Topics.SCORED_GROUPS,
                Topics.POLICY_WEIGHTS, Topics.METRICS, Topics.DEAD_LETTERS), Topics.DEFAULT.all());
    }

    @Test
    void aPrefixWithCharactersKafkaRejectsIsNamedInTheError() {
        var e = assertThrows(IllegalArgumentException.class, () -> Topics.withPrefix("run 42/"));
        assertTrue(e.getMessage().contains("'run 42/'"), e.getMessage());
        var tooLong = assertThrows(IllegalArgumentException.class, () -> Topics.withPrefix("x".repeat(240)));
        assertTrue(tooLong.getMessage().contains("249"), tooLong.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Topics.withPrefix(null));
    }

    @Test
    void theGroupTopicsShareOnePartitionCount() {
        Map<String, TopicSpec> specs = byName(TopicSpec.forRun(Topics.DEFAULT, 6));
        for (String name : Topics.DEFAULT.coPartitioned()) {
            assertEquals(6, specs.get(name).partitions(), name);
        }
    }

    @Test
    void policyWeightsFitAWholeChunkAndKeepEveryVersion() {
        TopicSpec weights = byName(TopicSpec.forRun(Topics.DEFAULT, 3)).get(Topics.POLICY_WEIGHTS);
        // the chunk's bytes plus the record's other fields and batch overhead
        assertTrue(weights.maxMessageBytes() > TopicSpec.WEIGHT_CHUNK_BYTES + 64 * 1024, "" + weights);
        assertEquals(-1, weights.retentionMs());
        assertEquals("delete", weights.cleanupPolicy(), "chunks of one version share a key; compaction would drop them");
    }

    @Test
    void deadLettersFitTheLargestRecordOfAnyOtherTopic() {
        List<TopicSpec> specs = TopicSpec.forRun(Topics.DEFAULT, 3);
        TopicSpec deadLetters = byName(specs).get(Topics.DEAD_LETTERS);
        int largestOther = specs.stream().filter(s -> s != deadLetters).mapToInt(TopicSpec::maxMessageBytes).max().orElseThrow();
        assertTrue(deadLetters.maxMessageBytes() > largestOther);
        assertEquals("delete", deadLetters.cleanupPolicy());
        assertEquals("delete", byName(specs).get(Topics.METRICS).cleanupPolicy());
    }

    @Test
    void aSpecRejectsBadValuesNamingTheTopic() {
        var e = assertThrows(IllegalArgumentException.class, () -> new TopicSpec("rl.x", 0, "delete", -1, 1 << 20));
        assertTrue(e.getMessage().contains("rl.x") && e.getMessage().contains("0"), e.getMessage());
        var policy = assertThrows(IllegalArgumentException.class, () -> new TopicSpec("rl.x", 1, "keep", -1, 1 << 20));
        assertTrue(policy.getMessage().contains("'keep'"), policy.getMessage());
        assertThrows(IllegalArgumentException.class, () -> TopicSpec.forRun(Topics.DEFAULT, 0));
    }

    private static Map<String, TopicSpec> byName(List<TopicSpec> specs) {
        return specs.stream().collect(Collectors.toMap(TopicSpec::name, Function.identity()));
    }
}
