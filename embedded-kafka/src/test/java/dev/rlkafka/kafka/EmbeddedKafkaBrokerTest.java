package dev.rlkafka.kafka;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@ExtendWith(KafkaExtension.class)
class EmbeddedKafkaBrokerTest {

    @Test
    void recordsProducedTransactionallyAreReadCommitted(TestKafka kafka) throws Exception {
        String topic = "broker-test-" + System.nanoTime();
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", kafka.bootstrapServers()))) {
            admin.createTopics(List.of(new NewTopic(topic, 2, (short) 1))).all().get();
            assertTrue(admin.listTopics().names().get().contains(topic));
        }
        // transactions need the transaction state log: this checks the single-node internal-topic settings
        try (var producer = new KafkaProducer<>(Map.<String, Object>of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
                ProducerConfig.TRANSACTIONAL_ID_CONFIG, "broker-test-tx"),
                new StringSerializer(), new StringSerializer())) {
            producer.initTransactions();
            producer.beginTransaction();
            for (int i = 0; i < 10; i++) {
                producer.send(new ProducerRecord<>(topic, "k" + i, "v" + i));
            }
            producer.commitTransaction();
        }
        List<String> seen = new ArrayList<>();
        try (var consumer = new KafkaConsumer<>(Map.<String, Object>of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
                ConsumerConfig.GROUP_ID_CONFIG, "broker-test-group",
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed"),
                new StringDeserializer(), new StringDeserializer())) {
            consumer.subscribe(Set.of(topic));
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (seen.size() < 10 && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, String> rec : consumer.poll(Duration.ofMillis(200))) {
                    seen.add(rec.value());
                }
            }
        }
        assertEquals(10, seen.size(), "expected 10 committed records, saw " + seen);
    }

    @Test
    void aBrokerStartedAgainAfterCloseServesItsTopicsAtTheSameAddress(@TempDir Path dir) throws Exception {
        EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.start(dir, 0, false);
        try {
            String bootstrap = broker.bootstrapServers();
            try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
                admin.createTopics(List.of(new NewTopic("kept", 1, (short) 1))).all().get();
            }
            EmbeddedKafkaBroker running = broker;
            var e = assertThrows(IllegalStateException.class, running::startAgain);
            assertTrue(e.getMessage().contains("still runs"), e.getMessage());
            broker.close();
            broker = broker.startAgain();
            assertEquals(bootstrap, broker.bootstrapServers());
            try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
                assertTrue(admin.listTopics().names().get().contains("kept"));
            }
        } finally {
            broker.close();
        }
        EmbeddedKafkaBroker scratch = EmbeddedKafkaBroker.start();
        scratch.close();
        var e = assertThrows(IllegalStateException.class, scratch::startAgain);
        assertTrue(e.getMessage().contains("deleted its data"), e.getMessage());
    }

    @Test
    void autoCreationIsOffSoATypoedTopicFailsLoudly(TestKafka kafka) throws Exception {
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", kafka.bootstrapServers()))) {
            assertTrue(admin.listTopics().names().get().stream().noneMatch(t -> t.startsWith("typo-")));
        }
        try (var producer = new KafkaProducer<>(Map.<String, Object>of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
                ProducerConfig.MAX_BLOCK_MS_CONFIG, 2000),
                new StringSerializer(), new StringSerializer())) {
            var send = producer.send(new ProducerRecord<>("typo-topic", "k", "v"));
            Exception e = org.junit.jupiter.api.Assertions.assertThrows(Exception.class, send::get);
            assertTrue(e.getMessage().contains("typo-topic"), e.getMessage());
        }
    }
}
