package dev.rlkafka.reward;

import dev.rlkafka.schemas.DeadLetters;
import dev.rlkafka.schemas.Topics;
import dev.rlkafka.schemas.avro.DeadLetter;
import dev.rlkafka.schemas.avro.Metric;
import dev.rlkafka.schemas.avro.Reward;
import dev.rlkafka.schemas.avro.Rollout;
import dev.rlkafka.schemas.avro.ScoredGroup;
import dev.rlkafka.schemas.serde.RlSerdes;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static dev.rlkafka.reward.Fixtures.reward;
import static dev.rlkafka.reward.Fixtures.rollout;
import static dev.rlkafka.reward.Fixtures.rolloutId;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link RewardTopology#build} under {@link TopologyTestDriver}; wall-clock time is the driver's mock clock. */
class RewardTopologyTest {
    private static final Topics TOPICS = Topics.withPrefix("t.");
    private static final Duration GRACE = Duration.ofSeconds(2);
    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    @TempDir
    Path stateDir;

    private TopologyTestDriver driver;
    private TestInputTopic<String, byte[]> rollouts;
    private TestInputTopic<String, byte[]> rewards;
    private TestOutputTopic<String, ScoredGroup> scoredGroups;
    private TestOutputTopic<String, DeadLetter> deadLetters;
    private TestOutputTopic<String, Reward> rewardsOut;
    private TestOutputTopic<String, Metric> metrics;

    /** Arithmetic's built-in scorers, required with their own weights (exact-answer 1.0, format 0.1). */
    private RewardConfig config() {
        return RewardConfig.defaults("unused:9092").withTopics(TOPICS).withStateDir(stateDir)
                .withGroupTimeout(TIMEOUT).withOptionalGrace(GRACE)
                .withIntervals(Duration.ofMillis(100), Duration.ofSeconds(30));
    }

    private RewardConfig withExtraScorer(boolean required) {
        Map<String, Double> req = new LinkedHashMap<>(RewardConfig.builtInWeights("arithmetic"));
        Map<String, Double> opt = new LinkedHashMap<>();
        (required ? req : opt).put("judge", 0.5);
        return config().withScorers(req, opt);
    }

    private void start(RewardConfig config) {
        driver = new TopologyTestDriver(RewardTopology.build(config), RewardService.streamsProperties(config),
                Instant.ofEpochMilli(1_000_000));
        var strings = Serdes.String();
        var raw = Serdes.ByteArray();
        rollouts = driver.createInputTopic(TOPICS.rollouts(), strings.serializer(), raw.serializer());
        rewards = driver.createInputTopic(TOPICS.rewards(), strings.serializer(), raw.serializer());
        scoredGroups = driver.createOutputTopic(TOPICS.scoredGroups(), strings.deserializer(), RlSerdes.scoredGroup().deserializer());
        deadLetters = driver.createOutputTopic(TOPICS.deadLetters(), strings.deserializer(), RlSerdes.deadLetter().deserializer());
        rewardsOut = driver.createOutputTopic(TOPICS.rewards(), strings.deserializer(), RlSerdes.reward().deserializer());
        metrics = driver.createOutputTopic(TOPICS.metrics(), strings.deserializer(), RlSerdes.metric().deserializer());
    }

    @AfterEach
    void close() {
        if (driver != null) driver.close();
    }

    private static byte[] bytes(Rollout r) {
        return RlSerdes.rollout().serializer().serialize(TOPICS.rollouts(), r);
    }

    private static byte[] bytes(Reward r) {
        return RlSerdes.reward().serializer().serialize(TOPICS.rewards(), r);
    }

    /** Pipes a group of rollouts with these completions of "12+30=". */
    private void group(String groupId, String... completions) {
        for (int i = 0; i < completions.length; i++) {
            rollouts.pipeInput(groupId, bytes(rollout(groupId, i, completions.length, completions[i])));
        }
    }

