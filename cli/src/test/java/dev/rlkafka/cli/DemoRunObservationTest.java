package dev.rlkafka.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rlkafka.cli.observe.RecordFormat;
import dev.rlkafka.cli.observe.ReplayReport;
import dev.rlkafka.cli.observe.RescoreReport;
import dev.rlkafka.cli.observe.TopicReader;
import dev.rlkafka.kafka.EmbeddedKafkaBroker;
import dev.rlkafka.policy.model.ModelConfig;
import dev.rlkafka.policy.tokenizer.ByteTokenizer;
import dev.rlkafka.schemas.KafkaClientConfig;
import dev.rlkafka.schemas.Topics;
import dev.rlkafka.schemas.avro.Reward;
import dev.rlkafka.schemas.avro.Rollout;
import dev.rlkafka.schemas.avro.ScoredGroup;
import dev.rlkafka.schemas.serde.RlSerdes;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A small {@code rlkafka demo} on its own embedded broker, read back after the demo has ended: replay on the
 * run's kept broker data reproduces the trainer's live numbers; rescore and tail read the same run.
 */
class DemoRunObservationTest {
    private static final int RL_STEPS = 4;
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path runsDir;
    private static String runId;
    private static Path runDir;
    private static Topics topics;
    /** `replay --run ID` without --bootstrap, right after the demo: it starts a broker on runs/ID/kafka. */
    private static CommandRun embeddedReplay;
    private static String embeddedReplayJson;
    private static String embeddedStepsCsv;
    /** The run's broker data again, for the commands given --bootstrap. */
    private static EmbeddedKafkaBroker broker;

    @BeforeAll
    static void runADemoThenReplayItOnItsOwnBrokerData() throws IOException {
        CommandRun demo = CommandRun.execute("demo", "--runs-dir", runsDir.toString(), "--sft-steps", "30",
                "--rl-steps", "" + RL_STEPS, "--batch-groups", "2", "--group-size", "4", "--eval-prompts", "16",
                "--width", "32", "--layers", "1", "--heads", "2", "--context", "16");
        assertEquals(0, demo.exitCode(), demo.toString());
        try (Stream<Path> runs = Files.list(runsDir)) {
            runDir = runs.findFirst().orElseThrow();
        }
        runId = runDir.getFileName().toString();
        topics = RunCluster.topics(runId);
        assertTrue(demo.out().contains("replay it: ./rlkafka replay --run " + runId), demo.out());

        embeddedReplay = CommandRun.execute("replay", "--run", runId, "--runs-dir", runsDir.toString());
        embeddedReplayJson = Files.readString(runDir.resolve(ReplayReport.JSON_FILE));
        embeddedStepsCsv = Files.readString(runDir.resolve(ReplayReport.STEPS_CSV));
        broker = EmbeddedKafkaBroker.start(runDir.resolve(RunCluster.BROKER_DIR), 0, false);
    }

    @AfterAll
    static void stopBroker() {
        if (broker != null) broker.close();
    }

    @Test
    void replayAfterTheDemoReproducesTheMetricsTheTrainerReportedLive() throws IOException {
        assertEquals(0, embeddedReplay.exitCode(), embeddedReplay.toString());
        assertTrue(embeddedReplay.out().contains("starting an embedded Kafka broker on " + runDir.resolve("kafka")), embeddedReplay.out());

        // metrics.csv is what the demo wrote from the trainer's live step results (rounded to 5-6 decimals)
        List<Map<String, String>> live = csv(Files.readString(runDir.resolve("metrics.csv")));
        List<Map<String, String>> replayed = csv(embeddedStepsCsv);
        assertEquals(RL_STEPS, live.size());
        assertEquals(live.stream().map(r -> r.get("step")).toList(), replayed.stream().map(r -> r.get("step")).toList());
        for (int i = 0; i < live.size(); i++) {
            Map<String, String> l = live.get(i), r = replayed.get(i);
            String step = "step " + l.get("step") + " ";
            assertEquals(l.get("policy_version"), r.get("policy_version"), step + "version");
            assertEquals(Double.parseDouble(l.get("groups")), Double.parseDouble(r.get("groups")), 0, step + "groups");
            assertEquals(Double.parseDouble(l.get("dropped_stale")), Double.parseDouble(r.get("dropped_stale")), 0, step + "dropped");
            for (String name : List.of("reward_mean", "accuracy", "clip_fraction")) {
                assertEquals(number(l.get(name)), number(r.get(name)), 6e-6, step + name);
            }
            for (String name : List.of("kl", "loss")) {
                assertEquals(number(l.get(name)), number(r.get(name)), 6e-7, step + name);
            }
            assertEquals(l.get("staleness"), r.get("staleness"), step + "staleness histogram");
        }
    }

