package dev.rlkafka.reward.http;

import dev.rlkafka.kafka.KafkaExtension;
import dev.rlkafka.kafka.TestKafka;
import dev.rlkafka.reward.RewardConfig;
import dev.rlkafka.reward.RewardService;
import dev.rlkafka.reward.http.JudgeServer.Answer;
import dev.rlkafka.schemas.avro.DeadLetter;
import dev.rlkafka.schemas.avro.ScoredGroup;
import dev.rlkafka.schemas.serde.RlSerdes;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The HTTP scorer next to a real {@link RewardService} (built-in scorers on): its rewards join the groups, and a
 * scorer that is slow, answers garbage or is down never deadlocks training; the reward-service's optional-scorer
 * and group-timeout rules decide.
 */
@ExtendWith(KafkaExtension.class)
class HttpScorerWithRewardServiceTest {
    /** Built-in scores of "42", "41", "forty-two", "x" for "12+30=": exact-answer·1.0 + format·0.1. */
    private static final List<Double> BUILT_IN_REWARDS = List.of(1.1, 0.1, 0.0, 0.0);

    @TempDir
    Path stateDir;

    @Test
    void aRequiredJudgesScoresAreWeightedIntoTheScoredGroups(TestKafka kafka) throws Exception {
        TestTopics run = TestTopics.create(kafka, "judge-required", 2);
        RewardConfig rewards = rewardConfig(run, Map.of("judge", 0.5), Map.of());
        try (JudgeServer server = JudgeServer.start((request, attempt) -> Answer.score(request.get("completion").asText().length()));
             HttpScorerService judge = new HttpScorerService(scorerConfig(run, server.url())
                     .withTimeout(Duration.ofSeconds(5))).start();   // a good server: no timeout on a busy machine
             RewardService service = new RewardService(rewards).start()) {
            run.writeRollouts(HttpScorerServiceKafkaTest.rollouts("g0", "g1"));

            Map<String, ScoredGroup> groups = scoredGroups(run, 2);
            for (ScoredGroup group : groups.values()) {
                assertEquals(List.of(), group.getMissingScorers());
                // + judge·0.5 × completion length (2, 2, 9, 1)
                assertEquals(List.of(2.1, 1.1, 4.5, 0.5), rounded(group.getRewards()), group.getGroupId());
                assertEquals(9.0, group.getScores().get(2).get("judge"));
            }
        }
    }

    @Test
    void anOptionalJudgeThatIsSlowOrAnswersGarbageIsNotedMissingAndGroupsStillArrive(TestKafka kafka) throws Exception {
        TestTopics run = TestTopics.create(kafka, "judge-optional", 2);
        RewardConfig rewards = rewardConfig(run, Map.of(), Map.of("judge", 1.0)).withOptionalGrace(Duration.ofMillis(500));
        // even rollouts: far slower than the timeout; odd ones: not a score
        try (JudgeServer server = JudgeServer.start((request, attempt) -> request.get("rolloutId").asText().matches(".*/[02]")
                ? Answer.score(1).after(Duration.ofSeconds(30)) : Answer.body("{\"verdict\": \"good\"}"));
             HttpScorerService judge = new HttpScorerService(scorerConfig(run, server.url())).start();
             RewardService service = new RewardService(rewards).start()) {
            run.writeRollouts(HttpScorerServiceKafkaTest.rollouts("g0", "g1"));

            Map<String, ScoredGroup> groups = scoredGroups(run, 2);
            for (ScoredGroup group : groups.values()) {
                assertEquals(List.of("judge"), group.getMissingScorers(), group.getGroupId());
                assertEquals(BUILT_IN_REWARDS, rounded(group.getRewards()), "built-in scores only");
            }
            // and the judge's failures are on record: 4 timeouts and 4 garbage answers, one per rollout
            Map<String, Integer> types = letterTypes(run, "judge", 8);
            assertEquals(Map.of("SCORER_BAD_RESPONSE", 4, "SCORER_TIMEOUT", 4), types);
        }
    }

