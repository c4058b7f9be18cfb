package dev.rlkafka.reward.http;

import dev.rlkafka.kafka.KafkaExtension;
import dev.rlkafka.kafka.TestKafka;
import dev.rlkafka.reward.http.JudgeServer.Answer;
import dev.rlkafka.schemas.DeadLetters;
import dev.rlkafka.schemas.avro.DeadLetter;
import dev.rlkafka.schemas.avro.Metric;
import dev.rlkafka.schemas.avro.Reward;
import dev.rlkafka.schemas.avro.Rollout;
import dev.rlkafka.schemas.serde.RlSerdes;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static dev.rlkafka.reward.http.TestTopics.await;
import static dev.rlkafka.reward.http.TestTopics.bytes;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link HttpScorerService} on the real test broker against real local HTTP servers: good, slow, failing, garbage. */
@ExtendWith(KafkaExtension.class)
class HttpScorerServiceKafkaTest {
    private static final List<String> COMPLETIONS = List.of("42", "41", "forty-two", "x");

    @Test
    void aGoodServerScoresEveryRolloutKeyedByGroupAndCommitsAllOffsets(TestKafka kafka) throws Exception {
        TestTopics run = TestTopics.create(kafka, "http-good", 2);
        try (JudgeServer server = JudgeServer.start((request, attempt) -> Answer.score(request.get("completion").asText().length()));
             HttpScorerService scorer = new HttpScorerService(config(run, server.url())).start()) {
            run.writeRollouts(rollouts("g0", "g1"));

            Map<String, Reward> rewards = rewardsById(run.read(run.topics.rewards(), got -> got.size() >= 8));
            assertEquals(8, rewards.size(), "one reward per rollout, no duplicates: " + rewards.keySet());
            for (Reward reward : rewards.values()) {
                Rollout rollout = rollouts("g0", "g1").stream().filter(r -> r.getRolloutId().equals(reward.getRolloutId())).findFirst().orElseThrow();
                assertEquals("judge", reward.getScorerId());
                assertEquals(rollout.getCompletionText().length(), reward.getScore(), 0.0, reward.getRolloutId());
                assertEquals("scripted", reward.getRationale());
                assertEquals("1", reward.getMetadata().get("attempts"));
                assertEquals("test-judge", reward.getMetadata().get("model"));
            }
            assertTrue(run.read(run.topics.deadLetters(), got -> true).isEmpty(), "no dead letters");
            awaitAllCommitted(run, scorer, 8);
            // the periodic metric reaches rl.metrics with the counts
            var metrics = run.read(run.topics.metrics(), got -> got.stream().map(r -> RlSerdes.metric().codec().decode(r))
                    .anyMatch(m -> m.getValues().getOrDefault("scored", 0.0) == 8.0));
            Metric last = RlSerdes.metric().codec().decode(metrics.get(metrics.size() - 1));
            assertEquals(HttpScorerService.METRIC_KIND, last.getKind());
            assertEquals("judge", last.getServiceId());
            assertEquals(0.0, last.getValues().get("dead_letters"));
        }
    }

