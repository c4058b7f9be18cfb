package dev.rlkafka.generator;

import dev.rlkafka.kafka.KafkaExtension;
import dev.rlkafka.kafka.TestKafka;
import dev.rlkafka.policy.model.ModelConfig;
import dev.rlkafka.policy.tokenizer.ByteTokenizer;
import dev.rlkafka.schemas.DeadLetters;
import dev.rlkafka.schemas.TopicAdmin;
import dev.rlkafka.schemas.Topics;
import dev.rlkafka.schemas.WeightBlobs;
import dev.rlkafka.schemas.WeightChunks;
import dev.rlkafka.schemas.avro.DeadLetter;
import dev.rlkafka.schemas.avro.Metric;
import dev.rlkafka.schemas.avro.Rollout;
import dev.rlkafka.schemas.avro.WeightChunk;
import dev.rlkafka.schemas.serde.RlSerdes;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;

import static dev.rlkafka.generator.Fixtures.TINY;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** {@link GeneratorService} on a real broker: exactly one group per prompt, hot-swaps, dead letters, admission. */
@ExtendWith(KafkaExtension.class)
class GeneratorServiceKafkaTest {
    private static final int G = 2;
    private static final int CHUNK_BYTES = 16 * 1024;   // a tiny model's ~90 KB of weights in 6 chunks

