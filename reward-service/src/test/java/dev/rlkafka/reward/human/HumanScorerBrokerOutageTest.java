package dev.rlkafka.reward.human;

import dev.rlkafka.kafka.EmbeddedKafkaBroker;
import dev.rlkafka.kafka.TestKafka;
import dev.rlkafka.reward.human.HumanScorerService.RewardNotWrittenException;
import dev.rlkafka.schemas.KafkaClientConfig;
import dev.rlkafka.schemas.TopicAdmin;
import dev.rlkafka.schemas.Topics;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import static dev.rlkafka.reward.human.HumanFixtures.await;
import static dev.rlkafka.reward.human.HumanFixtures.rollout;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The broker goes away while people rate, for longer than the scorer's client timeouts: a rating cannot be written
 * and the rater is told to try again, the page and the follower keep going, and once the broker is back the same
 * rating goes through.
 */
class HumanScorerBrokerOutageTest {
    private static final Duration CLIENT_TIMEOUT = Duration.ofMillis(1500);

    @TempDir
    Path dataDir;

    @Test
    void aRatingDuringAnOutageIsRefusedForNowAndTakenOnceTheBrokerIsBack() throws Exception {
        EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.start(dataDir, 0, false);
        String bootstrap = broker.bootstrapServers();
        TestKafka kafka = new TestKafka(bootstrap, "embedded, restarted on its port");
        try {
            Topics topics = HumanFixtures.freshTopics("human-outage");
            TopicAdmin.ensureTopics(bootstrap, topics, 2, (short) 1);
            try (var producer = HumanFixtures.producer(kafka)) {
                HumanFixtures.send(producer, topics, rollout("g0", 0, 1, "12+30=", "42", 3));
            }
            String timeout = Long.toString(CLIENT_TIMEOUT.toMillis());
            HumanScorerConfig config = HumanScorerConfig.defaults(bootstrap).withTopics(topics).withAddress("127.0.0.1", 0)
                    .withClientConfig(new KafkaClientConfig(Map.of("max.block.ms", timeout, "request.timeout.ms", "1000",
                            "delivery.timeout.ms", timeout, "default.api.timeout.ms", timeout)));
            try (HumanScorerService service = new HumanScorerService(config).start()) {
                await("the rollout waiting", () -> service.stats().waiting() == 1, service::stats);
                String id = service.next("alice").orElseThrow().rollout().rolloutId();

                broker.close();
                var refused = assertThrows(RewardNotWrittenException.class, () -> service.rate(id, "alice", 4, null));
                assertTrue(refused.getMessage().contains("try again"), refused.getMessage());
                Thread.sleep(2 * CLIENT_TIMEOUT.toMillis());   // the outage itself goes on
                assertTrue(service.failure().isEmpty(), "the follower still runs: " + service.failure());

                broker = broker.startAgain();
                assertEquals(id, service.next("alice").orElseThrow().rollout().rolloutId(), "the refused rating left it to rate");
                service.rate(id, "alice", 4, null);
                assertEquals(1, HumanFixtures.rewardsOf(kafka, topics, config.scorerId(), 1).size());
                assertTrue(service.failure().isEmpty(), "still running: " + service.failure());
            }
        } finally {
            broker.close();
        }
    }
}