    private void judge(String groupId, double... scores) {
        for (int i = 0; i < scores.length; i++) {
            rewards.pipeInput(groupId, bytes(reward(groupId, rolloutId(groupId, i), "judge", scores[i])));
        }
    }

    private void tick(Duration by) {
        // several small steps: the punctuator fires at most once per advance
        for (long t = 0; t < by.toMillis(); t += 100) driver.advanceWallClockTime(Duration.ofMillis(100));
    }

    private DeadLetter onlyDeadLetter(String errorType) {
        List<DeadLetter> letters = deadLetters.readValuesToList();
        assertEquals(List.of(errorType), letters.stream().map(DeadLetter::getErrorType).toList(),
                "dead letters: " + letters.stream().map(DeadLetter::getReason).toList());
        return letters.get(0);
    }

    private static byte[] array(ByteBuffer buffer) {
        byte[] out = new byte[buffer.remaining()];
        buffer.duplicate().get(out);
        return out;
    }

    /** The next good group still goes through after a rejection. */
    private void assertServiceStillScores(String groupId) {
        group(groupId, "42", "7");
        var scored = scoredGroups.readKeyValuesToList();
        assertEquals(List.of(groupId), scored.stream().map(kv -> kv.key).toList());
        assertEquals(List.of(1.1, 0.1), scored.get(0).value.getRewards());
    }

    @Test
    void builtInScorersScoreAGroupAndItIsEmittedWithWeightedRewardsAndAdvantages() {
        start(config());
        group("g1", "42", "41", " 42", "x");

        // the built-in scores are on the audited rewards topic like any external scorer's
        List<Reward> written = rewardsOut.readValuesToList();
        assertEquals(8, written.size(), "2 built-in scorers x 4 rollouts");
        assertEquals("built-in", written.get(0).getMetadata().get("source"));

        var out = scoredGroups.readKeyValuesToList();
        assertEquals(1, out.size());
        assertEquals("g1", out.get(0).key);
        ScoredGroup g = out.get(0).value;
        // exact-answer·1.0 + format·0.1: "42" 1.1, "41" 0.1, " 42" (stripped answer right, format wrong) 1.0, "x" 0
        assertEquals(List.of(1.1, 0.1, 1.0, 0.0), g.getRewards());
        // mean 0.55; deviations .55 -.45 .45 -.55; population std = sqrt((.3025+.2025+.2025+.3025)/4) = 0.502494
        double std = Math.sqrt(1.01 / 4);
        double[] expected = {0.55 / std, -0.45 / std, 0.45 / std, -0.55 / std};
        for (int i = 0; i < 4; i++) assertEquals(expected[i], g.getAdvantages().get(i), 1e-5, "advantage " + i);
        assertEquals(List.of(0, 1, 2, 3), g.getRollouts().stream().map(Rollout::getIndex).toList());
        assertEquals(Map.of("exact-answer", 1.0, "format", 0.0), g.getScores().get(2));
        assertEquals(List.of(), g.getMissingScorers());
        assertTrue(deadLetters.isEmpty());
    }

    @Test
    void groupWaitsForEveryRequiredScorer() {
        start(withExtraScorer(true));
        group("g1", "42", "41");
        assertTrue(scoredGroups.isEmpty(), "judge has not scored yet");
        judge("g1", 1.0);
        assertTrue(scoredGroups.isEmpty(), "judge has scored one of two rollouts");
        judge("g1", 1.0, 0.0);  // the repeat for g1/0 is a duplicate
        ScoredGroup g = scoredGroups.readValue();
        assertEquals(1.6, g.getRewards().get(0), 1e-12);
        assertEquals(0.1, g.getRewards().get(1), 1e-12);
        onlyDeadLetter(GroupAssembly.DUPLICATE_REWARD);
    }

