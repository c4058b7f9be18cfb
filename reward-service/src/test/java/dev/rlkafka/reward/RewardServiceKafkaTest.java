package dev.rlkafka.reward;

import dev.rlkafka.kafka.KafkaExtension;
import dev.rlkafka.kafka.TestKafka;
import dev.rlkafka.schemas.DeadLetters;
import dev.rlkafka.schemas.TopicAdmin;
import dev.rlkafka.schemas.Topics;
import dev.rlkafka.schemas.avro.DeadLetter;
import dev.rlkafka.schemas.avro.ScoredGroup;
import dev.rlkafka.schemas.serde.RlSerdes;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.function.Predicate;

import static dev.rlkafka.reward.Fixtures.rollout;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** {@link RewardService} on a real broker: exactly-once Streams, built-in scorers, dead letters. */
@ExtendWith(KafkaExtension.class)
class RewardServiceKafkaTest {
    private static final Duration DEADLINE = Duration.ofSeconds(45);

    @TempDir
    Path stateDir;

    @Test
    void scoresGroupsOfArithmeticRolloutsAndDeadLettersGarbageWithoutStopping(TestKafka kafka) throws Exception {
        Topics topics = Topics.withPrefix("reward-" + UUID.randomUUID().toString().substring(0, 8) + ".");
        TopicAdmin.ensureTopics(kafka.bootstrapServers(), topics, 2, (short) 1);
        RewardConfig config = RewardConfig.defaults(kafka.bootstrapServers()).withTopics(topics).withStateDir(stateDir)
                .withReplicationFactor(1).withIntervals(Duration.ofMillis(200), Duration.ofSeconds(1));

        // completions of "12+30=": exact-answer·1.0 + format·0.1 → "42" 1.1, "41" 0.1, " 42" 1.0, "x" 0
        Map<String, List<String>> completions = new TreeMap<>(Map.of(
                "g0", List.of("42", "41", "42", "x"),
                "g1", List.of("x", "x", " 42", "41"),
                "g2", List.of("42", "42", "42", "42")));
        Map<String, List<Double>> expected = Map.of(
                "g0", List.of(1.1, 0.1, 1.1, 0.0),
                "g1", List.of(0.0, 0.0, 1.0, 0.1),
                "g2", List.of(1.1, 1.1, 1.1, 1.1));
        byte[] garbage = "definitely not avro".getBytes(StandardCharsets.UTF_8);

        try (RewardService service = new RewardService(config).start();
             var producer = new KafkaProducer<String, byte[]>(Map.of(
                     ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
                     ProducerConfig.ACKS_CONFIG, "all"), new StringSerializer(), new ByteArraySerializer())) {
            for (var group : completions.entrySet()) {
                if (group.getKey().equals("g1")) {
                    // garbage on g1's rewards partition, ahead of g1's built-in rewards: g1 still completes
                    producer.send(new ProducerRecord<>(topics.rewards(), "g1", garbage)).get();
                }
                List<String> texts = group.getValue();
                for (int i = 0; i < texts.size(); i++) {
                    var value = RlSerdes.rollout().serializer().serialize(topics.rollouts(),
                            rollout(group.getKey(), i, texts.size(), texts.get(i)));
                    producer.send(new ProducerRecord<>(topics.rollouts(), group.getKey(), value));
                }
            }
            producer.flush();

            List<ConsumerRecord<String, byte[]>> scored = consume(kafka, topics.scoredGroups(), got -> got.size() >= 3);
            Map<String, ScoredGroup> byGroup = new TreeMap<>();
            for (var rec : scored) {
                ScoredGroup group = RlSerdes.scoredGroup().codec().decode(rec);
                assertEquals(rec.key(), group.getGroupId());
                if (byGroup.put(group.getGroupId(), group) != null) fail("group " + rec.key() + " emitted twice");
            }
            assertEquals(completions.keySet(), byGroup.keySet());
            for (var e : byGroup.entrySet()) {
                List<Double> rewards = e.getValue().getRewards().stream().map(r -> Math.round(r * 1e9) / 1e9).toList();
                assertEquals(expected.get(e.getKey()), rewards, "rewards of " + e.getKey());
            }
            assertEquals(List.of(0.0, 0.0, 0.0, 0.0), byGroup.get("g2").getAdvantages(), "all equal: nothing to learn");
            assertTrue(byGroup.get("g0").getAdvantages().get(0) > 0 && byGroup.get("g0").getAdvantages().get(3) < 0);

            List<ConsumerRecord<String, byte[]>> letters = consume(kafka, topics.deadLetters(), got -> !got.isEmpty());
            DeadLetter letter = RlSerdes.deadLetter().codec().decode(letters.get(0));
            assertEquals(DeadLetters.UNDECODABLE, letter.getErrorType(), letter.getReason());
            assertEquals(topics.rewards(), letter.getSourceTopic());
            assertArrayEquals(garbage, bytes(letter.getOriginalBytes()));
            assertEquals(config.serviceId(), letters.get(0).key());
            assertEquals(1, letters.size(), "only the garbage is dead-lettered");
            assertEquals(org.apache.kafka.streams.KafkaStreams.State.RUNNING, service.state());
        }
    }

