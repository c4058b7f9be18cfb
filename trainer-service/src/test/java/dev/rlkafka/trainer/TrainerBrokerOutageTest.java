package dev.rlkafka.trainer;

import dev.rlkafka.kafka.EmbeddedKafkaBroker;
import dev.rlkafka.policy.model.Policy;
import dev.rlkafka.policy.weights.Checkpoint;
import dev.rlkafka.schemas.KafkaClientConfig;
import dev.rlkafka.schemas.Sha256;
import dev.rlkafka.schemas.TopicAdmin;
import dev.rlkafka.schemas.Topics;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The broker goes away while the trainer publishes versions, for longer than its producer's {@code max.block.ms}:
 * the commits time out, and Kafka allows only retrying them. The trainer must wait the outage out and carry on,
 * each version published once, its checkpoint the last version's weights.
 */
class TrainerBrokerOutageTest {
    private static final int GROUPS = 40;
    private static final int BATCH = 2;
    private static final Duration MAX_BLOCK = Duration.ofMillis(1500);

    @TempDir
    Path dir;

    @Test
    void aBrokerOutageLongerThanMaxBlockStallsTheTrainerInsteadOfStoppingIt() throws Exception {
        Topics topics = Topics.withPrefix("outage.");
        EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.start(dir.resolve("broker"), 0, false);
        String bootstrap = broker.bootstrapServers();
        try {
            TopicAdmin.ensureTopics(bootstrap, topics, 2, (short) 1);
            try (Policy sampler = Fixtures.tinyPolicy(7)) {
                TopicReader.produce(bootstrap, topics.scoredGroups(), Fixtures.sampledGroups(sampler, "g", GROUPS, 4, 11), List.of());
            }
            Path reference = dir.resolve("reference.ckpt");
            Fixtures.writeReference(reference, 7);
            TrainerConfig config = TrainerConfig.defaults(bootstrap, dir.resolve("ckpt"), reference).withTopics(topics)
                    .withBatching(BATCH, 1, GROUPS).withWeightChunkBytes(16 * 1024).withStop(0, true)
                    .withPollTimeout(Duration.ofMillis(100))
                    .withClientConfig(new KafkaClientConfig(Map.of("max.block.ms", Long.toString(MAX_BLOCK.toMillis()))));
            CountDownLatch step3 = new CountDownLatch(1), brokerDown = new CountDownLatch(1);
            try (TrainerService trainer = new TrainerService(config).onStep(r -> {
                if (r.step() != 3) return;
                step3.countDown();
                try {
                    brokerDown.await();   // on the publisher thread: the trainer goes no further until the broker is gone
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }).start()) {
                assertTrue(step3.await(60, TimeUnit.SECONDS), "the trainer at work");
                broker.close();
                brokerDown.countDown();
                Thread.sleep(4 * MAX_BLOCK.toMillis());   // several timed-out commits, each retried
                assertTrue(trainer.failure().isEmpty(), () -> "trainer stopped in the outage: " + trainer.failure().get());
                assertTrue(trainer.step() < GROUPS / BATCH, "the outage came before the last version: step " + trainer.step());
                broker = broker.startAgain();

                assertTrue(trainer.awaitStop(Duration.ofSeconds(90)), "trainer did not reach the end of the topic");
                assertTrue(trainer.failure().isEmpty(), () -> "trainer failed: " + trainer.failure().get());
                assertEquals(GROUPS / BATCH, trainer.step());
            }
            Map<Long, String> versions = TopicReader.publishedVersions(bootstrap, topics.policyWeights());
            assertEquals(LongStream.rangeClosed(0, GROUPS / BATCH).boxed().toList(), List.copyOf(versions.keySet()),
                    "every version once, none lost in the outage");
            assertEquals(versions.get((long) GROUPS / BATCH), Sha256.hex(Checkpoint.read(config.checkpointPath()).weights()),
                    "the checkpoint holds the last published version");
        } finally {
            broker.close();
        }
    }
}
