package dev.rlkafka.cli.observe;

import dev.rlkafka.schemas.KafkaClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * Reads rl topics without a consumer group (nothing is committed, no other reader is disturbed), committed
 * records only: once from the beginning to the end ({@link #readToEnd}), or live ({@link #follow}).
 */
public final class TopicReader implements AutoCloseable {
    private static final Duration POLL = Duration.ofMillis(200);

    private final KafkaConsumer<byte[], byte[]> consumer;
    private volatile boolean stopped;

    /** @param client the cluster's client settings ({@link KafkaClientConfig#NONE} for a plain-text cluster) */
    public TopicReader(String bootstrap, KafkaClientConfig client) {
        this.consumer = new KafkaConsumer<>(properties(bootstrap, client));
    }

    static Properties properties(String bootstrap, KafkaClientConfig client) {
        Properties props = client.with(bootstrap);
        props.put(ConsumerConfig.CLIENT_ID_CONFIG, "rlkafka-reader");
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        // the services write in transactions: an aborted record is not part of the run
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        // a scored group may be 16 MiB and a weight chunk 10 MiB (TopicSpec): one must fit a fetch whole
        props.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, 20 * 1024 * 1024);
        props.put(ConsumerConfig.FETCH_MAX_BYTES_CONFIG, 64 * 1024 * 1024);
        props.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        props.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        return props;
    }

    /**
     * Every record the topics hold now, partition by partition in offset order, then returns; records written
     * meanwhile are left out, so a run still going is read as of this call.
     *
     * @throws IllegalArgumentException when a topic does not exist
     * @throws IllegalStateException    when the end is not reached within {@code timeout}
     */
    public void readToEnd(List<String> topics, Duration timeout, Consumer<RawRecord> handler) {
        try {
            readToEndOnce(topics, timeout, handler);
        } catch (WakeupException e) {
            if (!stopped) throw e;
        }
    }

    private void readToEndOnce(List<String> topics, Duration timeout, Consumer<RawRecord> handler) {
        List<TopicPartition> partitions = assign(topics);
        consumer.seekToBeginning(partitions);
        // read_committed: these are the last stable offsets, so an open transaction is not waited for
        Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
        long deadline = System.nanoTime() + timeout.toNanos();
        // position, not the last offset seen: a transaction's commit marker sits after its last record
        while (partitions.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp))) {
            if (stopped) return;
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("reading " + topics + " to its end " + end + " took over " + timeout.toSeconds() + " s");
            }
            for (ConsumerRecord<byte[], byte[]> rec : poll()) {
                TopicPartition tp = new TopicPartition(rec.topic(), rec.partition());
                if (rec.offset() < end.get(tp)) handler.accept(raw(rec));
            }
        }
    }

    /**
     * Records of {@code topic} as they come, from the beginning or from now, until {@code handler} returns false
     * or {@link #stop()}.
     */
    public void follow(String topic, boolean fromBeginning, Predicate<RawRecord> handler) {
        try {
            followOnce(topic, fromBeginning, handler);
        } catch (WakeupException e) {
            if (!stopped) throw e;
        }
    }

    private void followOnce(String topic, boolean fromBeginning, Predicate<RawRecord> handler) {
        List<TopicPartition> partitions = assign(List.of(topic));
        if (fromBeginning) consumer.seekToBeginning(partitions);
        else consumer.seekToEnd(partitions);
        partitions.forEach(consumer::position);   // resolve "end" now, not at the first poll
        while (!stopped) {
            for (ConsumerRecord<byte[], byte[]> rec : poll()) {
                if (!handler.test(raw(rec))) return;
            }
        }
    }

    /** Makes a {@link #readToEnd} or {@link #follow} on another thread return soon (Ctrl-C); they then return normally. */
    public void stop() {
        stopped = true;
        consumer.wakeup();
    }

    /** Whether {@link #stop()} was called: a read that returned may have ended early. */
    public boolean stopped() {
        return stopped;
    }

    private Iterable<ConsumerRecord<byte[], byte[]>> poll() {
        return consumer.poll(POLL);
    }

    private List<TopicPartition> assign(List<String> topics) {
        Map<String, List<PartitionInfo>> existing = consumer.listTopics();
        List<TopicPartition> partitions = new ArrayList<>();
        for (String topic : topics) {
            List<PartitionInfo> infos = existing.get(topic);
            if (infos == null || infos.isEmpty()) throw new IllegalArgumentException(missing(topic, existing.keySet()));
            infos.forEach(p -> partitions.add(new TopicPartition(topic, p.partition())));
        }
        consumer.assign(partitions);
        return partitions;
    }

    /** Names the topic and the ones of the same kind that do exist: usually the prefix was wrong. */
    private static String missing(String topic, Set<String> existing) {
        Set<String> alike = new TreeSet<>();
        TopicKind.of(topic).ifPresent(kind -> existing.stream()
                .filter(name -> name.endsWith(kind.defaultName()) || name.contains(kind.defaultName() + ".")).forEach(alike::add));
        return "topic " + topic + " does not exist" + (alike.isEmpty() ? "" : "; topics of that kind: " + alike);
    }

    private static RawRecord raw(ConsumerRecord<byte[], byte[]> rec) {
        return new RawRecord(rec.topic(), rec.partition(), rec.offset(), rec.key(), rec.value());
    }

    @Override
    public void close() {
        consumer.close();
    }
}
