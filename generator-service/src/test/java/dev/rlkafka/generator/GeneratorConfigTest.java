package dev.rlkafka.generator;

import dev.rlkafka.schemas.KafkaClientConfig;
import dev.rlkafka.schemas.Topics;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class GeneratorConfigTest {

    @Test
    void defaultsAreTheDocumentedOnes() {
        GeneratorConfig c = GeneratorConfig.defaults("localhost:9092");
        assertTrue(c.generatorId().matches("generator-[0-9a-f]{8}"), c.generatorId());
        assertNotEquals(c.generatorId(), GeneratorConfig.defaults("localhost:9092").generatorId());
        assertEquals("rlkafka-generators", c.groupId());
        assertEquals(8, c.groupSize());
        assertEquals(16, c.maxBatchPrompts());
        assertEquals(Duration.ofMillis(20), c.linger());
        assertEquals(2, c.maxStaleness());
        assertEquals("cpu", c.device());
        assertEquals(1, c.intraOpThreads());
    }

    @Test
    void theGroupFollowsTheTopicPrefixUnlessSetByHand() {
        GeneratorConfig c = GeneratorConfig.defaults("b:9092").withTopics(Topics.withPrefix("run7."));
        assertEquals("run7.rlkafka-generators", c.groupId());
        assertEquals("mine", c.withGroupId("mine").withTopics(Topics.withPrefix("run8.")).groupId());
    }

    @Test
    void badValuesAreRejectedByName() {
        GeneratorConfig c = GeneratorConfig.defaults("b:9092");
        assertMessage(() -> c.withGroupSize(0), "groupSize", "0");
        assertMessage(() -> c.withBatching(0, Duration.ZERO), "maxBatchPrompts", "0");
        assertMessage(() -> c.withBatching(1, Duration.ofMillis(-1)), "linger", "-0.001");
        assertMessage(() -> c.withSampling(0f, 0, 1f, 8), "temperature", "0.0");
        assertMessage(() -> c.withSampling(1f, 0, 1f, 0), "maxTokens", "0");
        assertMessage(() -> c.withStaleness(-1, 8), "maxStaleness", "-1");
        assertMessage(() -> c.withStaleness(0, 0), "groupsPerVersion", "0");
        assertMessage(() -> c.withGeneratorId("has space"), "generatorId", "has space");
        assertMessage(() -> c.withIntraOpThreads(0), "intraOpThreads", "0");
    }

    @Test
    void kafkaSettingsAreTransactionalReadCommittedAndSizedForTheTopics() {
        GeneratorConfig c = GeneratorConfig.defaults("b:9092").withGeneratorId("g1").withBatching(4, Duration.ZERO);
        var consumer = GeneratorService.promptConsumerProperties(c);
        assertEquals("read_committed", consumer.get(ConsumerConfig.ISOLATION_LEVEL_CONFIG));
        assertEquals("false", consumer.get(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG));
        assertEquals(4, consumer.get(ConsumerConfig.MAX_POLL_RECORDS_CONFIG));
        var producer = GeneratorService.producerProperties(c);
        assertEquals("rlkafka-g1", producer.get(ProducerConfig.TRANSACTIONAL_ID_CONFIG));
        assertTrue((int) producer.get(ProducerConfig.MAX_REQUEST_SIZE_CONFIG) > 2 * 1024 * 1024);
        var weights = GeneratorService.weightsConsumerProperties(c);
        assertEquals("read_committed", weights.get(ConsumerConfig.ISOLATION_LEVEL_CONFIG));
        assertTrue((int) weights.get(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG) >= 10 * 1024 * 1024);
        assertTrue((int) weights.get(ConsumerConfig.FETCH_MAX_BYTES_CONFIG) >= 10 * 1024 * 1024);
    }

    @Test
    void theClustersClientSettingsReachEveryClientAndTheGeneratorsOwnWin() {
        GeneratorConfig c = GeneratorConfig.defaults("b:9092").withGeneratorId("g1").withClientConfig(new KafkaClientConfig(Map.of(
                "security.protocol", "SASL_SSL", "max.block.ms", "5000", "max.request.size", "1024")));
        for (var props : List.of(GeneratorService.promptConsumerProperties(c), GeneratorService.weightsConsumerProperties(c),
                GeneratorService.producerProperties(c), GeneratorService.deadLetterProducerProperties(c))) {
            assertEquals("SASL_SSL", props.get("security.protocol"));
            assertEquals("b:9092", props.get("bootstrap.servers"));
        }
        assertEquals("read_committed", GeneratorService.promptConsumerProperties(c).get(ConsumerConfig.ISOLATION_LEVEL_CONFIG));
        assertEquals("read_committed", GeneratorService.weightsConsumerProperties(c).get(ConsumerConfig.ISOLATION_LEVEL_CONFIG));
        var producer = GeneratorService.producerProperties(c);
        assertEquals("5000", producer.get("max.block.ms"));
        assertEquals("rlkafka-g1", producer.get(ProducerConfig.TRANSACTIONAL_ID_CONFIG));
        assertTrue((int) producer.get(ProducerConfig.MAX_REQUEST_SIZE_CONFIG) > 1024, "sized for the topics, whatever the file says");
    }

    private static void assertMessage(org.junit.jupiter.api.function.Executable build, String... parts) {
        var e = assertThrows(IllegalArgumentException.class, build);
        for (String part : parts) assertTrue(e.getMessage().contains(part), "message names " + part + ": " + e.getMessage());
    }
}
