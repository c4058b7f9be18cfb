package dev.rlkafka.schemas;

import dev.rlkafka.kafka.KafkaExtension;
import dev.rlkafka.kafka.TestKafka;
import dev.rlkafka.schemas.avro.DeadLetter;
import dev.rlkafka.schemas.avro.Prompt;
import dev.rlkafka.schemas.serde.AvroSerde;
import dev.rlkafka.schemas.serde.RecordDecodingException;
import dev.rlkafka.schemas.serde.RlSerdes;
import dev.rlkafka.schemas.serde.WriterSchemas;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ListOffsetsResult.ListOffsetsResultInfo;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The serdes and TopicAdmin against a real broker (auto-creation is off there: topics must exist). */
@ExtendWith(KafkaExtension.class)
class KafkaRoundTripTest {
    private static final AtomicInteger RUNS = new AtomicInteger();

    /** A fresh prefix per test, so tests share one broker without seeing each other's records. */
    private static Topics freshTopics() {
        return Topics.withPrefix("t" + ProcessHandle.current().pid() + "-" + RUNS.incrementAndGet() + ".");
    }

    @Test
    void topicAdminCreatesEveryTopicWithPrefixPartitionsAndConfigs(TestKafka kafka) throws Exception {
        Topics topics = freshTopics();
        try (Admin admin = admin(kafka)) {
            List<TopicSpec> specs = TopicAdmin.ensureTopics(admin, topics, 3, (short) 1);
            assertEquals(topics.all(), specs.stream().map(TopicSpec::name).toList());
            assertTrue(specs.stream().allMatch(s -> s.name().startsWith(topics.prefix())));

            var descriptions = admin.describeTopics(topics.all()).allTopicNames().get();
            var configs = admin.describeConfigs(topics.all().stream()
                    .map(t -> new ConfigResource(ConfigResource.Type.TOPIC, t)).toList()).all().get();
            for (TopicSpec spec : specs) {
                assertEquals(spec.partitions(), descriptions.get(spec.name()).partitions().size(), spec.name());
                Config config = configs.get(new ConfigResource(ConfigResource.Type.TOPIC, spec.name()));
                spec.configs().forEach((key, value) ->
                        assertEquals(value, config.get(key).value(), spec.name() + " " + key));
            }
            for (String name : topics.coPartitioned()) {
                assertEquals(3, descriptions.get(name).partitions().size(), name);
            }

            // describe() reports the same, and a second ensure is a no-op
            Map<String, TopicState> states = TopicAdmin.describe(admin, topics);
            assertEquals(topics.all(), List.copyOf(states.keySet()));
            TopicState weights = states.get(topics.policyWeights());
            assertEquals(String.valueOf(TopicSpec.WEIGHT_CHUNK_BYTES + 2 * 1024 * 1024), weights.configs().get(TopicSpec.MAX_MESSAGE_BYTES));
            assertEquals("-1", weights.configs().get(TopicSpec.RETENTION_MS));
            assertEquals(specs, TopicAdmin.ensureTopics(admin, topics, 3, (short) 1));
        }
    }

    @Test
    void burstsProducedTheMomentEnsureTopicsReturnsLandWhole(TestKafka kafka) throws Exception {
        // an idempotent producer with several requests in flight, each batch small: the pattern that lost a first
        // batch when it reached a partition its leader did not serve yet (KAFKA-15591). Without the wait in
        // ensureTopics about a third of fresh topics hit it here, so three of them almost always catch it.
        for (int round = 0; round < 3; round++) {
            Topics topics = freshTopics();
            TopicAdmin.ensureTopics(kafka.bootstrapServers(), topics, 4, (short) 1);
            int records = 400;
            List<Future<RecordMetadata>> sends = new ArrayList<>();
            var producer = new KafkaProducer<>(burstProducerConfig(kafka), new StringSerializer(), new ByteArraySerializer());
            try {
                for (int i = 0; i < records; i++) sends.add(producer.send(new ProducerRecord<>(topics.rollouts(), "k" + i, new byte[64])));
                for (Future<RecordMetadata> send : sends) send.get(15, TimeUnit.SECONDS);
            } finally {
                producer.close(Duration.ZERO);   // a batch stuck on the race never completes; close() would wait for it forever
            }
            try (Admin admin = admin(kafka)) {
                Map<TopicPartition, OffsetSpec> partitions = new HashMap<>();
                for (int p = 0; p < 4; p++) partitions.put(new TopicPartition(topics.rollouts(), p), OffsetSpec.latest());
                long onTopic = admin.listOffsets(partitions).all().get().values().stream().mapToLong(ListOffsetsResultInfo::offset).sum();
                assertEquals(records, onTopic, "records on " + topics.rollouts());
            }
        }
    }