    @Test
    void samplesOneGroupPerPromptSwapsVersionsAndDeadLettersBadInputWithoutStopping(TestKafka kafka) {
        Topics topics = freshTopics(kafka);
        GeneratorConfig config = GeneratorConfig.defaults(kafka.bootstrapServers()).withTopics(topics)
                .withGroupSize(G).withSampling(1.0f, 0, 1.0f, 4).withBatching(4, Duration.ofMillis(20))
                .withStaleness(100, 1);   // admission never closes here; see the synchronous test
        publish(kafka.bootstrapServers(), topics, 0, Fixtures.weights(TINY, 1), false);

        try (GeneratorService service = new GeneratorService(config).start();
             var producer = plainProducer(kafka);
             var rollouts = new TopicReader<>(kafka.bootstrapServers(), topics.rollouts(),
                     r -> RlSerdes.rollout().codec().decode(r));
             var letters = new TopicReader<>(kafka.bootstrapServers(), topics.deadLetters(),
                     r -> RlSerdes.deadLetter().codec().decode(r));
             var metrics = new TopicReader<>(kafka.bootstrapServers(), topics.metrics(),
                     r -> RlSerdes.metric().codec().decode(r))) {
            sendPrompts(producer, topics, "p0", "p1", "p2");
            rollouts.await("3 groups at version 0", seen -> seen.size() >= 3 * G);
            await("policy version 0 loaded", () -> service.policyVersion() == 0);

            publish(kafka.bootstrapServers(), topics, 1, Fixtures.weights(TINY, 2), false);
            await("swap to version 1", () -> service.policyVersion() == 1 && service.versionsSwapped() == 1);
            sendPrompts(producer, topics, "p3", "p4");
            rollouts.await("groups p3, p4", seen -> seen.size() >= 5 * G);

            publish(kafka.bootstrapServers(), topics, 2, Fixtures.weights(TINY, 3), true);   // one flipped byte
            DeadLetter checksum = letters.await("BAD_CHECKSUM letter", seen -> hasType(seen, GeneratorService.BAD_CHECKSUM))
                    .stream().filter(l -> l.getErrorType().equals(GeneratorService.BAD_CHECKSUM)).findFirst().orElseThrow();
            assertEquals(topics.policyWeights(), checksum.getSourceTopic());
            assertTrue(checksum.getReason().contains("version 2"), checksum.getReason());
            assertTrue(checksum.getOriginalBytes() != null && checksum.getOriginalBytes().remaining() > 0);

            byte[] wider = Fixtures.weights(new ModelConfig(ByteTokenizer.VOCAB_SIZE, 32, 64, 1, 2), 4);
            publish(kafka.bootstrapServers(), topics, 3, wider, false);
            DeadLetter shape = letters.await("BAD_WEIGHTS letter", seen -> hasType(seen, GeneratorService.BAD_WEIGHTS))
                    .stream().filter(l -> l.getErrorType().equals(GeneratorService.BAD_WEIGHTS)).findFirst().orElseThrow();
            assertTrue(shape.getReason().contains("version 3") && shape.getReason().contains("keeping policy version 1"),
                    shape.getReason());
            assertEquals(1, service.policyVersion(), "bad versions leave the weights alone");

            byte[] garbage = "not a prompt".getBytes(StandardCharsets.UTF_8);
            producer.send(new ProducerRecord<>(topics.prompts(), "junk", garbage));
            send(producer, topics, Fixtures.prompt("too-long", "x".repeat(40), 0));
            sendPrompts(producer, topics, "p5");
            List<DeadLetter> all = letters.await("UNDECODABLE and INVALID_PROMPT letters",
                    seen -> hasType(seen, DeadLetters.UNDECODABLE) && hasType(seen, InvalidPromptException.ERROR_TYPE));
            DeadLetter undecodable = all.stream().filter(l -> l.getErrorType().equals(DeadLetters.UNDECODABLE)).findFirst().orElseThrow();
            assertEquals(topics.prompts(), undecodable.getSourceTopic());
            assertArrayEquals(garbage, bytes(undecodable.getOriginalBytes()));
            DeadLetter tooLong = all.stream().filter(l -> l.getErrorType().equals(InvalidPromptException.ERROR_TYPE)).findFirst().orElseThrow();
            assertTrue(tooLong.getReason().contains("too-long") && tooLong.getReason().contains("41 tokens"), tooLong.getReason());

            rollouts.await("group p5", seen -> seen.size() >= 6 * G);
            List<Rollout> seen = rollouts.readFor(Duration.ofMillis(500));   // a duplicate would show up here
            Map<String, List<Rollout>> groups = seen.stream().collect(Collectors.groupingBy(Rollout::getGroupId, TreeMap::new, Collectors.toList()));
            assertEquals(Set.of("p0", "p1", "p2", "p3", "p4", "p5"), groups.keySet());
            assertEquals(6 * G, seen.size(), "exactly G rollouts per prompt, none twice");
            groups.forEach((id, group) -> {
                assertEquals(Set.of(id + "/0", id + "/1"), group.stream().map(Rollout::getRolloutId).collect(Collectors.toSet()));
                long version = id.compareTo("p3") < 0 ? 0 : 1;
                group.forEach(r -> assertEquals(version, r.getPolicyVersion(), r.getRolloutId() + " version"));
            });
            rollouts.records().forEach(rec -> assertEquals(RlSerdes.rollout().codec().decode(rec).getGroupId(), rec.key()));

            List<Metric> batches = metrics.await("batch metrics", m -> !m.isEmpty());
            Metric first = batches.get(0);
            assertEquals(GeneratorService.BATCH_METRIC, first.getKind());
            assertEquals(config.generatorId(), first.getServiceId());
            assertTrue(first.getValues().get("rollouts") > 0 && first.getValues().containsKey("tokens_per_s"), first.toString());
            // the garbage and the too-long prompt are counted with the batch that committed them
            metrics.await("a batch metric counting both prompt dead letters",
                    m -> m.stream().anyMatch(b -> b.getValues().getOrDefault("dead_letters", 0.0) >= 2));

            assertEquals(6, service.groupsAdmitted());
            assertTrue(service.isRunning() && service.failure().isEmpty(), "still running: " + service.failure());
        }
    }