    @Test
    void aSlowAnswerIsDeadLetteredAsATimeoutWithoutHoldingUpTheOthers(TestKafka kafka) throws Exception {
        TestTopics run = TestTopics.create(kafka, "http-slow", 2);
        // rollout 0 of each group answers far beyond the timeout; the rest at once
        try (JudgeServer server = JudgeServer.start((request, attempt) -> request.get("rolloutId").asText().endsWith("/0")
                ? Answer.score(1).after(Duration.ofSeconds(30)) : Answer.score(0.5));
             HttpScorerService scorer = new HttpScorerService(config(run, server.url()).withConcurrency(3)
                     .withTimeout(Duration.ofMillis(500)).withRetryPolicy(new RetryPolicy(1, Duration.ofMillis(20), Duration.ofMillis(20)))).start()) {
            Map<String, byte[]> written = run.writeRollouts(rollouts("g0", "g1"));

            Map<String, Reward> rewards = rewardsById(run.read(run.topics.rewards(), got -> got.size() >= 6));
            assertEquals(List.of("g0/1", "g0/2", "g0/3", "g1/1", "g1/2", "g1/3"), List.copyOf(rewards.keySet()));
            List<DeadLetter> letters = deadLetters(run.read(run.topics.deadLetters(), got -> got.size() >= 2));
            assertEquals(2, letters.size());
            for (DeadLetter letter : letters) {
                assertEquals("SCORER_TIMEOUT", letter.getErrorType(), letter.getReason());
                assertEquals(run.topics.rollouts(), letter.getSourceTopic());
                assertEquals("judge", letter.getServiceId());
                String rolloutId = RlSerdes.rollout().codec().decode(run.topics.rollouts(), bytes(letter.getOriginalBytes())).getRolloutId();
                assertTrue(rolloutId.endsWith("/0"), rolloutId);
                assertArrayEquals(written.get(rolloutId), bytes(letter.getOriginalBytes()), "the original rollout bytes");
                assertTrue(letter.getReason().contains(server.url().toString()) && letter.getReason().contains("2 attempt(s)")
                        && letter.getReason().contains("[timeout, timeout]"), letter.getReason());
            }
            assertEquals(2, server.attempts("g0/0"), "1 + 1 retry");
            awaitAllCommitted(run, scorer, 8);
        }
    }

    @Test
    void aServerFailingWith5xxIsRetriedUntilItRecovers(TestKafka kafka) throws Exception {
        TestTopics run = TestTopics.create(kafka, "http-5xx", 2);
        try (JudgeServer server = JudgeServer.start((request, attempt) -> attempt <= 2 ? Answer.status(503) : Answer.score(1));
             HttpScorerService scorer = new HttpScorerService(config(run, server.url())
                     .withRetryPolicy(new RetryPolicy(3, Duration.ofMillis(20), Duration.ofMillis(100)))).start()) {
            run.writeRollouts(rollouts("g0", "g1"));

            Map<String, Reward> rewards = rewardsById(run.read(run.topics.rewards(), got -> got.size() >= 8));
            assertEquals(8, rewards.size());
            rewards.values().forEach(r -> assertEquals("3", r.getMetadata().get("attempts"), r.getRolloutId() + " took two 503s"));
            assertTrue(run.read(run.topics.deadLetters(), got -> true).isEmpty(), "retries succeeded: no dead letters");
            awaitAllCommitted(run, scorer, 8);
            assertEquals(16, countRetries(server, rewards.keySet()), "two retries for each of the 8 rollouts");
        }
    }