    @Test
    void aSecondBrokerIsNotStartedOnDataARunningBrokerHolds() {
        CommandRun run = CommandRun.execute("replay", "--run", runId, "--runs-dir", runsDir.toString());
        assertEquals(2, run.exitCode(), run.toString());
        assertTrue(run.err().contains("is in use by a running broker"), run.err());
    }

    @Test
    void replayedVersionRewardsEqualWhatTheScoredGroupsSay() throws IOException {
        Map<Long, double[]> sums = new TreeMap<>();   // version -> {reward sum, rollouts, exact-answer >= 1, with exact-answer}
        for (ScoredGroup g : read(topics.scoredGroups(), ScoredGroup.class).values()) {
            for (int i = 0; i < g.getRollouts().size(); i++) {
                double[] s = sums.computeIfAbsent(g.getRollouts().get(i).getPolicyVersion(), v -> new double[4]);
                s[0] += g.getRewards().get(i);
                s[1]++;
                Double exact = g.getScores().get(i).get("exact-answer");
                if (exact != null) {
                    s[2] += exact >= 1 ? 1 : 0;
                    s[3]++;
                }
            }
        }
        JsonNode versions = JSON.readTree(embeddedReplayJson).get("versions");
        Map<Long, JsonNode> byVersion = new TreeMap<>();
        versions.forEach(v -> byVersion.put(v.get("policyVersion").asLong(), v));
        assertTrue(sums.size() >= 2, "the demo's rollouts come from more than one policy version: " + sums.keySet());
        assertEquals(sums.keySet(), byVersion.keySet());
        sums.forEach((version, s) -> {
            JsonNode v = byVersion.get(version);
            assertEquals(s[0] / s[1], v.get("rewardMean").asDouble(), 1e-9, "reward mean of version " + version);
            assertEquals(s[2] / s[3], v.get("accuracy").asDouble(), 1e-9, "accuracy of version " + version);
            assertEquals((long) s[1], v.get("scoredRollouts").asLong());
        });
    }

    @Test
    void replayThroughBootstrapTellsTheSameStoryAsOnTheRunsOwnBroker() throws IOException {
        CommandRun run = CommandRun.execute("replay", "--run", runId, "--runs-dir", runsDir.toString(), "-b", broker.bootstrapServers());
        assertEquals(0, run.exitCode(), run.toString());
        ObjectNode viaBootstrap = (ObjectNode) JSON.readTree(Files.readString(runDir.resolve(ReplayReport.JSON_FILE)));
        ObjectNode embedded = (ObjectNode) JSON.readTree(embeddedReplayJson);
        viaBootstrap.remove("source");
        embedded.remove("source");
        assertEquals(embedded, viaBootstrap);
        assertTrue(embedded.get("totals").get("rollouts").asLong() > 0);
    }

    @Test
    void rescoringWithTheRunsOwnScorerAgreesOnEveryRolloutAndCoPartitionsWithTheRollouts() throws IOException {
        CommandRun run = CommandRun.execute("rescore", "--run", runId, "--runs-dir", runsDir.toString(), "-b", broker.bootstrapServers(),
                "--scorer", "exact-answer");
        assertEquals(0, run.exitCode(), run.toString());
        Map<String, Rollout> rollouts = read(topics.rollouts(), Rollout.class);
        JsonNode report = JSON.readTree(runDir.resolve(RescoreReport.fileName("exact-answer")).toFile());
        assertEquals(rollouts.size(), report.get("scored").asLong());
        JsonNode exact = agreement(report, "exact-answer");
        assertEquals(rollouts.size(), exact.get("count").asLong(), "the reward-service scored every rollout");
        assertEquals(0, exact.get("disagreements").asLong());
        assertEquals(0.0, exact.get("meanAbsDiff").asDouble());

        String out = topics.rewards() + ".rescore-exact-answer";
        Map<String, Integer> rolloutPartitions = partitions(topics.rollouts(), Rollout.class, Rollout::getRolloutId);
        Map<String, Integer> rewardPartitions = partitions(out, Reward.class, Reward::getRolloutId);
        assertEquals(rolloutPartitions, rewardPartitions, "one new reward per rollout, in its rollout's partition");

        CommandRun again = CommandRun.execute("rescore", "--run", runId, "--runs-dir", runsDir.toString(), "-b", broker.bootstrapServers(),
                "--scorer", "exact-answer");
        assertEquals(2, again.exitCode(), again.toString());
        assertTrue(again.err().contains("already holds " + rollouts.size() + " records"), again.err());
    }

