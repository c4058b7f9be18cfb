package dev.rlkafka.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.rlkafka.cli.observe.Records;
import dev.rlkafka.cli.observe.ReplayReport;
import dev.rlkafka.cli.observe.RescoreReport;
import dev.rlkafka.kafka.KafkaExtension;
import dev.rlkafka.kafka.TestKafka;
import dev.rlkafka.schemas.TopicAdmin;
import dev.rlkafka.schemas.Topics;
import dev.rlkafka.schemas.avro.Rollout;
import dev.rlkafka.schemas.serde.AvroSerde;
import dev.rlkafka.schemas.serde.RlSerdes;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Two runs on one cluster, told apart by their topic prefix only: replay, tail and rescore of one never see the
 * other's records. The run ids are chosen so that one prefix starts with the other ({@code run-7.} and
 * {@code run-7.1.}): a reader matching names by prefix would mix them.
 */
@ExtendWith(KafkaExtension.class)
class RunIsolationTest {
    private static final String A = "7", B = "7.1";
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path runsDir;
    private static String bootstrap;

    /** Run A: two groups of versions 0 and 1 scored by the built-in scorers, and one undecodable rollout record. */
    @BeforeAll
    static void writeTwoRunsToOneCluster(TestKafka kafka) {
        bootstrap = kafka.bootstrapServers();
        Topics a = RunCluster.topics(A), b = RunCluster.topics(B);
        TopicAdmin.ensureTopics(bootstrap, a, 2, (short) 1);
        TopicAdmin.ensureTopics(bootstrap, b, 2, (short) 1);
        try (var producer = new KafkaProducer<>(Map.<String, Object>of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ProducerConfig.ACKS_CONFIG, "all"), new StringSerializer(), new ByteArraySerializer())) {
            // reference 81: right, right plus a stray digit, wrong, right after a space
            List<Rollout> a1 = List.of(Records.rollout("a1", 0, 0, "81"), Records.rollout("a1", 1, 0, "817"));
            List<Rollout> a2 = List.of(Records.rollout("a2", 0, 1, "18"), Records.rollout("a2", 1, 1, " 81"));
            List<Double> exact = List.of(1.0, 0.0, 0.0, 1.0), format = List.of(1.0, 1.0, 1.0, 0.0);
            List<Rollout> all = new ArrayList<>(a1);
            all.addAll(a2);
            for (int i = 0; i < all.size(); i++) {
                Rollout r = all.get(i);
                send(producer, a.rollouts(), r.getGroupId(), r);
                send(producer, a.rewards(), r.getGroupId(), Records.reward(r.getRolloutId(), "exact-answer", exact.get(i)));
                send(producer, a.rewards(), r.getGroupId(), Records.reward(r.getRolloutId(), "format", format.get(i)));
            }
            send(producer, a.scoredGroups(), "a1", Records.scoredGroup(a1, List.of(1.1, 0.1),
                    List.of(Map.of("exact-answer", 1.0, "format", 1.0), Map.of("exact-answer", 0.0, "format", 1.0))));
            send(producer, a.scoredGroups(), "a2", Records.scoredGroup(a2, List.of(0.1, 1.0),
                    List.of(Map.of("exact-answer", 0.0, "format", 1.0), Map.of("exact-answer", 1.0, "format", 0.0))));
            send(producer, a.metrics(), "trainer", Records.stepMetric(1, 1, Map.of("reward_mean", 0.6, "staleness_0", 2.0)));
            send(producer, a.deadLetters(), "reward-service", Records.deadLetter("GROUP_TIMEOUT", "group a3 waited 60 s"));
            producer.send(new ProducerRecord<>(a.rollouts(), "a9", new byte[]{1, 2, 3}));

            List<Rollout> b1 = List.of(Records.rollout("b1", 0, 5, "5"), Records.rollout("b1", 1, 5, "81"), Records.rollout("b1", 2, 5, "6"));
            for (Rollout r : b1) {
                send(producer, b.rollouts(), "b1", r);
                send(producer, b.rewards(), "b1", Records.reward(r.getRolloutId(), "b-judge", 0.5));
            }
            send(producer, b.scoredGroups(), "b1", Records.scoredGroup(b1, List.of(0.5, 0.5, 0.5),
                    List.of(Map.of("b-judge", 0.5), Map.of("b-judge", 0.5), Map.of("b-judge", 0.5))));
            send(producer, b.metrics(), "trainer", Records.stepMetric(1, 1, Map.of("reward_mean", 0.9, "staleness_0", 1.0)));
            send(producer, b.deadLetters(), "reward-service", Records.deadLetter("NON_FINITE_SCORE", "score NaN"));
            producer.flush();
        }
    }

    @Test
    void replayOfEachRunSeesOnlyItsOwnRecords() throws IOException {
        JsonNode a = replay(A), b = replay(B);

        assertEquals(4, a.get("totals").get("rollouts").asLong());
        assertEquals(1, a.get("totals").get("undecodable").asLong());
        assertEquals(Set.of(0L, 1L), longs(a.get("versions"), "policyVersion"));
        assertEquals(Set.of("exact-answer", "format"), texts(a.get("scorers"), "scorerId"));
        assertEquals(Set.of("GROUP_TIMEOUT"), texts(a.get("deadLetters"), "errorType"));
        assertEquals(0.6, a.get("steps").get(0).get("values").get("reward_mean").asDouble());
        assertEquals(0.6, a.get("versions").get(0).get("rewardMean").asDouble(), 1e-12, "(1.1 + 0.1) / 2");

        assertEquals(3, b.get("totals").get("rollouts").asLong());
        assertEquals(0, b.get("totals").get("undecodable").asLong());
        assertEquals(Set.of(5L), longs(b.get("versions"), "policyVersion"));
        assertEquals(Set.of("b-judge"), texts(b.get("scorers"), "scorerId"));
        assertEquals(Set.of("NON_FINITE_SCORE"), texts(b.get("deadLetters"), "errorType"));
        assertEquals(0.9, b.get("steps").get(0).get("values").get("reward_mean").asDouble());
        assertEquals(List.of(1L), List.of(b.get("staleness").get("trainedGroupsByStaleness").get(0).asLong()));
    }

    @Test
    void tailOfOneRunShowsOnlyItsRecordsAndAnUndecodableOneAsAnErrorLine() {
        CommandRun tail = CommandRun.execute("tail", "rollouts", "--run", A, "-b", bootstrap, "--from-beginning", "-n", "5");
        assertEquals(0, tail.exitCode(), tail.toString());
        List<String> lines = tail.outLines();
        assertEquals(5, lines.size(), tail.toString());
        assertEquals(4, lines.stream().filter(l -> l.contains(" rollout a")).count(), tail.toString());
        String error = lines.stream().filter(l -> l.startsWith("!")).findFirst().orElseThrow();
        assertTrue(error.matches("! cannot decode Rollout from run-7\\.rl\\.rollouts-\\d@\\d+ .*NOT_SINGLE_OBJECT.*"), error);
        assertFalse(tail.out().contains("b1/"), "no record of run " + B);

        CommandRun other = CommandRun.execute("tail", "rewards", "--run", B, "-b", bootstrap, "--from-beginning", "-n", "3",
                "--scorer", "b-judge", "--group", "b1");
        assertEquals(3, other.outLines().size(), other.toString());
        other.outLines().forEach(l -> assertTrue(l.startsWith("run-7.1.rl.rewards-") && l.contains("b-judge=0.500"), l));
    }

    @Test
    void rescoreOfOneRunReadsOnlyItsRolloutsAndFindsWhereALenientJudgeDisagrees() throws IOException {
        CommandRun run = CommandRun.execute("rescore", "--run", A, "-b", bootstrap, "--runs-dir", runsDir.toString(),
                "--scorer", "answer-prefix");
        assertEquals(0, run.exitCode(), run.toString());
        JsonNode report = JSON.readTree(runsDir.resolve(A).resolve(RescoreReport.fileName("answer-prefix")).toFile());
        assertEquals(4, report.get("rollouts").asLong(), "run " + B + "'s rollouts are not read");
        assertEquals("run-7.rl.rewards.rescore-answer-prefix", report.get("outTopic").asText());
        JsonNode exact = null;
        for (JsonNode agreement : report.get("agreement")) if (agreement.get("oldScorer").asText().equals("exact-answer")) exact = agreement;
        assertEquals(4, exact.get("count").asLong());
        assertEquals(1, exact.get("disagreements").asLong(), "only 817: starts with the answer but is not it");
        assertEquals("a1/1", exact.get("examples").get(0).get("rolloutId").asText());
        assertEquals("817", exact.get("examples").get(0).get("completion").asText());
        assertTrue(run.out().contains("vs exact-answer: 4 rollouts scored by both"), run.out());

        CommandRun tail = CommandRun.execute("tail", "rewards.rescore-answer-prefix", "--run", A, "-b", bootstrap,
                "--from-beginning", "-n", "4", "--scorer", "answer-prefix");
        assertEquals(4, tail.outLines().size(), tail.toString());
    }

    private static JsonNode replay(String run) throws IOException {
        CommandRun replay = CommandRun.execute("replay", "--run", run, "-b", bootstrap, "--runs-dir", runsDir.toString());
        assertEquals(0, replay.exitCode(), replay.toString());
        return JSON.readTree(runsDir.resolve(run).resolve(ReplayReport.JSON_FILE).toFile());
    }

    private static Set<Long> longs(JsonNode array, String field) {
        Set<Long> out = new TreeSet<>();
        array.forEach(n -> out.add(n.get(field).asLong()));
        return out;
    }

    private static Set<String> texts(JsonNode array, String field) {
        Set<String> out = new TreeSet<>();
        array.forEach(n -> out.add(n.get(field).asText()));
        return out;
    }

    @SuppressWarnings("unchecked")
    private static void send(KafkaProducer<String, byte[]> producer, String topic, String key, SpecificRecord value) {
        AvroSerde<SpecificRecord> serde = (AvroSerde<SpecificRecord>) RlSerdes.of(value.getClass());
        producer.send(new ProducerRecord<>(topic, key, serde.codec().encode(topic, value)));
    }
}
