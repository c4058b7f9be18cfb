package dev.rlkafka.generator;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.fail;

/** Reads one topic from the beginning, committed records only, and keeps what it saw, decoded. */
final class TopicReader<T> implements AutoCloseable {
    static final Duration DEADLINE = Duration.ofSeconds(45);

    private final String topic;
    private final KafkaConsumer<String, byte[]> consumer;
    private final Function<ConsumerRecord<String, byte[]>, T> decode;
    private final List<ConsumerRecord<String, byte[]>> records = new ArrayList<>();
    private final List<T> values = new ArrayList<>();

    TopicReader(String bootstrap, String topic, Function<ConsumerRecord<String, byte[]>, T> decode) {
        this.topic = topic;
        this.decode = decode;
        this.consumer = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
                ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, 32 * 1024 * 1024),
                new StringDeserializer(), new ByteArrayDeserializer());
        List<TopicPartition> partitions = consumer.partitionsFor(topic).stream()
                .map(p -> new TopicPartition(topic, p.partition())).toList();
        consumer.assign(partitions);
        consumer.seekToBeginning(partitions);
    }

    /** Polls until {@code done} holds for everything seen so far; fails with what was seen at the deadline. */
    List<T> await(String what, Predicate<List<T>> done) {
        long deadline = System.nanoTime() + DEADLINE.toNanos();
        while (!done.test(values)) {
            if (System.nanoTime() > deadline) fail("after " + DEADLINE + " on " + topic + " still waiting for " + what
                    + "; saw " + values.size() + " records: " + values);
            pollOnce(Duration.ofMillis(100));
        }
        return List.copyOf(values);
    }

    /** Reads for {@code window} more (a bounded look for records that must not come) and returns all seen. */
    List<T> readFor(Duration window) {
        long end = System.nanoTime() + window.toNanos();
        while (System.nanoTime() < end) pollOnce(Duration.ofMillis(100));
        return List.copyOf(values);
    }

    List<ConsumerRecord<String, byte[]>> records() {
        return List.copyOf(records);
    }

    private void pollOnce(Duration timeout) {
        for (var rec : consumer.poll(timeout)) {
            records.add(rec);
            values.add(decode.apply(rec));
        }
    }

    @Override
    public void close() {
        consumer.close();
    }
}