    @Test
    void tailShowsTheRunsRecordsDecodedAsLinesOrJsonAndFiltersThem() {
        CommandRun lines = CommandRun.execute("tail", "rollouts", "--run", runId, "--runs-dir", runsDir.toString(),
                "-b", broker.bootstrapServers(), "--from-beginning", "-n", "5");
        assertEquals(0, lines.exitCode(), lines.toString());
        assertEquals(5, lines.outLines().size(), lines.toString());
        lines.outLines().forEach(l -> assertTrue(l.matches(topics.rollouts().replace(".", "\\.") + "-\\d+@\\d+  rollout .*"), l));

        CommandRun json = CommandRun.execute("tail", "metrics", "--run", runId, "-b", broker.bootstrapServers(),
                "--from-beginning", "--json", "--version", "1", "-n", "1");
        assertEquals(0, json.exitCode(), json.toString());
        JsonNode metric = RecordFormat.parse(json.outLines().get(0));
        assertEquals("Metric", metric.get("type").asText());
        assertEquals(1, metric.get("value").get("policyVersion").asLong());

        CommandRun wrongFilter = CommandRun.execute("tail", "metrics", "--run", runId, "-b", broker.bootstrapServers(), "--scorer", "format");
        assertEquals(2, wrongFilter.exitCode());
        assertTrue(wrongFilter.err().contains("--scorer applies to"), wrongFilter.err());
    }

    @Test
    void theDemoKeepsOnlyTheNewestPolicyVersionsOfItsWeightsTopic() throws Exception {
        ConfigResource weights = new ConfigResource(ConfigResource.Type.TOPIC, topics.policyWeights());
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()))) {
            Config config = admin.describeConfigs(List.of(weights)).all().get().get(weights);
            long retention = Long.parseLong(config.get(TopicConfig.RETENTION_BYTES_CONFIG).value());
            long segment = Long.parseLong(config.get(TopicConfig.SEGMENT_BYTES_CONFIG).value());
            long maxMessage = Long.parseLong(config.get(TopicConfig.MAX_MESSAGE_BYTES_CONFIG).value());
            assertEquals(WeightsRetention.retentionBytes(new ModelConfig(ByteTokenizer.VOCAB_SIZE, 16, 32, 1, 2)), retention);
            assertTrue(segment >= maxMessage, "a segment must hold the largest record batch: " + segment + " < " + maxMessage);
        }
    }

    private static JsonNode agreement(JsonNode report, String oldScorer) {
        for (JsonNode a : report.get("agreement")) if (a.get("oldScorer").asText().equals(oldScorer)) return a;
        throw new AssertionError("no agreement with " + oldScorer + " in " + report);
    }

    /** Every record of {@code topic} by its id, through the project's serdes. */
    private static <T extends org.apache.avro.specific.SpecificRecord> Map<String, T> read(String topic, Class<T> type) {
        Map<String, T> out = new LinkedHashMap<>();
        try (TopicReader reader = new TopicReader(broker.bootstrapServers(), KafkaClientConfig.NONE)) {
            reader.readToEnd(List.of(topic), Duration.ofSeconds(60), raw -> {
                T value = RlSerdes.of(type).codec().decode(raw.topic(), raw.partition(), raw.offset(), raw.value());
                out.put(raw.where(), value);
            });
        }
        return out;
    }

    private static <T extends org.apache.avro.specific.SpecificRecord> Map<String, Integer> partitions(
            String topic, Class<T> type, java.util.function.Function<T, String> id) {
        Map<String, Integer> out = new HashMap<>();
        try (TopicReader reader = new TopicReader(broker.bootstrapServers(), KafkaClientConfig.NONE)) {
            reader.readToEnd(List.of(topic), Duration.ofSeconds(60), raw -> out.put(
                    id.apply(RlSerdes.of(type).codec().decode(raw.topic(), raw.partition(), raw.offset(), raw.value())), raw.partition()));
        }
        return out;
    }

    private static List<Map<String, String>> csv(String text) {
        String[] lines = text.split("\n");
        String[] header = lines[0].split(",", -1);
        List<Map<String, String>> rows = new ArrayList<>();
        for (int i = 1; i < lines.length; i++) {
            String[] cells = lines[i].split(",", -1);
            Map<String, String> row = new LinkedHashMap<>();
            for (int c = 0; c < header.length; c++) row.put(header[c], cells[c]);
            rows.add(row);
        }
        return rows;
    }

    /** A CSV number; empty (not reported) and NaN both mean "none". */
    private static double number(String cell) {
        return cell.isEmpty() ? Double.NaN : Double.parseDouble(cell);
    }
}
