package dev.rlkafka.reward;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.fail;

/** How the reward-service tests read a topic: from the start, committed records only, until what they wait for is there. */
public final class TopicReads {
    private TopicReads() {
    }

    /**
     * Reads {@code topic} until {@code done} holds, then {@code linger} more so that a record too many would be seen
     * ({@link Duration#ZERO}: not at all); fails after {@code deadline} naming what it saw.
     */
    public static List<ConsumerRecord<String, byte[]>> readUntil(String bootstrap, String topic,
                                                                Predicate<List<ConsumerRecord<String, byte[]>>> done,
                                                                Duration deadline, Duration linger) {
        List<ConsumerRecord<String, byte[]>> got = new ArrayList<>();
        try (var consumer = new KafkaConsumer<String, byte[]>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ConsumerConfig.GROUP_ID_CONFIG, "test-" + UUID.randomUUID(),
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed"), new StringDeserializer(), new ByteArrayDeserializer())) {
            consumer.subscribe(List.of(topic));
            long end = System.nanoTime() + deadline.toNanos();
            while (!done.test(got)) {
                if (System.nanoTime() > end) {
                    fail("after " + deadline + " on " + topic + " saw " + got.size() + " records with keys "
                            + got.stream().map(ConsumerRecord::key).toList());
                }
                consumer.poll(Duration.ofMillis(200)).forEach(got::add);
            }
            if (!linger.isZero()) consumer.poll(linger).forEach(got::add);
        }
        return got;
    }
}
