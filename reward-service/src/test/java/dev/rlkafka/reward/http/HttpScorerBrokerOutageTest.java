package dev.rlkafka.reward.http;

import dev.rlkafka.kafka.EmbeddedKafkaBroker;
import dev.rlkafka.kafka.TestKafka;
import dev.rlkafka.reward.http.JudgeServer.Answer;
import dev.rlkafka.schemas.KafkaClientConfig;
import dev.rlkafka.schemas.avro.Reward;
import dev.rlkafka.schemas.avro.Rollout;
import dev.rlkafka.schemas.serde.RlSerdes;
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
 * committed. (A commit only follows a write, so one that times out needs the broker to go between the two; this
 * test does not force that.)
 */
class HttpScorerBrokerOutageTest {
    private static final int GROUPS = 60;
    private static final Duration CLIENT_TIMEOUT = Duration.ofMillis(1500);

    @TempDir
    Path dataDir;

    @Test
    void aBrokerOutageLongerThanTheClientTimeoutsStallsTheScorerInsteadOfStoppingIt() throws Exception {
        EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.start(dataDir, 0, false);
        String bootstrap = broker.bootstrapServers();
        int port = Integer.parseInt(bootstrap.substring(bootstrap.lastIndexOf(':') + 1));
        try {
            TestTopics run = TestTopics.create(new TestKafka(bootstrap, "embedded, restarted on its port"), "http-outage", 2);
            List<Rollout> rollouts = HttpScorerServiceKafkaTest.rollouts(IntStream.range(0, GROUPS).mapToObj(g -> "g" + g)
                    .toArray(String[]::new));
            run.writeRollouts(rollouts);
            try (JudgeServer server = JudgeServer.start((request, attempt) -> Answer.score(1).after(Duration.ofMillis(10)));
                 HttpScorerService scorer = new HttpScorerService(config(run, server)).start()) {
                await("the scorer at work", () -> scorer.scored() >= 20, () -> scorer.scored() + " scored");
                broker.close();
                Thread.sleep(4 * CLIENT_TIMEOUT.toMillis());   // the outage itself: writes fail and are tried again
                assertTrue(scorer.isRunning() && scorer.failure().isEmpty(), "still running after the outage: " + scorer.failure());
                assertTrue(scorer.scored() < rollouts.size(), "the outage came while rollouts were left to write: " + scorer.scored());
                broker = EmbeddedKafkaBroker.start(dataDir, port, false);

                Set<String> rewarded = run.read(run.topics.rewards(), got -> ids(got).size() >= rollouts.size())
                        .stream().map(r -> RlSerdes.reward().codec().decode(r).getRolloutId()).collect(Collectors.toSet());
                assertEquals(rollouts.stream().map(Rollout::getRolloutId).collect(Collectors.toSet()), rewarded,
                        "a reward for every rollout (one written again after the outage may be there twice)");
                String group = scorer.config().groupId();
                await("every rollout committed", () -> run.committedTotal(group) == rollouts.size(), () -> run.committed(group).toString());
                assertTrue(scorer.isRunning() && scorer.failure().isEmpty(), "still running: " + scorer.failure());
            }
        } finally {
            broker.close();
        }
    }

    @Test
    void closingWhileTheBrokerIsAwayLeavesTheRestUncommittedWithoutWaitingOutTheDrainTimeout() throws Exception {
        EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.start(dataDir, 0, false);
        String bootstrap = broker.bootstrapServers();
        int port = Integer.parseInt(bootstrap.substring(bootstrap.lastIndexOf(':') + 1));
        try {
            TestTopics run = TestTopics.create(new TestKafka(bootstrap, "embedded, restarted on its port"), "http-close", 2);
            List<Rollout> rollouts = HttpScorerServiceKafkaTest.rollouts(IntStream.range(0, GROUPS).mapToObj(g -> "g" + g)
                    .toArray(String[]::new));
            run.writeRollouts(rollouts);
            String group;
            try (JudgeServer server = JudgeServer.start((request, attempt) -> Answer.score(1).after(Duration.ofMillis(10)))) {
                HttpScorerService scorer = new HttpScorerService(config(run, server).withDrainTimeout(Duration.ofSeconds(60))).start();
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
            broker = EmbeddedKafkaBroker.start(dataDir, port, false);
            // at least once: every rollout below a committed offset has its reward
            Map<org.apache.kafka.common.TopicPartition, Long> committed = run.committed(group);
            Set<String> rewarded = run.read(run.topics.rewards(), got -> true).stream()
                    .map(r -> RlSerdes.reward().codec().decode(r).getRolloutId()).collect(Collectors.toSet());
            var written = run.read(run.topics.rollouts(), got -> got.size() >= rollouts.size());
            long below = 0;
            for (var rec : written) {
                if (rec.offset() < committed.getOrDefault(new org.apache.kafka.common.TopicPartition(rec.topic(), rec.partition()), 0L)) {
                    below++;
                    String id = RlSerdes.rollout().codec().decode(rec).getRolloutId();
                    assertTrue(rewarded.contains(id), "rollout " + id + " is committed but has no reward");
                }
            }
            assertTrue(below < rollouts.size(), "the outage left rollouts uncommitted: " + committed);
        } finally {
            broker.close();
        }
    }

    /** The judge's scorer, with client timeouts short enough for an outage of a few seconds to exceed them. */
    private static HttpScorerConfig config(TestTopics run, JudgeServer server) {
        String timeout = Long.toString(CLIENT_TIMEOUT.toMillis());
        return HttpScorerConfig.defaults(run.bootstrap(), server.url(), "judge").withTopics(run.topics).withConcurrency(2)
                .withClientConfig(new KafkaClientConfig(Map.of("max.block.ms", timeout, "request.timeout.ms", "1000",
                        "delivery.timeout.ms", timeout, "default.api.timeout.ms", timeout)));
    }

    private static Set<String> ids(List<org.apache.kafka.clients.consumer.ConsumerRecord<String, byte[]>> records) {
        return records.stream().map(r -> RlSerdes.reward().codec().decode(r)).map(Reward::getRolloutId).collect(Collectors.toSet());
    }
}