    private static Map<String, Object> burstProducerConfig(TestKafka kafka) {
        Map<String, Object> config = new HashMap<>(producerConfig(kafka));
        config.put(ProducerConfig.LINGER_MS_CONFIG, 0);
        config.put(ProducerConfig.BATCH_SIZE_CONFIG, 512);
        return config;
    }

    @Test
    void ensureTopicsRefusesAnExistingTopicWithAnotherPartitionCount(TestKafka kafka) {
        Topics topics = freshTopics();
        TopicAdmin.ensureTopics(kafka.bootstrapServers(), topics, 2, (short) 1);

        var e = assertThrows(IllegalStateException.class,
                () -> TopicAdmin.ensureTopics(kafka.bootstrapServers(), topics, 4, (short) 1));
        assertTrue(e.getMessage().contains(topics.prompts()) && e.getMessage().contains("2 partitions, expected 4"), e.getMessage());
    }

    @Test
    void describeSaysWhichTopicsAreMissing(TestKafka kafka) {
        Topics topics = freshTopics();
        Map<String, TopicState> states = TopicAdmin.describe(kafka.bootstrapServers(), KafkaClientConfig.NONE, topics);
        assertTrue(states.values().stream().noneMatch(TopicState::exists), states.toString());
        assertTrue(states.get(topics.rollouts()).summary().contains("missing"));
    }

    @Test
    void everyRecordTypeRoundTripsThroughItsTopic(TestKafka kafka) {
        Topics topics = freshTopics();
        TopicAdmin.ensureTopics(kafka.bootstrapServers(), topics, 2, (short) 1);
        List<String> topicOfSample = List.of(topics.prompts(), topics.rollouts(), topics.rewards(),
                topics.scoredGroups(), topics.policyWeights(), topics.metrics(), topics.deadLetters());
        List<SpecificRecord> samples = Samples.all();
        for (int i = 0; i < samples.size(); i++) {
            SpecificRecord sample = samples.get(i);
            String topic = topicOfSample.get(i);
            List<SpecificRecord> read = produceAndConsume(kafka, topic, sample);
            assertEquals(List.of(sample), read, sample.getClass().getSimpleName() + " via " + topic);
        }
    }

    @Test
    void aRecordWrittenWithAnOlderSchemaIsReadByTheNewReader(TestKafka kafka) throws Exception {
        Topics topics = freshTopics();
        TopicAdmin.ensureTopics(kafka.bootstrapServers(), topics, 1, (short) 1);
        // Prompt as an older producer wrote it: no referenceAnswer, no groupSize
        Schema old = new Schema.Parser().parse("""
                {"type": "record", "name": "Prompt", "namespace": "dev.rlkafka.schemas.avro", "fields": [
                  {"name": "promptId", "type": "string"}, {"name": "task", "type": "string"},
                  {"name": "text", "type": "string"},
                  {"name": "createdAtMs", "type": {"type": "long", "logicalType": "timestamp-millis"}}]}""");
        GenericRecord record = new GenericData.Record(old);
        record.put("promptId", "old-1");
        record.put("task", "arithmetic");
        record.put("text", "1+1=");
        record.put("createdAtMs", 77L);
        ByteBuffer encoded = new BinaryMessageEncoder<GenericRecord>(GenericData.get(), old).encode(record);
        byte[] bytes = new byte[encoded.remaining()];
        encoded.get(bytes);
        produceRaw(kafka, topics.prompts(), 0, bytes);

        ConsumerRecord<byte[], byte[]> consumed = consumeRaw(kafka, topics.prompts(), 1).get(0);
        var unknown = assertThrows(RecordDecodingException.class, () -> RlSerdes.prompt().codec().decode(consumed));
        assertEquals(RecordDecodingException.Reason.UNKNOWN_FINGERPRINT, unknown.reason());
        assertTrue(unknown.getMessage().contains(topics.prompts() + "-0@0"), unknown.getMessage());

        WriterSchemas.register(old);
        Prompt prompt = RlSerdes.prompt().codec().decode(consumed);
        assertEquals("old-1", prompt.getPromptId());
        assertEquals(null, prompt.getReferenceAnswer());
        assertEquals(0, prompt.getGroupSize(), "groupSize takes its default");
    }