    @Test
    void aGroupLargerThanTheClientsOneMebibyteDefaultIsScored(TestKafka kafka) throws Exception {
        Topics topics = Topics.withPrefix("reward-big-" + UUID.randomUUID().toString().substring(0, 8) + ".");
        TopicAdmin.ensureTopics(kafka.bootstrapServers(), topics, 1, (short) 1);
        RewardConfig config = RewardConfig.defaults(kafka.bootstrapServers()).withTopics(topics).withStateDir(stateDir)
                .withReplicationFactor(1).withIntervals(Duration.ofMillis(200), Duration.ofSeconds(1));
        // three 400 KB rollouts (rl.rollouts takes 2 MiB each): the scored group, and the pending group in the
        // changelog once all three have arrived, are over the producer's 1 MiB default
        String long42 = "42" + " ".repeat(400 * 1024);
        try (RewardService service = new RewardService(config).start();
             var producer = new KafkaProducer<String, byte[]>(Map.of(
                     ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
                     ProducerConfig.MAX_REQUEST_SIZE_CONFIG, 2 * 1024 * 1024,
                     ProducerConfig.ACKS_CONFIG, "all"), new StringSerializer(), new ByteArraySerializer())) {
            for (int i = 0; i < 4; i++) {
                var value = RlSerdes.rollout().serializer().serialize(topics.rollouts(), rollout("big", i, 4, i < 3 ? long42 : "x"));
                producer.send(new ProducerRecord<>(topics.rollouts(), "big", value)).get();
            }

            List<ConsumerRecord<String, byte[]>> scored = consume(kafka, topics.scoredGroups(), got -> !got.isEmpty());
            assertEquals(1, scored.size(), "one scored group");
            assertTrue(scored.get(0).value().length > 1024 * 1024, "the scored group is " + scored.get(0).value().length + " bytes");
            ScoredGroup group = RlSerdes.scoredGroup().codec().decode(scored.get(0));
            assertEquals(4, group.getRewards().size());
            assertTrue(group.getAdvantages().get(0) > 0 && group.getAdvantages().get(3) < 0, "advantages " + group.getAdvantages());
            assertEquals(0, readToEnd(kafka, topics.deadLetters()), "nothing dead-lettered");
            assertEquals(org.apache.kafka.streams.KafkaStreams.State.RUNNING, service.state());
        }
    }