    @Test
    void aRequiredJudgeThatIsDownExpiresItsGroupsAfterTheGroupTimeout(TestKafka kafka) throws Exception {
        TestTopics run = TestTopics.create(kafka, "judge-down", 2);
        RewardConfig rewards = rewardConfig(run, Map.of("judge", 1.0), Map.of()).withGroupTimeout(Duration.ofSeconds(3));
        try (HttpScorerService judge = new HttpScorerService(scorerConfig(run, JudgeServer.deadUrl())).start();
             RewardService service = new RewardService(rewards).start()) {
            run.writeRollouts(HttpScorerServiceKafkaTest.rollouts("g0", "g1"));

            List<DeadLetter> expired = run.read(run.topics.deadLetters(), got -> letters(got, rewards.serviceId()).size() >= 2)
                    .stream().map(r -> RlSerdes.deadLetter().codec().decode(r))
                    .filter(l -> l.getServiceId().equals(rewards.serviceId())).toList();
            assertEquals(2, expired.size(), "one GROUP_TIMEOUT per group");
            for (DeadLetter letter : expired) {
                assertEquals("GROUP_TIMEOUT", letter.getErrorType(), letter.getReason());
                assertTrue(letter.getReason().contains("judge"), "names the missing scorer: " + letter.getReason());
            }
            assertTrue(run.read(run.topics.scoredGroups(), got -> true).isEmpty(), "no group went to training without the judge");
            Map<String, Integer> types = letterTypes(run, "judge", 8);
            assertEquals(1, types.size(), "every rollout failed the same way: " + types);
            assertTrue(types.containsKey("SCORER_UNREACHABLE") || types.containsKey("SCORER_TIMEOUT"), types.toString());
            assertTrue(judge.isRunning(), "a dead server does not stop the scorer");
        }
    }

    /** Built-in arithmetic scorers required, plus {@code required} and {@code optional}; short intervals. */
    private RewardConfig rewardConfig(TestTopics run, Map<String, Double> required, Map<String, Double> optional) {
        Map<String, Double> allRequired = new LinkedHashMap<>(RewardConfig.builtInWeights("arithmetic"));
        allRequired.putAll(required);
        return RewardConfig.defaults(run.bootstrap()).withTopics(run.topics).withStateDir(stateDir)
                .withReplicationFactor(1).withIntervals(Duration.ofMillis(200), Duration.ofSeconds(1))
                .withScorers(allRequired, optional).withGroupTimeout(Duration.ofSeconds(30));
    }

    private static HttpScorerConfig scorerConfig(TestTopics run, URI url) {
        return HttpScorerConfig.defaults(run.bootstrap(), url, "judge").withTopics(run.topics)
                .withConcurrency(8)
                .withTimeout(Duration.ofMillis(500))
                .withRetryPolicy(new RetryPolicy(1, Duration.ofMillis(20), Duration.ofMillis(20)))
                .withProgressInterval(Duration.ofSeconds(1))
                .withDrainTimeout(Duration.ofSeconds(1));
    }

    private static Map<String, ScoredGroup> scoredGroups(TestTopics run, int count) {
        Map<String, ScoredGroup> groups = new TreeMap<>();
        for (var rec : run.read(run.topics.scoredGroups(), got -> got.size() >= count)) {
            ScoredGroup group = RlSerdes.scoredGroup().codec().decode(rec);
            assertEquals(null, groups.put(group.getGroupId(), group), "group " + group.getGroupId() + " emitted twice");
        }
        assertEquals(count, groups.size());
        return groups;
    }

    private static List<DeadLetter> letters(List<ConsumerRecord<String, byte[]>> records, String serviceId) {
        return records.stream().map(r -> RlSerdes.deadLetter().codec().decode(r)).filter(l -> l.getServiceId().equals(serviceId)).toList();
    }

    /** Error type → count of the dead letters {@code serviceId} wrote, once there are {@code count} of them. */
    private static Map<String, Integer> letterTypes(TestTopics run, String serviceId, int count) {
        Map<String, Integer> types = new TreeMap<>();
        for (DeadLetter l : letters(run.read(run.topics.deadLetters(), got -> letters(got, serviceId).size() >= count), serviceId)) {
            types.merge(l.getErrorType(), 1, Integer::sum);
        }
        return types;
    }

    private static List<Double> rounded(List<Double> values) {
        return values.stream().map(v -> Math.round(v * 1e9) / 1e9).toList();
    }
}