    @Test
    void garbageOnATopicIsNamedWithPartitionAndOffsetAndDeadLettersWithItsBytes(TestKafka kafka) {
        Topics topics = freshTopics();
        TopicAdmin.ensureTopics(kafka.bootstrapServers(), topics, 3, (short) 1);
        byte[] garbage = "not avro at all".getBytes();
        produceRaw(kafka, topics.rollouts(), 2, RlSerdes.rollout().serializer().serialize(topics.rollouts(), Samples.rollout(0)));
        produceRaw(kafka, topics.rollouts(), 2, garbage);

        List<ConsumerRecord<byte[], byte[]>> consumed = consumeRaw(kafka, topics.rollouts(), 2);
        assertEquals(Samples.rollout(0), RlSerdes.rollout().codec().decode(consumed.get(0)));
        var e = assertThrows(RecordDecodingException.class, () -> RlSerdes.rollout().codec().decode(consumed.get(1)));
        assertTrue(e.getMessage().contains(topics.rollouts() + "-2@1"), e.getMessage());
        assertTrue(e.getMessage().contains("fingerprint none"), e.getMessage());

        DeadLetter letter = DeadLetters.undecodable(consumed.get(1), e, "schemas-test");
        produceAndConsume(kafka, topics.deadLetters(), letter).forEach(read -> {
            DeadLetter dead = (DeadLetter) read;
            ByteBuffer original = dead.getOriginalBytes();
            byte[] originalBytes = new byte[original.remaining()];
            original.get(originalBytes);
            assertArrayEquals(garbage, originalBytes);
            assertEquals(2, dead.getSourcePartition());
            assertEquals(1L, dead.getSourceOffset());
        });
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private static List<SpecificRecord> produceAndConsume(TestKafka kafka, String topic, SpecificRecord value) {
        AvroSerde serde = RlSerdes.of(value.getClass());
        try (var producer = new KafkaProducer<String, SpecificRecord>(producerConfig(kafka),
                new StringSerializer(), (Serializer<SpecificRecord>) serde.serializer())) {
            producer.send(new ProducerRecord<>(topic, "k", value));
            producer.flush();
        }
        List<SpecificRecord> seen = new ArrayList<>();
        try (var consumer = new KafkaConsumer<String, SpecificRecord>(consumerConfig(kafka),
                new StringDeserializer(), (Deserializer<SpecificRecord>) serde.deserializer())) {
            var partitions = consumer.partitionsFor(topic).stream().map(p -> new TopicPartition(topic, p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            while (seen.isEmpty() && System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(100)).forEach(r -> seen.add(r.value()));
            }
        }
        assertEquals(1, seen.size(), "expected 1 record on " + topic + ", saw " + seen);
        return seen;
    }

    private static void produceRaw(TestKafka kafka, String topic, int partition, byte[] value) {
        try (var producer = new KafkaProducer<>(producerConfig(kafka), new ByteArraySerializer(), new ByteArraySerializer())) {
            producer.send(new ProducerRecord<>(topic, partition, new byte[] {'k'}, value));
            producer.flush();
        }
    }

    private static List<ConsumerRecord<byte[], byte[]>> consumeRaw(TestKafka kafka, String topic, int count) {
        List<ConsumerRecord<byte[], byte[]>> seen = new ArrayList<>();
        try (var consumer = new KafkaConsumer<>(consumerConfig(kafka), new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            var partitions = consumer.partitionsFor(topic).stream().map(p -> new TopicPartition(topic, p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            while (seen.size() < count && System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(100)).forEach(seen::add);
            }
        }
        assertEquals(count, seen.size(), "expected " + count + " records on " + topic + ", saw " + seen.size());
        return seen;
    }

    private static Map<String, Object> producerConfig(TestKafka kafka) {
        // the scored group and weight samples are small; real producers raise max.request.size to the topic's cap
        return Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
                ProducerConfig.MAX_BLOCK_MS_CONFIG, 10_000);
    }

    private static Map<String, Object> consumerConfig(TestKafka kafka) {
        return Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    }

    private static Admin admin(TestKafka kafka) {
        return Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()));
    }
}