    @Test
    void optionalScorerMissingIsEmittedAfterGraceWithMissingScorers() {
        start(withExtraScorer(false));
        group("g1", "42", "41");
        assertTrue(scoredGroups.isEmpty(), "waiting for the optional judge");
        tick(GRACE.minusMillis(200));
        assertTrue(scoredGroups.isEmpty(), "grace not over");
        tick(Duration.ofMillis(300));
        ScoredGroup g = scoredGroups.readValue();
        assertEquals(List.of("judge"), g.getMissingScorers());
        assertEquals(List.of(1.1, 0.1), g.getRewards());
    }

    @Test
    void optionalScorerThatAnswersInTimeIsWeightedWithoutWaiting() {
        start(withExtraScorer(false));
        group("g1", "42", "41");
        judge("g1", 0.0, 1.0);
        ScoredGroup g = scoredGroups.readValue();
        assertEquals(List.of(), g.getMissingScorers());
        assertEquals(List.of(1.1, 0.6), g.getRewards());
    }

    @Test
    void incompleteGroupTimesOutToADeadLetter() {
        start(withExtraScorer(true));
        group("g1", "42", "41");
        tick(TIMEOUT.minusMillis(200));
        assertTrue(deadLetters.isEmpty(), "timeout not reached");
        tick(Duration.ofMillis(300));
        DeadLetter letter = onlyDeadLetter(GroupAssembly.GROUP_TIMEOUT);
        assertTrue(letter.getReason().contains("group g1") && letter.getReason().contains("g1/0 [judge]"), letter.getReason());
        assertWholeGroup("g1", letter);
        assertTrue(scoredGroups.isEmpty());
        judge("g1", 1.0);
        onlyDeadLetter(GroupAssembly.LATE_REWARD);
    }

    @Test
    void aWaitingGroupIsNotRewrittenToItsChangelogAtEveryCheck() {
        start(withExtraScorer(true));
        String changelog = config().applicationId() + "-" + RewardTopology.PENDING_GROUPS + "-changelog";
        TestOutputTopic<String, byte[]> stored = driver.createOutputTopic(changelog, Serdes.String().deserializer(),
                Serdes.ByteArray().deserializer());
        group("g1", "42", "41");
        tick(Duration.ofMillis(200));
        int written = stored.readValuesToList().size();
        assertTrue(written >= 1, "the pending group is in its changelog");
        tick(TIMEOUT.dividedBy(2));   // 50 checks of a group nothing happened to
        assertEquals(List.of(), stored.readValuesToList(), "unchanged groups are not written again");
        judge("g1", 1.0, 0.0);
        assertEquals(1, scoredGroups.readValuesToList().size());
    }

    @Test
    void undecodableRecordsOnEitherTopicAreDeadLetteredWithTheirBytes() {
        start(config());
        byte[] garbage = "not avro".getBytes(StandardCharsets.UTF_8);
        rollouts.pipeInput("g1", garbage);
        DeadLetter fromRollouts = onlyDeadLetter(DeadLetters.UNDECODABLE);
        assertEquals(TOPICS.rollouts(), fromRollouts.getSourceTopic());
        assertArrayEquals(garbage, array(fromRollouts.getOriginalBytes()));
        assertEquals(0, fromRollouts.getSourceOffset());

        byte[] aRolloutOnTheRewardsTopic = bytes(rollout("g1", 0, 1, "42"));
        rewards.pipeInput("g1", aRolloutOnTheRewardsTopic);
        DeadLetter fromRewards = onlyDeadLetter(DeadLetters.UNDECODABLE);
        assertEquals(TOPICS.rewards(), fromRewards.getSourceTopic());
        assertArrayEquals(aRolloutOnTheRewardsTopic, array(fromRewards.getOriginalBytes()));
        assertTrue(fromRewards.getReason().contains("Rollout"), fromRewards.getReason());
        assertServiceStillScores("g2");
    }

