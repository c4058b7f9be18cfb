package dev.rlkafka.trainer;

import dev.rlkafka.schemas.Sha256;
import dev.rlkafka.schemas.WeightChunks;
import dev.rlkafka.schemas.avro.ScoredGroup;
import dev.rlkafka.schemas.avro.WeightChunk;
import dev.rlkafka.schemas.serde.RlSerdes;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** Test helpers that write to and read whole topics (committed records only). */
final class TopicReader {
    private static final Duration DEADLINE = Duration.ofSeconds(30);

    private TopicReader() {
    }

    /** Every committed record of {@code topic}, partition by partition, in offset order. */
    static List<ConsumerRecord<byte[], byte[]>> readAll(String bootstrap, String topic) {
        try (var consumer = new KafkaConsumer<>(Map.<String, Object>of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false), new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = consumer.partitionsFor(topic).stream()
                    .map(p -> new TopicPartition(topic, p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            List<ConsumerRecord<byte[], byte[]>> records = new ArrayList<>();
            long deadline = System.nanoTime() + DEADLINE.toNanos();
            while (partitions.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp))) {
                if (System.nanoTime() > deadline) fail("reading " + topic + " to " + end + " took over " + DEADLINE);
                consumer.poll(Duration.ofMillis(100)).forEach(records::add);
            }
            records.sort((a, b) -> a.partition() != b.partition() ? a.partition() - b.partition() : Long.compare(a.offset(), b.offset()));
            return records;
        }
    }

    /** End offsets of {@code topic} as a consumer with {@code isolation} sees them (read_committed: last stable offsets). */
    static Map<TopicPartition, Long> endOffsets(String bootstrap, String topic, String isolation) {
        try (var consumer = new KafkaConsumer<>(Map.<String, Object>of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, isolation), new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            return consumer.endOffsets(consumer.partitionsFor(topic).stream().map(p -> new TopicPartition(topic, p.partition())).toList());
        }
    }

    static void produce(String bootstrap, String topic, List<ScoredGroup> groups, List<byte[]> extraValues) throws Exception {
        try (var producer = new KafkaProducer<>(Map.<String, Object>of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ProducerConfig.ACKS_CONFIG, "all"), new StringSerializer(), new ByteArraySerializer())) {
            List<Future<RecordMetadata>> sends = new ArrayList<>();
            for (ScoredGroup g : groups) {
                sends.add(producer.send(new ProducerRecord<>(topic, g.getGroupId(), RlSerdes.scoredGroup().codec().encode(topic, g))));
            }
            for (int i = 0; i < extraValues.size(); i++) {
                sends.add(producer.send(new ProducerRecord<>(topic, "extra-" + i, extraValues.get(i))));
            }
            // a failed send must fail the test here, not show up later as a group the trainer "skipped"
            for (Future<RecordMetadata> send : sends) send.get();
        }
    }

    /**
     * The versions on the weights topic in order of appearance, each reassembled and checksummed. Fails when a
     * version is incomplete, fails its sha256, appears twice (two publishes) or out of order.
     *
     * @return version → sha256
     */
    static Map<Long, String> publishedVersions(String bootstrap, String topic) {
        Map<Long, String> versions = new LinkedHashMap<>();
        WeightChunks.Assembler assembler = new WeightChunks.Assembler();
        long last = -1;
        for (var rec : readAll(bootstrap, topic)) {
            WeightChunk chunk = RlSerdes.weightChunk().codec().decode(rec);
            assertEquals(Long.toString(chunk.getVersion()), new String(rec.key(), java.nio.charset.StandardCharsets.UTF_8), "record key");
            var whole = assembler.add(chunk);   // throws on a bad checksum or disagreeing chunks
            if (whole.isPresent()) {
                long v = chunk.getVersion();
                assertTrue(!versions.containsKey(v), "version " + v + " was published twice (first sha256 " + versions.get(v)
                        + ", again " + chunk.getSha256() + ")");
                assertTrue(v > last, "version " + v + " published after version " + last);
                versions.put(v, Sha256.hex(whole.get()));
                last = v;
            }
        }
        assertEquals(0, assembler.pending(), "versions with missing chunks on " + topic);
        return versions;
    }
}