    @Test
    void awaitCaughtUpReturnsOnceEveryCommittedRolloutIsScored(TestKafka kafka) throws Exception {
        Topics topics = Topics.withPrefix("caught-up-" + UUID.randomUUID().toString().substring(0, 8) + ".");
        TopicAdmin.ensureTopics(kafka.bootstrapServers(), topics, 2, (short) 1);
        RewardConfig config = RewardConfig.defaults(kafka.bootstrapServers()).withTopics(topics).withStateDir(stateDir)
                .withReplicationFactor(1);
        int committedRollouts = 0;
        try (var producer = new KafkaProducer<String, byte[]>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
                ProducerConfig.TRANSACTIONAL_ID_CONFIG, "caught-up-test"), new StringSerializer(), new ByteArraySerializer())) {
            producer.initTransactions();
            // as a generator writes them: a transaction per batch, so every partition ends in a marker; the
            // aborted last batch is what a crashed generator leaves, and is not waited for
            for (int batch = 0; batch < 3; batch++) {
                producer.beginTransaction();
                for (int g = 0; g < 4; g++) {
                    String group = "b" + batch + "-g" + g;
                    for (int i = 0; i < 4; i++) {
                        producer.send(new ProducerRecord<>(topics.rollouts(), group,
                                RlSerdes.rollout().serializer().serialize(topics.rollouts(), rollout(group, i, 4, "42"))));
                    }
                }
                if (batch < 2) {
                    producer.commitTransaction();
                    committedRollouts += 16;
                } else {
                    producer.abortTransaction();
                }
            }
        }

        RewardService service = new RewardService(config);
        try {
            assertFalse(service.awaitCaughtUp(Duration.ofMillis(300)), "not started: nothing is scored");
            service.start();
            assertTrue(service.awaitCaughtUp(DEADLINE));
            // read at once, with no waiting: the rewards of every committed rollout are already there
            assertEquals(2 * committedRollouts, readToEnd(kafka, topics.rewards()), "exact-answer and format, per rollout");
        } finally {
            service.close();
        }
    }

    @Test
    void pendingGroupsSurviveARestartFromTheChangelog(TestKafka kafka, @TempDir Path secondStateDir) throws Exception {
        Topics topics = Topics.withPrefix("restart-" + UUID.randomUUID().toString().substring(0, 8) + ".");
        TopicAdmin.ensureTopics(kafka.bootstrapServers(), topics, 2, (short) 1);
        Map<String, Double> required = new TreeMap<>(RewardConfig.builtInWeights("arithmetic"));
        required.put("judge", 1.0);   // an external scorer that answers partly before and partly after the restart
        RewardConfig config = RewardConfig.defaults(kafka.bootstrapServers()).withTopics(topics).withStateDir(stateDir)
                .withReplicationFactor(1).withScorers(required, Map.of());
        Map<String, List<String>> completions = Map.of("g0", List.of("42", "x", "42", "41"), "g1", List.of("x", "42", "x", "42"));

        try (var producer = new KafkaProducer<String, byte[]>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
                ProducerConfig.ACKS_CONFIG, "all"), new StringSerializer(), new ByteArraySerializer())) {
            Map<TopicPartition, Long> sent = new HashMap<>();
            try (RewardService first = new RewardService(config).start()) {
                for (var group : completions.entrySet()) {
                    List<String> texts = group.getValue();
                    for (int i = 0; i < texts.size(); i++) {
                        send(producer, topics.rollouts(), group.getKey(), RlSerdes.rollout().serializer().serialize(topics.rollouts(),
                                rollout(group.getKey(), i, texts.size(), texts.get(i))), sent);
                    }
                }
                // the judge scores two of g0's rollouts before the restart: scores are state too
                for (int i = 0; i < 2; i++) sendJudge(producer, topics, "g0", i, sent);
                awaitCommitted(kafka, config.applicationId(), sent);
            }

            // a fresh state directory: the second instance can only have the groups from the changelog
            try (RewardService second = new RewardService(config.withStateDir(secondStateDir)).start()) {
                for (int i = 2; i < 4; i++) sendJudge(producer, topics, "g0", i, sent);
                for (int i = 0; i < 4; i++) sendJudge(producer, topics, "g1", i, sent);

                Map<String, List<Double>> rewards = new TreeMap<>();
                for (var rec : consume(kafka, topics.scoredGroups(), got -> got.size() >= 2)) {
                    ScoredGroup group = RlSerdes.scoredGroup().codec().decode(rec);
                    List<Double> rounded = group.getRewards().stream().map(r -> Math.round(r * 1e9) / 1e9).toList();
                    if (rewards.put(group.getGroupId(), rounded) != null) fail("group " + rec.key() + " emitted twice");
                }
                // exact-answer·1.0 + format·0.1 + judge·0.5: "42" 1.6, "41" 0.6, "x" 0.5
                assertEquals(Map.of("g0", List.of(1.6, 0.5, 1.6, 0.6), "g1", List.of(0.5, 1.6, 0.5, 1.6)), rewards);
                assertEquals(0, readToEnd(kafka, topics.deadLetters()), "nothing unknown, late or timed out");
            }
        }
    }

    private static void sendJudge(KafkaProducer<String, byte[]> producer, Topics topics, String groupId, int index,
                                  Map<TopicPartition, Long> sent) throws Exception {
        var reward = Fixtures.reward(groupId, Fixtures.rolloutId(groupId, index), "judge", 0.5);
        send(producer, topics.rewards(), groupId, RlSerdes.reward().serializer().serialize(topics.rewards(), reward), sent);
    }

    /** Sends and remembers, per partition, the offset after the record. */
    private static void send(KafkaProducer<String, byte[]> producer, String topic, String key, byte[] value,
                             Map<TopicPartition, Long> sent) throws Exception {
        var meta = producer.send(new ProducerRecord<>(topic, key, value)).get();
        sent.merge(new TopicPartition(topic, meta.partition()), meta.offset() + 1, Math::max);
    }

    /** Waits until {@code applicationId} has committed (processed, and its state changelogged) up to {@code offsets}. */
    private static void awaitCommitted(TestKafka kafka, String applicationId, Map<TopicPartition, Long> offsets) throws Exception {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()))) {
            long deadline = System.nanoTime() + DEADLINE.toNanos();
            while (true) {
                var committed = admin.listConsumerGroupOffsets(applicationId).partitionsToOffsetAndMetadata().get();
                if (offsets.entrySet().stream().allMatch(e -> committed.get(e.getKey()) != null
                        && committed.get(e.getKey()).offset() >= e.getValue())) return;
                if (System.nanoTime() > deadline) fail(applicationId + " committed " + committed + ", not yet " + offsets);
                Thread.sleep(50);
            }
        }
    }

    /** Committed records on {@code topic} now: reads once up to the end offsets taken at the start. */
    private static int readToEnd(TestKafka kafka, String topic) {
        try (var consumer = new KafkaConsumer<byte[], byte[]>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed"), new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            var partitions = consumer.partitionsFor(topic).stream()
                    .map(p -> new TopicPartition(topic, p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            var end = consumer.endOffsets(partitions);
            int count = 0;
            long deadline = System.nanoTime() + DEADLINE.toNanos();
            while (partitions.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp))) {
                if (System.nanoTime() > deadline) fail("could not read " + topic + " to " + end);
                count += consumer.poll(Duration.ofMillis(200)).count();
            }
            return count;
        }
    }

    /** Reads {@code topic} until {@code done} holds, then half a second more, so a duplicate would be seen. */
    private static List<ConsumerRecord<String, byte[]>> consume(TestKafka kafka, String topic,
                                                               Predicate<List<ConsumerRecord<String, byte[]>>> done) {
        return TopicReads.readUntil(kafka.bootstrapServers(), topic, done, DEADLINE, Duration.ofMillis(500));
    }

    private static byte[] bytes(ByteBuffer buffer) {
        byte[] out = new byte[buffer.remaining()];
        buffer.duplicate().get(out);
        return out;
    }
}