    @Test
    void garbageAnswersAndUndecodableRolloutsAreDeadLetteredAndTheScorerGoesOn(TestKafka kafka) throws Exception {
        TestTopics run = TestTopics.create(kafka, "http-garbage", 2);
        try (JudgeServer server = JudgeServer.start((request, attempt) -> switch (request.get("rolloutId").asText()) {
            case "g0/0" -> Answer.body("I'd give it a 7");
            case "g0/1" -> Answer.body("{\"score\": \"high\"}");
            case "g0/2" -> Answer.body("{\"rationale\": \"forgot the score\"}");
            case "g0/3" -> Answer.status(400);
            default -> Answer.score(1);
        }); HttpScorerService scorer = new HttpScorerService(config(run, server.url())).start()) {
            byte[] garbage = "not a rollout".getBytes(StandardCharsets.UTF_8);
            run.writeRaw(run.topics.rollouts(), "g0", garbage);
            run.writeRollouts(rollouts("g0", "g1"));

            List<DeadLetter> letters = deadLetters(run.read(run.topics.deadLetters(), got -> got.size() >= 5));
            assertEquals(5, letters.size());
            Map<String, Long> byType = letters.stream().collect(Collectors.groupingBy(DeadLetter::getErrorType, TreeMap::new, Collectors.counting()));
            assertEquals(Map.of("SCORER_BAD_RESPONSE", 3L, "SCORER_HTTP_STATUS", 1L, DeadLetters.UNDECODABLE, 1L), byType);
            DeadLetter undecodable = letters.stream().filter(l -> l.getErrorType().equals(DeadLetters.UNDECODABLE)).findFirst().orElseThrow();
            assertArrayEquals(garbage, bytes(undecodable.getOriginalBytes()));
            assertTrue(letters.stream().anyMatch(l -> l.getReason().contains("I'd give it a 7")), "the reason quotes the answer");
            for (String id : List.of("g0/0", "g0/1", "g0/2", "g0/3")) assertEquals(1, server.attempts(id), id + " is not retried");

            // g1 is scored fine: garbage for one group does not stop the scorer
            Map<String, Reward> rewards = rewardsById(run.read(run.topics.rewards(), got -> got.size() >= 4));
            assertEquals(List.of("g1/0", "g1/1", "g1/2", "g1/3"), List.copyOf(rewards.keySet()));
            awaitAllCommitted(run, scorer, 9);
            assertTrue(scorer.isRunning());
            assertEquals(5, scorer.deadLettered());
        }
    }

    /**
     * At least once: while a rollout is with the server, its partition is committed no further than it, so a
     * crash (here: a close that gives up waiting) leaves it for the next instance, which scores it; rollouts behind
     * it are scored again too, which the reward-service resolves by keeping the first reward.
     */
    @Test
    void offsetsNeverPassARolloutInFlightSoARestartScoresIt(TestKafka kafka) throws Exception {
        TestTopics run = TestTopics.create(kafka, "http-restart", 1);
        CountDownLatch release = new CountDownLatch(1);
        HttpScorerConfig config;
        try (JudgeServer stuck = JudgeServer.start((request, attempt) -> {
            if (request.get("rolloutId").asText().equals("g0/0")) release.await(30, TimeUnit.SECONDS);
            return Answer.score(1);
        })) {
            config = config(run, stuck.url()).withTimeout(Duration.ofSeconds(30)).withDrainTimeout(Duration.ofMillis(200));
            HttpScorerService first = new HttpScorerService(config).start();
            try {
                run.writeRollouts(rollouts("g0"));
                Map<String, Reward> rewards = rewardsById(run.read(run.topics.rewards(), got -> got.size() >= 3));
                assertEquals(List.of("g0/1", "g0/2", "g0/3"), List.copyOf(rewards.keySet()));
                // g0/1..3 are written and g0/0 is not: nothing may be committed past offset 0
                await("the scorer to have resolved 3 of 4", () -> first.scored() == 3, () -> "scored " + first.scored());
                Map<TopicPartition, Long> committed = run.committed(config.groupId());
                assertTrue(committed.values().stream().allMatch(o -> o == 0), "committed " + committed);
            } finally {
                first.close();   // gives up on g0/0 after drainTimeout: a crash as far as offsets go
            }
            assertTrue(run.committed(config.groupId()).values().stream().allMatch(o -> o == 0), "g0/0 never resolved");
            release.countDown();
        }

        try (JudgeServer good = JudgeServer.start((request, attempt) -> Answer.score(2));
             HttpScorerService second = new HttpScorerService(config.withUrl(good.url())).start()) {
            var records = run.read(run.topics.rewards(), got -> rewardsOf(got).stream().anyMatch(r -> r.getRolloutId().equals("g0/0")));
            List<Reward> all = rewardsOf(records);
            assertEquals(2.0, all.stream().filter(r -> r.getRolloutId().equals("g0/0")).findFirst().orElseThrow().getScore(),
                    "the restarted scorer scored the rollout the first one gave up on");
            awaitAllCommitted(run, second, 4);
            assertEquals(4, good.requests().size(), "the restart re-reads from g0/0: g0/1..3 are scored a second time");
        }
    }

