package dev.rlkafka.cli;

import ai.djl.Device;
import dev.rlkafka.generator.GeneratorConfig;
import dev.rlkafka.generator.GeneratorService;
import dev.rlkafka.kafka.EmbeddedKafkaBroker;
import dev.rlkafka.kafka.KafkaExtension;
import dev.rlkafka.kafka.TestKafka;
import dev.rlkafka.policy.model.ModelConfig;
import dev.rlkafka.policy.model.Policy;
import dev.rlkafka.policy.optim.AdamWConfig;
import dev.rlkafka.policy.task.Tasks;
import dev.rlkafka.policy.tokenizer.ByteTokenizer;
import dev.rlkafka.policy.train.SftConfig;
import dev.rlkafka.policy.train.SftTrainer;
import dev.rlkafka.policy.weights.Checkpoint;
import dev.rlkafka.reward.RewardConfig;
import dev.rlkafka.reward.RewardService;
import dev.rlkafka.schemas.KafkaClientConfig;
import dev.rlkafka.schemas.TopicAdmin;
import dev.rlkafka.schemas.Topics;
import dev.rlkafka.schemas.avro.Metric;
import dev.rlkafka.schemas.avro.Rollout;
import dev.rlkafka.schemas.avro.ScoredGroup;
import dev.rlkafka.schemas.serde.RecordCodec;
import dev.rlkafka.trainer.TrainerService;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** The whole loop on a real broker: SFT, then generator → reward-service → trainer → policy versions → generator. */
@ExtendWith(KafkaExtension.class)
class PipelineEndToEndTest {
    private static final int PROMPTS = 12;
    private static final int GROUP_SIZE = 4;
    private static final int BATCH_GROUPS = 2;
    private static final int MAX_STALENESS = 1;

    @Test
    void everyPromptBecomesOneScoredGroupAndVersionsFlowBackToTheGenerator(TestKafka kafka, @TempDir Path dir) throws Exception {
        runLoop(kafka.bootstrapServers(), KafkaClientConfig.NONE, dir);
    }

    /** The same loop on a cluster that takes SASL clients only: every client of every service gets the cluster's settings. */
    @Test
    void theLoopRunsOnASecuredClusterWithTheClusterClientSettings(@TempDir Path dir) throws Exception {
        try (EmbeddedKafkaBroker secured = EmbeddedKafkaBroker.startSaslPlain(dir.resolve("broker"), Map.of("rl", "rl-s3cret"))) {
            runLoop(secured.bootstrapServers(), new KafkaClientConfig(Map.of("security.protocol", "SASL_PLAINTEXT",
                    "sasl.mechanism", "PLAIN", "sasl.jaas.config",
                    "org.apache.kafka.common.security.plain.PlainLoginModule required username=\"rl\" password=\"rl-s3cret\";")), dir);
        }
    }