    @Test
    void nonFiniteScoreIsDeadLettered() {
        start(withExtraScorer(true));
        group("g1", "42", "41");
        byte[] nan = bytes(reward("g1", "g1/0", "judge", Double.NaN));
        rewards.pipeInput("g1", nan);
        DeadLetter letter = onlyDeadLetter(GroupAssembly.NON_FINITE_SCORE);
        assertArrayEquals(nan, array(letter.getOriginalBytes()));
        assertTrue(letter.getReason().contains("NaN") && letter.getReason().contains("judge"), letter.getReason());
        judge("g1", 1.0, 0.0);
        assertEquals(1.6, scoredGroups.readValue().getRewards().get(0), 1e-12, "NaN dropped, the good score counts");
    }

    @Test
    void finiteScoresTooLargeToNormaliseDeadLetterTheGroupInsteadOfNaNAdvantages() {
        start(withExtraScorer(true));
        group("g1", "42", "41");
        judge("g1", 1e308, 1.5e308);   // finite, but their sum is not
        DeadLetter letter = onlyDeadLetter(GroupAssembly.NON_FINITE_SCORE);
        assertTrue(letter.getReason().contains("g1") && letter.getReason().contains("too large"), letter.getReason());
        assertWholeGroup("g1", letter);
        assertTrue(scoredGroups.isEmpty(), "no scored group with NaN advantages");
        group("g2", "42", "41");
        judge("g2", 1.0, 0.0);
        assertEquals(List.of("g2"), scoredGroups.readKeyValuesToList().stream().map(kv -> kv.key).toList(), "the next group still scores");
    }

    /** The shape generators read as "this group is never trained" (AdmissionGate.neverTrained): rollouts topic, offset −1, key = group id. */
    private static void assertWholeGroup(String groupId, DeadLetter letter) {
        assertEquals(TOPICS.rollouts(), letter.getSourceTopic());
        assertEquals(-1, letter.getSourceOffset());
        assertEquals(groupId, StandardCharsets.UTF_8.decode(letter.getSourceKey()).toString());
    }

    @Test
    void rewardForAnUnknownRolloutIsDeadLettered() {
        start(withExtraScorer(true));
        group("g1", "42", "41");
        byte[] stray = bytes(reward("g1", "g1/9", "judge", 1.0));
        rewards.pipeInput("g1", stray);
        DeadLetter letter = onlyDeadLetter(GroupAssembly.UNKNOWN_ROLLOUT);
        assertArrayEquals(stray, array(letter.getOriginalBytes()));
        assertTrue(letter.getReason().contains("g1/9"), letter.getReason());
    }

    @Test
    void rewardForAGroupThatNeverArrivesIsUnknownAtTimeout() {
        start(config());
        byte[] early = bytes(reward("ghost", "ghost/0", "judge", 1.0));
        rewards.pipeInput("ghost", early);
        assertTrue(deadLetters.isEmpty(), "held: its rollout may still come");
        tick(TIMEOUT.plusMillis(100));
        DeadLetter letter = onlyDeadLetter(GroupAssembly.UNKNOWN_ROLLOUT);
        assertArrayEquals(early, array(letter.getOriginalBytes()));
    }

    @Test
    void rewardBeforeItsRolloutCountsWhenTheRolloutArrives() {
        start(withExtraScorer(true));
        judge("g1", 1.0, 0.0);
        assertTrue(deadLetters.isEmpty());
        group("g1", "42", "41");
        assertEquals(List.of(1.6, 0.1), scoredGroups.readValue().getRewards());
    }

    @Test
    void lateRewardForAnEmittedGroupIsDeadLettered() {
        start(config());
        group("g1", "42", "41");
        scoredGroups.readValue();
        byte[] late = bytes(reward("g1", "g1/0", "judge", 1.0));
        rewards.pipeInput("g1", late);
        DeadLetter letter = onlyDeadLetter(GroupAssembly.LATE_REWARD);
        assertArrayEquals(late, array(letter.getOriginalBytes()));
        assertTrue(letter.getReason().contains("emitted"), letter.getReason());
        assertTrue(scoredGroups.isEmpty(), "emitted once only");
    }