    @Test
    void aRewardTheBrokerRefusesForGoodStopsTheScorerInsteadOfRetryingIt(TestKafka kafka) throws Exception {
        TestTopics run = TestTopics.create(kafka, "http-refused", 1);
        try (Admin admin = Admin.create(Map.<String, Object>of("bootstrap.servers", run.bootstrap()))) {
            ConfigResource topic = new ConfigResource(ConfigResource.Type.TOPIC, run.topics.rewards());
            admin.incrementalAlterConfigs(Map.of(topic, List.of(new AlterConfigOp(new ConfigEntry("max.message.bytes", "64"),
                    AlterConfigOp.OpType.SET)))).all().get();
        }
        try (JudgeServer server = JudgeServer.start((request, attempt) -> Answer.score(1));
             HttpScorerService scorer = new HttpScorerService(config(run, server.url())).start()) {
            run.writeRollouts(rollouts("g0"));
            await("the scorer stopped", () -> scorer.failure().isPresent(), () -> scorer.scored() + " scored");
            String message = scorer.failure().get().getMessage();
            assertTrue(message.contains(run.topics.rewards()) && message.contains("offsets stay uncommitted"), message);
            assertTrue(scorer.failure().get().getCause() instanceof RecordTooLargeException,
                    String.valueOf(scorer.failure().get().getCause()));
            assertEquals(0, run.committedTotal(scorer.config().groupId()), "nothing committed past the unwritten rewards");
        }
    }

    private static HttpScorerConfig config(TestTopics run, URI url) {
        return HttpScorerConfig.defaults(run.bootstrap(), url, "judge").withTopics(run.topics)
                .withConcurrency(4)
                .withTimeout(Duration.ofSeconds(5))
                .withRetryPolicy(new RetryPolicy(2, Duration.ofMillis(20), Duration.ofMillis(100)))
                .withProgressInterval(Duration.ofMillis(500))
                .withDrainTimeout(Duration.ofSeconds(5));
    }

    static List<Rollout> rollouts(String... groupIds) {
        List<Rollout> out = new ArrayList<>();
        for (String group : groupIds) {
            for (int i = 0; i < COMPLETIONS.size(); i++) out.add(TestRollouts.rollout(group, i, COMPLETIONS.size(), COMPLETIONS.get(i)));
        }
        return out;
    }

    private static void awaitAllCommitted(TestTopics run, HttpScorerService scorer, long records) throws Exception {
        String group = scorer.config().groupId();
        await("all " + records + " rollouts committed by " + group, () -> run.committedTotal(group) == records,
                () -> run.committed(group) + ", in flight " + scorer.inFlight());
    }

    /** Rewards by rollout id, sorted; checks each is keyed by its group id. */
    private static Map<String, Reward> rewardsById(List<ConsumerRecord<String, byte[]>> records) {
        Map<String, Reward> out = new TreeMap<>();
        for (Reward reward : rewardsOf(records)) out.put(reward.getRolloutId(), reward);
        return out;
    }

    private static List<Reward> rewardsOf(List<ConsumerRecord<String, byte[]>> records) {
        List<Reward> out = new ArrayList<>();
        for (var rec : records) {
            Reward reward = RlSerdes.reward().codec().decode(rec);
            assertEquals(reward.getGroupId(), rec.key(), "rewards are keyed by group id, like the rollouts");
            out.add(reward);
        }
        return out;
    }

    private static List<DeadLetter> deadLetters(List<ConsumerRecord<String, byte[]>> records) {
        return records.stream().map(r -> RlSerdes.deadLetter().codec().decode(r)).toList();
    }

    private static int countRetries(JudgeServer server, Iterable<String> rolloutIds) {
        int retries = 0;
        for (String id : rolloutIds) retries += server.attempts(id) - 1;
        return retries;
    }
}
