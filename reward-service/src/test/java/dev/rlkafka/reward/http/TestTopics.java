package dev.rlkafka.reward.http;

import dev.rlkafka.kafka.TestKafka;
import dev.rlkafka.schemas.TopicAdmin;
import dev.rlkafka.schemas.Topics;
import dev.rlkafka.schemas.avro.Rollout;
import dev.rlkafka.schemas.serde.RlSerdes;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import dev.rlkafka.reward.TopicReads;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.fail;

/** One test's run on the shared test broker: its own topic prefix, and ways to write, read and wait. */
final class TestTopics {
    static final Duration DEADLINE = Duration.ofSeconds(45);

    final TestKafka kafka;
    final Topics topics;

    private TestTopics(TestKafka kafka, Topics topics) {
        this.kafka = kafka;
        this.topics = topics;
    }

    /** Fresh topics with {@code partitions} partitions behind a random prefix. */
    static TestTopics create(TestKafka kafka, String name, int partitions) {
        Topics topics = Topics.withPrefix(name + "-" + UUID.randomUUID().toString().substring(0, 8) + ".");
        TopicAdmin.ensureTopics(kafka.bootstrapServers(), topics, partitions, (short) 1);
        return new TestTopics(kafka, topics);
    }

    String bootstrap() {
        return kafka.bootstrapServers();
    }

    /** Writes rollouts keyed by group id, as a generator does; returns each rollout id's value bytes. */
    Map<String, byte[]> writeRollouts(List<Rollout> rollouts) throws Exception {
        Map<String, byte[]> bytes = new HashMap<>();
        try (var producer = producer()) {
            for (Rollout rollout : rollouts) {
                byte[] value = RlSerdes.rollout().serializer().serialize(topics.rollouts(), rollout);
                bytes.put(rollout.getRolloutId(), value);
                producer.send(new ProducerRecord<>(topics.rollouts(), rollout.getGroupId(), value)).get();
            }
        }
        return bytes;
    }

    void writeRaw(String topic, String key, byte[] value) throws Exception {
        try (var producer = producer()) {
            producer.send(new ProducerRecord<>(topic, key, value)).get();
        }
    }

    private KafkaProducer<String, byte[]> producer() {
        return new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap(), ProducerConfig.ACKS_CONFIG, "all"),
                new StringSerializer(), new ByteArraySerializer());
    }

    /** Reads {@code topic} from the start (committed records only) until {@code done} holds, then half a second more. */
    List<ConsumerRecord<String, byte[]>> read(String topic, Predicate<List<ConsumerRecord<String, byte[]>>> done) {
        return TopicReads.readUntil(bootstrap(), topic, done, DEADLINE, Duration.ofMillis(500));
    }

    /** The offsets consumer group {@code groupId} has committed on the rollouts topic. */
    Map<TopicPartition, Long> committed(String groupId) throws Exception {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap()))) {
            Map<TopicPartition, OffsetAndMetadata> offsets = admin.listConsumerGroupOffsets(groupId)
                    .partitionsToOffsetAndMetadata().get();
            Map<TopicPartition, Long> out = new HashMap<>();
            offsets.forEach((tp, o) -> {
                if (o != null && tp.topic().equals(topics.rollouts())) out.put(tp, o.offset());
            });
            return out;
        }
    }

    /** Total committed offset of {@code groupId} over the rollouts partitions. */
    long committedTotal(String groupId) throws Exception {
        return committed(groupId).values().stream().mapToLong(Long::longValue).sum();
    }

    /** Waits until {@code condition} holds; fails naming {@code what} and what {@code seen} says. */
    static void await(String what, Check condition, Seen seen) throws Exception {
        long deadline = System.nanoTime() + DEADLINE.toNanos();
        while (!condition.holds()) {
            if (System.nanoTime() > deadline) fail("after " + DEADLINE + " still not " + what + "; seen: " + seen.get());
            Thread.sleep(100);   // polling a condition with a deadline, not waiting for time to pass
        }
    }

    interface Check {
        boolean holds() throws Exception;
    }

    interface Seen {
        String get() throws Exception;
    }

    static byte[] bytes(ByteBuffer buffer) {
        byte[] out = new byte[buffer.remaining()];
        buffer.duplicate().get(out);
        return out;
    }
}