    @Test
    void groupSizeMismatchesAreDeadLetteredAndTheGroupStillCompletes() {
        start(config());
        rollouts.pipeInput("g1", bytes(rollout("g1", 0, 2, "42")));
        byte[] wrongSize = bytes(rollout("g1", 1, 3, "41"));
        byte[] outOfRange = bytes(rollout("g1", 2, 2, "41"));
        byte[] duplicateIndex = bytes(rollout("g1", 0, 2, "41"));
        for (byte[] bad : List.of(wrongSize, outOfRange, duplicateIndex)) {
            rollouts.pipeInput("g1", bad);
            DeadLetter letter = onlyDeadLetter(GroupAssembly.GROUP_SIZE_MISMATCH);
            assertArrayEquals(bad, array(letter.getOriginalBytes()));
        }
        rollouts.pipeInput("g1", bytes(rollout("g1", 1, 2, "41")));
        assertEquals(List.of(1.1, 0.1), scoredGroups.readValue().getRewards());
        assertEquals(4, rewardsOut.readValuesToList().size(), "built-in scores for the 2 accepted rollouts only");
        assertTrue(deadLetters.isEmpty(), "rejected rollouts were not scored, so no duplicate rewards");
        assertServiceStillScores("g2");
    }

    @Test
    void recordKeyedByAnythingButItsGroupIsDeadLettered() {
        start(config());
        byte[] value = bytes(rollout("g1", 0, 1, "42"));
        rollouts.pipeInput("other", value);
        DeadLetter letter = onlyDeadLetter(GroupAssembly.KEY_MISMATCH);
        assertArrayEquals(value, array(letter.getOriginalBytes()));
    }

    @Test
    void countersAreWrittenToMetrics() {
        start(config().withIntervals(Duration.ofMillis(100), Duration.ofSeconds(1)));
        group("g1", "42", "41");
        rollouts.pipeInput("g1", "junk".getBytes(StandardCharsets.UTF_8));
        tick(Duration.ofSeconds(1));
        List<Metric> written = metrics.readValuesToList();
        assertTrue(!written.isEmpty(), "a counters metric after metricsInterval");
        Metric last = written.get(written.size() - 1);
        assertEquals(RewardTopology.METRIC_KIND, last.getKind());
        assertEquals(RewardConfig.DEFAULT_SERVICE_ID, last.getServiceId());
        assertEquals(1.0, last.getValues().get("groups_emitted"));
        assertEquals(1.0, last.getValues().get("dead_letters_undecodable"));
        assertTrue(last.getValues().containsKey("group_wait_ms_mean"), last.getValues().toString());
        // the driver pipes the built-in rewards back in through rl.rewards, as the broker would: they were
        // applied when written, so they are counted, not scored twice nor dead-lettered as late
        assertEquals(4.0, last.getValues().get("builtin_echoes"), "2 built-in scorers x 2 rollouts");
        assertEquals(1.0, last.getValues().get("dead_letters"), "only the undecodable rollout");
    }

    @Test
    void builtInScorersOffWritesNoRewards() {
        start(config().withBuiltInScorers(false));
        group("g1", "42");
        assertTrue(rewardsOut.isEmpty());
        assertTrue(scoredGroups.isEmpty());
        rewards.pipeInput("g1", bytes(reward("g1", "g1/0", "exact-answer", 1)));
        rewards.pipeInput("g1", bytes(reward("g1", "g1/0", "format", 1)));
        assertEquals(List.of(1.1), scoredGroups.readValue().getRewards());
    }

    @Test
    void processorsAndStoresHaveStableNames() {
        String description = RewardTopology.build(config()).describe().toString();
        for (String name : Arrays.asList(RewardTopology.ASSEMBLE_GROUPS, RewardTopology.BUILTIN_REWARDS_SINK,
                RewardTopology.PENDING_GROUPS, RewardTopology.CLOSED_GROUPS, RewardTopology.ROLLOUTS_SOURCE,
                RewardTopology.REWARDS_SOURCE, RewardTopology.SCORED_GROUPS_SINK)) {
            assertTrue(description.contains(name), name + " in\n" + description);
        }
    }
}