    @Test
    void followsVersionsInABlobStoreAndKeepsItsWeightsWhenOneCannotBeRead(TestKafka kafka, @TempDir Path store) throws Exception {
        Topics topics = freshTopics(kafka);
        String bootstrap = kafka.bootstrapServers();
        GeneratorConfig config = GeneratorConfig.defaults(bootstrap).withTopics(topics)
                .withGroupSize(G).withSampling(1.0f, 0, 1.0f, 4).withBatching(4, Duration.ofMillis(20)).withStaleness(100, 1);
        // version 0's file is gone (pruned): a generator starting now reads only the newest version, 1
        WeightChunk pruned = WeightBlobs.write(store, 0, 0, Fixtures.weights(TINY, 1), Instant.now());
        publish(bootstrap, topics, 0, List.of(pruned));
        Files.delete(fileOf(pruned));
        publish(bootstrap, topics, 1, List.of(WeightBlobs.write(store, 1, 1, Fixtures.weights(TINY, 2), Instant.now())));

        try (GeneratorService service = new GeneratorService(config).start();
             var producer = plainProducer(kafka);
             var rollouts = new TopicReader<>(bootstrap, topics.rollouts(), r -> RlSerdes.rollout().codec().decode(r));
             var letters = new TopicReader<>(bootstrap, topics.deadLetters(), r -> RlSerdes.deadLetter().codec().decode(r))) {
            sendPrompts(producer, topics, "p0");
            rollouts.await("group p0", seen -> seen.size() >= G).forEach(r -> assertEquals(1, r.getPolicyVersion()));

            WeightChunk missing = WeightBlobs.write(store, 2, 2, Fixtures.weights(TINY, 3), Instant.now());
            Files.delete(fileOf(missing));
            publish(bootstrap, topics, 2, List.of(missing));
            DeadLetter letter = letters.await("a letter for version 2", seen -> hasType(seen, GeneratorService.BAD_BLOB)).get(0);
            assertTrue(letter.getReason().contains("version 2") && letter.getReason().contains("does not exist here")
                    && letter.getReason().contains("keeping policy version 1"), letter.getReason());

            publish(bootstrap, topics, 3, List.of(WeightBlobs.write(store, 3, 3, Fixtures.weights(TINY, 4), Instant.now())));
            await("swap to version 3", () -> service.policyVersion() == 3);
            assertEquals(1, letters.readFor(Duration.ofMillis(300)).size(), "version 0, pruned before the start, was never read");
            assertTrue(service.isRunning() && service.failure().isEmpty(), "still running: " + service.failure());
        }
    }

    @Test
    void synchronousGeneratorStopsAfterOneVersionOfGroupsUntilTheNextVersionAndAForgedChunkDoesNotOpenIt(TestKafka kafka) {
        Topics topics = freshTopics(kafka);
        GeneratorConfig config = synchronousAtVersion0(kafka, topics);

        try (GeneratorService service = new GeneratorService(config).start();
             var producer = plainProducer(kafka);
             var rollouts = new TopicReader<>(kafka.bootstrapServers(), topics.rollouts(),
                     r -> RlSerdes.rollout().codec().decode(r));
             var letters = new TopicReader<>(kafka.bootstrapServers(), topics.deadLetters(),
                     r -> RlSerdes.deadLetter().codec().decode(r))) {
            sendPrompts(producer, topics, "q0", "q1", "q2", "q3");
            rollouts.await("2 groups", seen -> seen.size() >= 2 * G);
            await("gate closed", service::isPaused);
            List<Rollout> held = rollouts.readFor(Duration.ofSeconds(1));
            assertEquals(2 * G, held.size(), "version 0 is worth 2 groups until the trainer publishes version 1");
            assertEquals(2, service.groupsAdmitted());

            publish(kafka.bootstrapServers(), topics, 1, Fixtures.weights(TINY, 2), false);
            List<Rollout> all = rollouts.await("4 groups", seen -> seen.size() >= 4 * G);
            assertEquals(List.of(0L, 0L, 0L, 0L, 1L, 1L, 1L, 1L), all.stream().map(Rollout::getPolicyVersion).sorted().toList(),
                    "the groups admitted after version 1 are sampled by version 1");
            Set<String> groups = new TreeSet<>(all.stream().map(Rollout::getGroupId).toList());
            assertEquals(Set.of("q0", "q1", "q2", "q3"), groups);
            await("gate closed again", service::isPaused);
            assertEquals(4, service.groupsAdmitted());

            // a chunk no trainer wrote, claiming a far version: refused, and admission stays where it is
            sendPrompts(producer, topics, "q4", "q5");
            WeightChunk real = WeightChunks.split(2, 2, Fixtures.weights(TINY, 3), CHUNK_BYTES, Instant.now()).get(0);
            WeightChunk forged = WeightChunk.newBuilder(real).setVersion(1_000_000).setChunkCount(2_000_000_000).build();
            producer.send(new ProducerRecord<>(topics.policyWeights(), "1000000",
                    RlSerdes.weightChunk().codec().encode(topics.policyWeights(), forged)));
            producer.flush();
            letters.await("the forged chunk's dead letter", seen -> hasType(seen, GeneratorService.BAD_CHECKSUM));
            assertEquals(8, rollouts.readFor(Duration.ofSeconds(1)).size(), "q4 and q5 wait for a real version 2");
            assertTrue(service.isPaused() && service.groupsAdmitted() == 4, "admitted " + service.groupsAdmitted());
        }
    }

