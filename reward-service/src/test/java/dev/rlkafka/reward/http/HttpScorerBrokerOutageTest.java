package dev.rlkafka.reward.http;

import dev.rlkafka.kafka.EmbeddedKafkaBroker;
import dev.rlkafka.kafka.TestKafka;
import dev.rlkafka.reward.http.JudgeServer.Answer;
import dev.rlkafka.schemas.KafkaClientConfig;
import dev.rlkafka.schemas.avro.Rollout;
import dev.rlkafka.schemas.serde.RlSerdes;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import static dev.rlkafka.reward.http.TestTopics.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The broker goes away while the HTTP scorer works, for longer than its producer's {@code delivery.timeout.ms}: its
 * writes fail. The scorer must wait the outage out and carry on, a reward for every rollout and every offset
 * committed; closed meanwhile, it must stop promptly and commit nothing past an unwritten reward. (A commit only
 * follows a write, so one that times out needs the broker to go between the two; these tests do not force that.)
 */
class HttpScorerBrokerOutageTest {
    private static final Duration CLIENT_TIMEOUT = Duration.ofMillis(1500);
    private static final List<Rollout> ROLLOUTS = HttpScorerServiceKafkaTest.rollouts(IntStream.range(0, 60)
            .mapToObj(g -> "g" + g).toArray(String[]::new));

    @TempDir
    Path dataDir;
    private EmbeddedKafkaBroker broker;
    private TestTopics run;

    @BeforeEach
    void startTheBrokerWithRollouts() throws Exception {
        broker = EmbeddedKafkaBroker.start(dataDir, 0, false);
        run = TestTopics.create(new TestKafka(broker.bootstrapServers(), "embedded, restarted on its port"), "http-outage", 2);
        run.writeRollouts(ROLLOUTS);
    }

    @AfterEach
    void stopTheBroker() {
        broker.close();
    }

    @Test
    void aBrokerOutageLongerThanTheClientTimeoutsStallsTheScorerInsteadOfStoppingIt() throws Exception {
        try (JudgeServer server = JudgeServer.start((request, attempt) -> Answer.score(1).after(Duration.ofMillis(10)));
             HttpScorerService scorer = new HttpScorerService(config(server)).start()) {
            await("the scorer at work", () -> scorer.scored() >= 20, () -> scorer.scored() + " scored");
            broker.close();
            Thread.sleep(4 * CLIENT_TIMEOUT.toMillis());   // the outage itself: writes fail and are tried again
            assertTrue(scorer.isRunning() && scorer.failure().isEmpty(), "still running after the outage: " + scorer.failure());
            assertTrue(scorer.scored() < ROLLOUTS.size(), "the outage came while rollouts were left to write: " + scorer.scored());
            broker = broker.startAgain();

            Set<String> rewarded = rolloutIds(run.read(run.topics.rewards(), got -> rolloutIds(got).size() >= ROLLOUTS.size()));
            assertEquals(ROLLOUTS.stream().map(Rollout::getRolloutId).collect(Collectors.toSet()), rewarded,
                    "a reward for every rollout (one written again after the outage may be there twice)");
            String group = scorer.config().groupId();
            await("every rollout committed", () -> run.committedTotal(group) == ROLLOUTS.size(), () -> run.committed(group).toString());
            assertTrue(scorer.isRunning() && scorer.failure().isEmpty(), "still running: " + scorer.failure());
        }
    }

    @Test
    void closingWhileTheBrokerIsAwayLeavesTheRestUncommittedWithoutWaitingOutTheDrainTimeout() throws Exception {
        String group;
        try (JudgeServer server = JudgeServer.start((request, attempt) -> Answer.score(1).after(Duration.ofMillis(10)))) {
            HttpScorerService scorer = new HttpScorerService(config(server).withDrainTimeout(Duration.ofSeconds(60))).start();
            group = scorer.config().groupId();
            await("the scorer at work", () -> scorer.scored() >= 20, () -> scorer.scored() + " scored");
            broker.close();
            Thread.sleep(2 * CLIENT_TIMEOUT.toMillis());   // the outage itself: a write fails and is tried again
            long start = System.nanoTime();
            scorer.close();
            double seconds = (System.nanoTime() - start) / 1e9;
            assertTrue(seconds < 30, "close took " + seconds + " s; drainTimeout is 60 s");
            assertTrue(scorer.failure().isEmpty(), "closing in an outage is not a failure: " + scorer.failure());
        }
        broker = broker.startAgain();
        // at least once: every rollout below a committed offset has its reward
        Map<TopicPartition, Long> committed = run.committed(group);
        Set<String> rewarded = rolloutIds(run.read(run.topics.rewards(), got -> true));
        long below = 0;
        for (var rec : run.read(run.topics.rollouts(), got -> got.size() >= ROLLOUTS.size())) {
            if (rec.offset() < committed.getOrDefault(new TopicPartition(rec.topic(), rec.partition()), 0L)) {
                below++;
                String id = RlSerdes.rollout().codec().decode(rec).getRolloutId();
                assertTrue(rewarded.contains(id), "rollout " + id + " is committed but has no reward");
            }
        }
        assertTrue(below < ROLLOUTS.size(), "the outage left rollouts uncommitted: " + committed);
    }

    /** The judge's scorer, with client timeouts short enough for an outage of a few seconds to exceed them. */
    private HttpScorerConfig config(JudgeServer server) {
        String timeout = Long.toString(CLIENT_TIMEOUT.toMillis());
        return HttpScorerConfig.defaults(run.bootstrap(), server.url(), "judge").withTopics(run.topics).withConcurrency(2)
                .withClientConfig(new KafkaClientConfig(Map.of("max.block.ms", timeout, "request.timeout.ms", "1000",
                        "delivery.timeout.ms", timeout, "default.api.timeout.ms", timeout)));
    }

    private static Set<String> rolloutIds(List<ConsumerRecord<String, byte[]>> rewards) {
        return rewards.stream().map(r -> RlSerdes.reward().codec().decode(r).getRolloutId()).collect(Collectors.toSet());
    }
}
