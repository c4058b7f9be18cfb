package dev.rlkafka.cli.observe;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rlkafka.schemas.Topics;
import dev.rlkafka.schemas.avro.Rollout;
import dev.rlkafka.schemas.serde.RlSerdes;
import org.apache.avro.specific.SpecificRecord;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RecordFormatTest {
    private static final Topics RUN = Topics.withPrefix("run-7.");

    @Test
    void shortTopicNamesResolveBehindTheRunsPrefixAndTheNameSaysTheValueType() {
        assertEquals("run-7.rl.rollouts", TopicKind.resolve("rollouts", RUN));
        assertEquals("run-7.rl.scored-groups", TopicKind.resolve("rl.scored-groups", RUN));
        assertEquals("run-7.rl.rewards.rescore-format", TopicKind.resolve("rewards.rescore-format", RUN));
        assertEquals("other.topic", TopicKind.resolve("other.topic", RUN));
        assertEquals(Optional.of(TopicKind.REWARDS), TopicKind.of("run-7.rl.rewards.rescore-format"));
        assertEquals(Optional.of(TopicKind.SCORED_GROUPS), TopicKind.of("run-7.rl.scored-groups"));
        assertEquals(Optional.of(TopicKind.DEAD_LETTERS), TopicKind.of("rl.dead-letters"));
        assertEquals(Optional.empty(), TopicKind.of("orders"));
    }

    @Test
    void aLineSaysWhatTheRecordIsOnOneLine() {
        Rollout rollout = Records.rollout("g-3", 1, 4, "8\n1");
        assertEquals("rollout g-3/1 v4 \"40+41=\" -> \"8\\n1\" EOS 3 tok gen=generator-1", RecordFormat.line(rollout));
        assertEquals("reward g-3/1 exact-answer=1.000", RecordFormat.line(Records.reward("g-3/1", "exact-answer", 1)));
        assertEquals("metric trainer trainer.step step 5 v5 kl=0.00123 reward_mean=1 staleness_0=16",
                RecordFormat.line(Records.stepMetric(5, 5, Map.of("kl", 0.00123, "reward_mean", 1.0, "staleness_0", 16.0))));
        String dead = RecordFormat.line(Records.deadLetter("NON_FINITE_SCORE", "score NaN\nfrom judge"));
        assertEquals("dead-letter NON_FINITE_SCORE from rl.rewards-2@17 by reward-service: score NaN\\nfrom judge", dead);
        String group = RecordFormat.line(Records.scoredGroup(List.of(Records.rollout("g", 0, 2, "81"), Records.rollout("g", 1, 3, "1")),
                List.of(1.1, 0.0), List.of(Map.of(), Map.of())));
        assertEquals("scored-group g arithmetic \"40+41=\" v2,v3 rewards [1.100 0.000]", group);
        assertTrue(RecordFormat.line(Records.weightChunk(9)).startsWith("weights v9 step 9 chunk 1/1 4 of 4 bytes sha256 abababababab"));
    }

    @Test
    void numbersShowFourSignificantDigitsAndCountsAsIntegers() {
        assertEquals("16", RecordFormat.number(16.0));
        assertEquals("0.5", RecordFormat.number(0.5));
        assertEquals("0.1235", RecordFormat.number(0.123456));
        assertEquals("1.000e-07", RecordFormat.number(1e-7));
        assertEquals("NaN", RecordFormat.number(Double.NaN));
    }

    @Test
    void jsonHoldsEveryFieldWithReadableTimesAndBytes() {
        RawRecord raw = new RawRecord("run-7.rl.dead-letters", 0, 12, "reward-service".getBytes(StandardCharsets.UTF_8), null);
        JsonNode node = RecordFormat.parse(RecordFormat.json(raw, Records.deadLetter("GROUP_TIMEOUT", "waited")));
        assertEquals("run-7.rl.dead-letters", node.get("topic").asText());
        assertEquals(12, node.get("offset").asLong());
        assertEquals("reward-service", node.get("key").asText());
        assertEquals("DeadLetter", node.get("type").asText());
        JsonNode value = node.get("value");
        assertEquals("GROUP_TIMEOUT", value.get("errorType").asText());
        assertEquals(3, value.get("originalBytes").get("length").asInt());
        assertEquals("AAEC", value.get("originalBytes").get("base64").asText());
        assertTrue(value.get("sourceKey").isNull());
        assertEquals(Records.AT.toString(), value.get("timestampMs").asText());

        JsonNode rollout = RecordFormat.parse(RecordFormat.json(raw, Records.rollout("g", 0, 1, "81"))).get("value");
        assertEquals("EOS", rollout.get("finishReason").asText());
        assertEquals(1.0, rollout.get("sampling").get("temperature").asDouble());
        assertEquals(3, rollout.get("completionTokenIds").size());
    }

    @Test
    void tailPrintsAnUndecodableRecordAsOneErrorLineAndGoesOn() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        Tail tail = new Tail(TopicKind.REWARDS, new RecordFilter(null, null, "format"), false, new PrintStream(bytes, true, StandardCharsets.UTF_8));
        String topic = "run-7.rl.rewards";
        assertTrue(tail.accept(new RawRecord(topic, 1, 40, null, new byte[]{1, 2, 3})));
        assertFalse(tail.accept(raw(topic, 41, Records.reward("g/0", "exact-answer", 1))), "filtered out: another scorer");
        assertTrue(tail.accept(raw(topic, 42, Records.reward("g/0", "format", 1))));
        String[] lines = bytes.toString(StandardCharsets.UTF_8).split("\n");
        assertEquals(2, lines.length);
        assertTrue(lines[0].startsWith("! cannot decode Reward from run-7.rl.rewards-1@40"), lines[0]);
        assertTrue(lines[0].contains("NOT_SINGLE_OBJECT"), lines[0]);
        assertEquals("run-7.rl.rewards-1@42  reward g/0 format=1.000", lines[1]);
    }

    @Test
    void filtersMatchWhereTheRecordCarriesTheValueAndAreRefusedWhereNoneDoes() {
        var group = Records.scoredGroup(List.of(Records.rollout("g", 0, 2, "81"), Records.rollout("g", 1, 3, "1")),
                List.of(1.0, 0.0), List.of(Map.of("judge", 1.0), Map.of()));
        assertTrue(new RecordFilter("g", 3L, "judge").matches(group));
        assertFalse(new RecordFilter(null, 4L, null).matches(group));
        assertFalse(new RecordFilter(null, null, "format").matches(group));
        assertTrue(new RecordFilter(null, 7L, null).matches(Records.weightChunk(7)));
        var e = assertThrows(IllegalArgumentException.class, () -> new RecordFilter(null, null, "judge").checkAppliesTo(TopicKind.METRICS));
        assertTrue(e.getMessage().startsWith("--scorer applies to"), e.getMessage());
    }

    private static RawRecord raw(String topic, long offset, SpecificRecord value) {
        @SuppressWarnings("unchecked")
        var serde = (dev.rlkafka.schemas.serde.AvroSerde<SpecificRecord>) RlSerdes.of(value.getClass());
        return new RawRecord(topic, 1, offset, null, serde.codec().encode(topic, value));
    }
}