    @Test
    void aGroupThatWillNeverBeTrainedGivesItsAdmissionPlaceBack(TestKafka kafka) {
        Topics topics = freshTopics(kafka);
        GeneratorConfig config = synchronousAtVersion0(kafka, topics);

        try (GeneratorService service = new GeneratorService(config).start();
             var producer = plainProducer(kafka);
             var rollouts = new TopicReader<>(kafka.bootstrapServers(), topics.rollouts(),
                     r -> RlSerdes.rollout().codec().decode(r))) {
            sendPrompts(producer, topics, "q0", "q1", "q2", "q3", "q4", "q5");
            List<String> first = new ArrayList<>(new TreeSet<>(rollouts.await("2 groups", seen -> seen.size() >= 2 * G)
                    .stream().map(Rollout::getGroupId).toList()));
            await("gate closed", service::isPaused);

            // a group of another generator expires, and a reward of one of ours is a duplicate: neither frees a place
            sendDeadLetter(producer, topics, DeadLetters.GROUP_TIMEOUT, topics.rollouts(), "not-ours");
            sendDeadLetter(producer, topics, "DUPLICATE_REWARD", topics.rewards(), first.get(0));
            assertEquals(2 * G, rollouts.readFor(Duration.ofSeconds(1)).size(), "no trainer publishes version 1");

            // the reward-service expires one of ours, the trainer dead-letters the other: a group each in their place
            sendDeadLetter(producer, topics, DeadLetters.GROUP_TIMEOUT, topics.rollouts(), first.get(0));
            rollouts.await("a third group", seen -> seen.size() >= 3 * G);
            sendDeadLetter(producer, topics, "NON_FINITE_ADVANTAGE", topics.scoredGroups(), first.get(1));
            sendDeadLetter(producer, topics, "NON_FINITE_ADVANTAGE", topics.scoredGroups(), first.get(1));   // read twice
            rollouts.await("a fourth group", seen -> seen.size() >= 4 * G);
            assertEquals(4 * G, rollouts.readFor(Duration.ofSeconds(1)).size(), "two places given back, two groups admitted");
            assertEquals(4, service.groupsAdmitted());
            assertTrue(service.isPaused());
        }
    }

    @Test
    void aCrashedGeneratorsOpenTransactionHoldsReadersForSecondsNotAMinute(TestKafka kafka) {
        Topics topics = freshTopics(kafka);
        GeneratorConfig config = GeneratorConfig.defaults(kafka.bootstrapServers()).withTopics(topics);
        // a generator that dies between its first send and its commit: nothing ever ends its transaction but the broker
        var crashed = new KafkaProducer<String, byte[]>(GeneratorService.producerProperties(config));
        try (var producer = plainProducer(kafka);
             var rollouts = new TopicReader<>(kafka.bootstrapServers(), topics.rollouts(), r -> r.key())) {
            crashed.initTransactions();
            crashed.beginTransaction();
            crashed.send(new ProducerRecord<>(topics.rollouts(), 0, "in-flight", new byte[] {1}));
            crashed.flush();
            long started = System.nanoTime();
            producer.send(new ProducerRecord<>(topics.rollouts(), 0, "after", new byte[] {2}));
            producer.flush();
            rollouts.await("the record behind the open transaction", seen -> seen.contains("after"));
            double seconds = (System.nanoTime() - started) / 1e9;
            assertTrue(seconds >= GeneratorService.TRANSACTION_TIMEOUT.toSeconds() / 2.0 && seconds < 30,
                    "readers waited " + seconds + " s for the broker to end the transaction (Kafka's default: 60 s)");
            assertEquals(List.of("after"), rollouts.readFor(Duration.ofMillis(200)), "the crashed batch is aborted, not read");
        } finally {
            crashed.close(Duration.ZERO);
        }
    }

    @Test
    void startFailsNamingAMissingTopic(TestKafka kafka) {
        Topics missing = Topics.withPrefix("absent-" + UUID.randomUUID().toString().substring(0, 8) + ".");
        GeneratorConfig config = GeneratorConfig.defaults(kafka.bootstrapServers()).withTopics(missing);
        var service = new GeneratorService(config);
        var e = assertThrows(IllegalStateException.class, service::start);
        assertTrue(e.getMessage().contains(missing.prompts()), e.getMessage());
        service.close();   // idempotent after the failed start
    }

    private static Path fileOf(WeightChunk pointer) {
        return Path.of(java.net.URI.create(pointer.getBlobUri()));
    }

