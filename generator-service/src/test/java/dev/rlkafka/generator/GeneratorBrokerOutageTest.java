package dev.rlkafka.generator;

import dev.rlkafka.kafka.EmbeddedKafkaBroker;
import dev.rlkafka.schemas.KafkaClientConfig;
import dev.rlkafka.schemas.TopicAdmin;
import dev.rlkafka.schemas.Topics;
import dev.rlkafka.schemas.avro.Rollout;
import dev.rlkafka.schemas.serde.RlSerdes;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import static dev.rlkafka.generator.Fixtures.TINY;
import static dev.rlkafka.generator.GeneratorServiceKafkaTest.await;
import static dev.rlkafka.generator.GeneratorServiceKafkaTest.publish;
import static dev.rlkafka.generator.GeneratorServiceKafkaTest.sendPrompts;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The broker goes away while the generator works, for longer than its producer's {@code max.block.ms}: the
 * transaction calls time out, and Kafka allows only retrying them. The generator must wait the outage out and
 * carry on, one group per prompt, none twice.
 */
class GeneratorBrokerOutageTest {
    private static final int G = 2;
    private static final int PROMPTS = 300;
    private static final Duration MAX_BLOCK = Duration.ofMillis(1500);

    @TempDir
    Path dataDir;

    @Test
    void aBrokerOutageLongerThanMaxBlockStallsTheGeneratorInsteadOfStoppingIt() throws Exception {
        Topics topics = Topics.withPrefix("outage.");
        EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.start(dataDir, 0, false);
        String bootstrap = broker.bootstrapServers();
        TopicAdmin.ensureTopics(bootstrap, topics, 2, (short) 1);
        publish(bootstrap, topics, 0, Fixtures.weights(TINY, 1), false);
        GeneratorConfig config = GeneratorConfig.defaults(bootstrap).withTopics(topics)
                .withGroupSize(G).withSampling(1.0f, 0, 1.0f, 4).withBatching(4, Duration.ZERO)
                .withStaleness(1000, 1)
                .withClientConfig(new KafkaClientConfig(Map.of("max.block.ms", Long.toString(MAX_BLOCK.toMillis()),
                        "request.timeout.ms", "1000", "delivery.timeout.ms", "1500")));
        long outageStartMs;
        try (GeneratorService service = new GeneratorService(config).start()) {
            try (var producer = new KafkaProducer<String, byte[]>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                    ProducerConfig.ACKS_CONFIG, "all"), new StringSerializer(), new ByteArraySerializer())) {
                sendPrompts(producer, topics, IntStream.range(0, PROMPTS).mapToObj(i -> "p" + i).toArray(String[]::new));
            }
            await("the generator at work", () -> service.groupsAdmitted() >= 8);
            outageStartMs = System.currentTimeMillis();
            broker.close();
            Thread.sleep(4 * MAX_BLOCK.toMillis());   // several timed-out calls, each retried
            assertTrue(service.isRunning() && service.failure().isEmpty(), "still running after the outage: " + service.failure());
            broker = broker.startAgain();

            try (var rollouts = new TopicReader<>(bootstrap, topics.rollouts(), r -> RlSerdes.rollout().codec().decode(r))) {
                rollouts.await("every prompt's group", seen -> seen.size() >= PROMPTS * G);
                List<Rollout> seen = rollouts.readFor(Duration.ofMillis(500));   // a duplicate would show up here
                Map<String, Long> perGroup = seen.stream().collect(Collectors.groupingBy(Rollout::getGroupId, Collectors.counting()));
                assertEquals(PROMPTS, perGroup.size());
                assertTrue(perGroup.values().stream().allMatch(n -> n == G), "G rollouts per prompt, none twice: " + perGroup);
                assertTrue(seen.stream().anyMatch(r -> r.getCreatedAtMs().toEpochMilli() > outageStartMs),
                        "the generator still had prompts to sample when the broker went away");
            }
            assertTrue(service.isRunning() && service.failure().isEmpty(), "still running: " + service.failure());
        } finally {
            broker.close();
        }
    }
}