    private static void runLoop(String bootstrap, KafkaClientConfig client, Path dir) throws Exception {
        Topics topics = Topics.withPrefix("e2e-" + System.nanoTime() + ".");
        TopicAdmin.ensureTopics(bootstrap, client, topics, 2, (short) 1);

        Path sft = dir.resolve("sft.ckpt");
        try (Policy policy = Policy.create(new ModelConfig(ByteTokenizer.VOCAB_SIZE, 16, 32, 1, 2), Device.cpu(), 1)) {
            SftTrainer.train(policy, Tasks.byName("arithmetic"),
                    new SftConfig(30, 32, AdamWConfig.DEFAULT.withLr(3e-3), 5, 1.0, 1), null);
            Checkpoint.of(policy, 30, Map.of(), Map.of("task", "arithmetic")).write(sft);
        }

        try (RewardService reward = new RewardService(RewardConfig.defaults(bootstrap).withClientConfig(client).withTopics(topics)
                     .withStateDir(dir.resolve("reward-state"))).start();
             TrainerService trainer = new TrainerService(TrainerCommand.config(bootstrap, topics, sft, dir.resolve("trainer"),
                     BATCH_GROUPS, 1, MAX_STALENESS, 1e-4, 0.04, 0).withDevice("cpu", 1).withClientConfig(client)).start();
             GeneratorService generator = new GeneratorService(GeneratorConfig.defaults(bootstrap).withClientConfig(client)
                     .withTopics(topics).withGroupSize(GROUP_SIZE).withBatching(2, Duration.ofMillis(10)).withSampling(1f, 0, 1f, 5)
                     .withStaleness(MAX_STALENESS, BATCH_GROUPS)).start()) {

            assertEquals(PROMPTS, PromptFeeder.feed(bootstrap, client, topics, Tasks.byName("arithmetic"), PROMPTS, 0, 5, "p-"));

            List<ScoredGroup> scored = new ArrayList<>();
            List<Rollout> rollouts = new ArrayList<>();
            List<Metric> metrics = new ArrayList<>();
            try (var consumer = readCommitted(bootstrap, client)) {
                consumer.subscribe(List.of(topics.scoredGroups(), topics.rollouts(), topics.metrics()));
                await(Duration.ofSeconds(120), () -> {
                    for (ConsumerRecord<String, byte[]> rec : consumer.poll(Duration.ofMillis(200))) {
                        if (rec.topic().equals(topics.scoredGroups())) scored.add(RecordCodec.of(ScoredGroup.class).decode(rec));
                        else if (rec.topic().equals(topics.rollouts())) rollouts.add(RecordCodec.of(Rollout.class).decode(rec));
                        else metrics.add(RecordCodec.of(Metric.class).decode(rec));
                    }
                    // a group dropped as stale (groups reach the trainer out of order across partitions) can
                    // leave fewer than a batch behind, which waits for more prompts: up to B-1 may be pending
                    return scored.size() >= PROMPTS && trainedOrDropped(metrics) > PROMPTS - BATCH_GROUPS;
                }, () -> "scored groups " + scored.size() + " / " + PROMPTS + ", trained or dropped "
                        + trainedOrDropped(metrics) + ", trainer step " + trainer.step() + ", generator version "
                        + generator.policyVersion() + ", failures " + trainer.failure() + " " + generator.failure());
                // a short extra read: a duplicate group would show up here
                for (ConsumerRecord<String, byte[]> rec : consumer.poll(Duration.ofSeconds(2))) {
                    if (rec.topic().equals(topics.scoredGroups())) scored.add(RecordCodec.of(ScoredGroup.class).decode(rec));
                }
            }

            Set<String> groupIds = new HashSet<>();
            scored.forEach(g -> groupIds.add(g.getGroupId()));
            assertEquals(PROMPTS, scored.size(), "one scored group per prompt, no duplicates");
            assertEquals(PROMPTS, groupIds.size());
            for (ScoredGroup group : scored) {
                assertEquals(GROUP_SIZE, group.getRollouts().size(), "group " + group.getGroupId());
                assertEquals(GROUP_SIZE, group.getAdvantages().size());
            }
            Map<String, Integer> rolloutsPerGroup = new HashMap<>();
            rollouts.forEach(r -> rolloutsPerGroup.merge(r.getGroupId(), 1, Integer::sum));
            assertEquals(PROMPTS, rolloutsPerGroup.size());
            rolloutsPerGroup.forEach((group, n) -> assertEquals(GROUP_SIZE, n, "rollouts of " + group));

            assertTrue(trainer.policyVersion() >= 2, "versions advance, trainer at " + trainer.policyVersion());
            assertTrue(generator.versionsSwapped() >= 1, "the generator swapped to a newer policy version");
            assertTrue(rollouts.stream().anyMatch(r -> r.getPolicyVersion() > 0), "later rollouts come from newer versions");
            for (Metric m : metrics) {
                if (!m.getKind().equals(TrainerService.METRIC_KIND)) continue;
                m.getValues().forEach((name, count) -> {
                    if (name.startsWith("staleness_") && count > 0) {
                        int staleness = Integer.parseInt(name.substring("staleness_".length()));
                        assertTrue(staleness <= MAX_STALENESS, "trained a group " + staleness + " versions stale");
                    }
                });
            }
        }
    }

    private static long trainedOrDropped(List<Metric> metrics) {
        long sum = 0;
        for (Metric m : metrics) {
            if (m.getKind().equals(TrainerService.METRIC_KIND)) {
                sum += (long) (m.getValues().getOrDefault("groups", 0.0) + m.getValues().getOrDefault("dropped_stale", 0.0));
            }
        }
        return sum;
    }

    private static KafkaConsumer<String, byte[]> readCommitted(String bootstrap, KafkaClientConfig client) {
        Properties props = client.with(bootstrap);
        props.put(ConsumerConfig.GROUP_ID_CONFIG, "e2e-reader-" + System.nanoTime());
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        props.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, 16 * 1024 * 1024);
        return new KafkaConsumer<>(props, new StringDeserializer(), new ByteArrayDeserializer());
    }

    private static void await(Duration timeout, BooleanSupplier condition, java.util.function.Supplier<String> seen) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (condition.getAsBoolean()) return;
        }
        fail("not reached within " + timeout.toSeconds() + " s: " + seen.get());
    }
}