    /** A synchronous generator worth 2 groups a version, version 0 published. */
    private static GeneratorConfig synchronousAtVersion0(TestKafka kafka, Topics topics) {
        publish(kafka.bootstrapServers(), topics, 0, Fixtures.weights(TINY, 1), false);
        return GeneratorConfig.defaults(kafka.bootstrapServers()).withTopics(topics)
                .withGroupSize(G).withSampling(1.0f, 0, 1.0f, 3).withBatching(4, Duration.ofMillis(20))
                .withStaleness(0, 2);
    }

    private static Topics freshTopics(TestKafka kafka) {
        Topics topics = Topics.withPrefix("gen-" + UUID.randomUUID().toString().substring(0, 8) + ".");
        TopicAdmin.ensureTopics(kafka.bootstrapServers(), topics, 2, (short) 1);
        return topics;
    }

    /** Publishes one version in one transaction, as the trainer does; {@code corrupt} flips a byte of chunk 1. */
    static void publish(String bootstrap, Topics topics, long version, byte[] weights, boolean corrupt) {
        List<WeightChunk> chunks = new ArrayList<>(WeightChunks.split(version, version, weights, CHUNK_BYTES, Instant.now()));
        assertTrue(chunks.size() > 1, "several chunks: " + chunks.size());
        if (corrupt) {
            byte[] bytes = bytes(chunks.get(1).getBytes());
            bytes[bytes.length / 2] ^= 0x01;
            chunks.set(1, WeightChunk.newBuilder(chunks.get(1)).setBytes(ByteBuffer.wrap(bytes)).build());
        }
        publish(bootstrap, topics, version, chunks);
    }

    /** Publishes {@code chunks} (or one blob-store pointer) of one version in one transaction. */
    static void publish(String bootstrap, Topics topics, long version, List<WeightChunk> chunks) {
        try (var producer = new KafkaProducer<String, byte[]>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ProducerConfig.TRANSACTIONAL_ID_CONFIG, "test-trainer-" + UUID.randomUUID(),
                ProducerConfig.MAX_REQUEST_SIZE_CONFIG, 12 * 1024 * 1024), new StringSerializer(), new ByteArraySerializer())) {
            producer.initTransactions();
            producer.beginTransaction();
            for (WeightChunk chunk : chunks) {
                producer.send(new ProducerRecord<>(topics.policyWeights(), Long.toString(version),
                        RlSerdes.weightChunk().codec().encode(topics.policyWeights(), chunk)));
            }
            producer.commitTransaction();
        }
    }

    private static KafkaProducer<String, byte[]> plainProducer(TestKafka kafka) {
        return new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
                ProducerConfig.ACKS_CONFIG, "all"), new StringSerializer(), new ByteArraySerializer());
    }

    static void sendPrompts(KafkaProducer<String, byte[]> producer, Topics topics, String... ids) {
        for (String id : ids) send(producer, topics, Fixtures.prompt(id, "12+30=", 0));
    }

    private static void send(KafkaProducer<String, byte[]> producer, Topics topics, dev.rlkafka.schemas.avro.Prompt prompt) {
        producer.send(new ProducerRecord<>(topics.prompts(), prompt.getPromptId(),
                RlSerdes.prompt().codec().encode(topics.prompts(), prompt)));
        producer.flush();
    }

    private static void sendDeadLetter(KafkaProducer<String, byte[]> producer, Topics topics, String errorType, String sourceTopic,
                                       String groupId) {
        DeadLetter letter = DeadLetters.builder().source(sourceTopic, -1, -1).key(groupId.getBytes(StandardCharsets.UTF_8))
                .errorType(errorType).reason("test").serviceId("test").build();
        producer.send(new ProducerRecord<>(topics.deadLetters(), "test", RlSerdes.deadLetter().codec().encode(topics.deadLetters(), letter)));
        producer.flush();
    }

    private static boolean hasType(List<DeadLetter> letters, String type) {
        return letters.stream().anyMatch(l -> l.getErrorType().equals(type));
    }

    static void await(String what, BooleanSupplier condition) {
        long deadline = System.nanoTime() + TopicReader.DEADLINE.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) fail("after " + TopicReader.DEADLINE + " still waiting for " + what);
            try {
                Thread.sleep(20);   // how often the condition is checked; the deadline above bounds the wait
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                fail("interrupted while waiting for " + what);
            }
        }
    }

    private static byte[] bytes(ByteBuffer buffer) {
        byte[] out = new byte[buffer.remaining()];
        buffer.duplicate().get(out);
        return out;
    }
}
