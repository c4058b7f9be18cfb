package dev.rlkafka.cli;

import ai.djl.Device;
import dev.rlkafka.generator.GeneratorConfig;
import dev.rlkafka.generator.GeneratorService;
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
import dev.rlkafka.schemas.Contract;
import dev.rlkafka.schemas.DeadLetters;
import dev.rlkafka.schemas.TopicAdmin;
import dev.rlkafka.schemas.Topics;
import dev.rlkafka.schemas.avro.DeadLetter;
import dev.rlkafka.schemas.avro.Metric;
import dev.rlkafka.schemas.avro.Reward;
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
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The loop with a required external scorer in another OS process (docs/scorers.md): the reward-service runs no
 * built-in scorer, so groups wait until the scorer writes its rewards, and training uses only those.
 */
@ExtendWith(KafkaExtension.class)
class ExternalScorerEndToEndTest {
    private static final Logger log = LoggerFactory.getLogger(ExternalScorerEndToEndTest.class);
    private static final String SCORER_ID = "external-exact-answer";
    private static final int PROMPTS = 8;
    private static final int GROUP_SIZE = 4;
    private static final int BATCH_GROUPS = 2;
    private static final int MAX_STALENESS = 1;
    /** Reward-service dead letters that would mean the scorer broke the contract. */
    private static final Set<String> CONTRACT_ERRORS = Set.of("UNDECODABLE", "KEY_MISMATCH", "UNKNOWN_ROLLOUT", "NON_FINITE_SCORE");

    @Test
    void groupsWaitForTheRequiredExternalScorerAndTrainingUsesOnlyItsScores(TestKafka kafka, @TempDir Path dir) throws Exception {
        ExternalScorerProcess scorer = ExternalScorerProcess.choose(dir.resolve("scorer.log"));
        log.info("external scorer: {} ({})", scorer.choice().node() ? "examples/node-scorer" : "JavaExactAnswerScorer",
                scorer.choice().why());
        if (scorer.choice().node()) {
            String fingerprints = scorer.nodeFingerprints();
            for (var type : List.of(Rollout.class, Reward.class, DeadLetter.class)) {
                assertTrue(fingerprints.contains(type.getSimpleName() + " " + Contract.fingerprintHex(type)),
                        "node computes the CRC-64-AVRO fingerprint of " + type.getSimpleName() + " as Java does ("
                                + Contract.fingerprintHex(type) + "); it printed:\n" + fingerprints);
            }
        }

        String bootstrap = kafka.bootstrapServers();
        Topics topics = freshTopics(bootstrap);
        Path sft = sft(dir);
        // the first groups wait while the scorer starts; a loaded machine must not expire them
        RewardConfig rewardConfig = rewardConfig(bootstrap, topics, dir, Duration.ofMinutes(5));
        Process process = null;
        try (RewardService reward = new RewardService(rewardConfig).start();
             TrainerService trainer = trainer(bootstrap, topics, sft, dir);
             GeneratorService generator = generator(bootstrap, topics);
             Seen seen = new Seen(bootstrap, topics)) {
            assertEquals(PROMPTS, PromptFeeder.feed(bootstrap, topics, Tasks.byName("arithmetic"), PROMPTS, 0, 5, "p-"));

            // before the scorer runs: whole groups of rollouts arrive, and no group is scored or trained
            await(Duration.ofSeconds(60), () -> seen.poll() && seen.completeRolloutGroups() >= 1,
                    () -> "a whole group of rollouts; " + seen + ", generator failure " + generator.failure());
            seen.pollFor(Duration.ofSeconds(3));
            assertEquals(List.of(), seen.scored, "no scored group before the required scorer has scored");
            assertEquals(List.of(), seen.rewards, "built-in scorers are off: nothing writes rewards yet");
            assertEquals(0, trainer.step(), "the trainer waits for scored groups");

            process = scorer.start(bootstrap, topics.prefix(), SCORER_ID);
            Process running = process;
            await(Duration.ofSeconds(90), () -> seen.poll() && seen.scored.size() >= PROMPTS && seen.trainedOrDropped() >= PROMPTS,
                    () -> seen + ", trainer step " + trainer.step() + ", scorer alive " + running.isAlive()
                            + ", failures " + trainer.failure() + " " + generator.failure() + "\nscorer output:\n" + scorer.logTail());

            for (ScoredGroup group : seen.scored) {
                for (int i = 0; i < group.getRollouts().size(); i++) {
                    Rollout rollout = group.getRollouts().get(i);
                    assertEquals(Set.of(SCORER_ID), group.getScores().get(i).keySet(), "scorers of " + rollout.getRolloutId());
                    double exact = rollout.getCompletionText().strip().equals(rollout.getReferenceAnswer()) ? 1 : 0;
                    assertEquals(exact, group.getRewards().get(i), 1e-9, "reward of " + rollout.getRolloutId()
                            + " (completion '" + rollout.getCompletionText() + "', reference " + rollout.getReferenceAnswer() + ")");
                }
            }
            for (Reward r : seen.rewards) assertEquals(SCORER_ID, r.getScorerId(), "every reward on " + topics.rewards());
            assertTrue(seen.rewards.size() >= PROMPTS * GROUP_SIZE, "one reward per rollout, saw " + seen.rewards.size());
            for (DeadLetter letter : seen.deadLetters) {
                assertTrue(!CONTRACT_ERRORS.contains(letter.getErrorType()), "dead letter " + letter.getErrorType() + ": " + letter.getReason());
            }
            assertTrue(trainer.policyVersion() >= 2, "versions advance on the external scores, trainer at " + trainer.policyVersion());

            if (scorer.choice().node()) {
                process.destroy();  // SIGTERM
                assertTrue(process.waitFor(20, TimeUnit.SECONDS), "node scorer stops within 20 s of SIGTERM");
                assertEquals(0, process.exitValue(), "node scorer exits cleanly on SIGTERM:\n" + scorer.logTail());
            }
        } finally {
            if (process != null && process.isAlive()) {
                process.destroyForcibly();
                process.waitFor(10, TimeUnit.SECONDS);
            }
        }
    }

    /**
     * A scorer started only after the group timeout: the generator's whole first lead expires untrained. The
     * GROUP_TIMEOUT dead letters give the generator those admission places back, so it goes on sampling, and once the
     * scorer runs groups are scored and trained. Before, the loop stood still for good at version 0.
     */
    @Test
    void aScorerStartedAfterTheFirstGroupsExpiredStillGetsTheLoopTraining(TestKafka kafka, @TempDir Path dir) throws Exception {
        ExternalScorerProcess scorer = ExternalScorerProcess.choose(dir.resolve("scorer.log"));
        String bootstrap = kafka.bootstrapServers();
        Topics topics = freshTopics(bootstrap);
        Path sft = sft(dir);
        int lead = (MAX_STALENESS + 1) * BATCH_GROUPS;
        Process process = null;
        try (RewardService reward = new RewardService(rewardConfig(bootstrap, topics, dir, Duration.ofSeconds(3))).start();
             TrainerService trainer = trainer(bootstrap, topics, sft, dir);
             GeneratorService generator = generator(bootstrap, topics);
             Seen seen = new Seen(bootstrap, topics)) {
            // a lead of groups expires every few seconds until the scorer runs (a JVM or node start on a loaded machine):
            // prompts enough for that and the training
            PromptFeeder.feed(bootstrap, topics, Tasks.byName("arithmetic"), 200, 0, 5, "p-");
            await(Duration.ofSeconds(60), () -> seen.poll() && seen.expiredGroups() >= lead,
                    () -> "the first " + lead + " groups expired; " + seen + ", generator failure " + generator.failure());
            assertEquals(0, trainer.step(), "nothing was scored");

            process = scorer.start(bootstrap, topics.prefix(), SCORER_ID);
            Process running = process;
            await(Duration.ofSeconds(120), () -> seen.poll() && trainer.policyVersion() >= 2,
                    () -> "version 2; " + seen + ", trainer step " + trainer.step() + ", generator admitted "
                            + generator.groupsAdmitted() + ", scorer alive " + running.isAlive() + ", failures " + trainer.failure()
                            + " " + generator.failure() + "\nscorer output:\n" + scorer.logTail());
        } finally {
            if (process != null && process.isAlive()) {
                process.destroyForcibly();
                process.waitFor(10, TimeUnit.SECONDS);
            }
        }
    }

    private static Topics freshTopics(String bootstrap) {
        Topics topics = Topics.withPrefix("ext-" + System.nanoTime() + ".");
        TopicAdmin.ensureTopics(bootstrap, topics, 2, (short) 1);
        return topics;
    }

    /** A small SFT checkpoint: the trainer's reference and version 0. */
    private static Path sft(Path dir) throws Exception {
        Path sft = dir.resolve("sft.ckpt");
        try (Policy policy = Policy.create(new ModelConfig(ByteTokenizer.VOCAB_SIZE, 16, 32, 1, 2), Device.cpu(), 1)) {
            SftTrainer.train(policy, Tasks.byName("arithmetic"),
                    new SftConfig(30, 32, AdamWConfig.DEFAULT.withLr(3e-3), 5, 1.0, 1), null);
            Checkpoint.of(policy, 30, Map.of(), Map.of("task", "arithmetic")).write(sft);
        }
        return sft;
    }

    /** Only the external scorer, required; no built-in scorer writes a reward. */
    private static RewardConfig rewardConfig(String bootstrap, Topics topics, Path dir, Duration groupTimeout) {
        return RewardConfig.defaults(bootstrap).withTopics(topics)
                .withScorers(Map.of(SCORER_ID, 1.0), Map.of())
                .withBuiltInScorers(false)
                .withGroupTimeout(groupTimeout)
                .withStateDir(dir.resolve("reward-state"));
    }

    private static TrainerService trainer(String bootstrap, Topics topics, Path sft, Path dir) throws Exception {
        return new TrainerService(TrainerCommand.config(bootstrap, topics, sft, dir.resolve("trainer"),
                BATCH_GROUPS, 1, MAX_STALENESS, 1e-4, 0.04, 0).withDevice("cpu", 1)).start();
    }

    private static GeneratorService generator(String bootstrap, Topics topics) {
        return new GeneratorService(GeneratorConfig.defaults(bootstrap).withTopics(topics)
                .withGroupSize(GROUP_SIZE).withBatching(2, Duration.ofMillis(10)).withSampling(1f, 0, 1f, 5)
                .withStaleness(MAX_STALENESS, BATCH_GROUPS)).start();
    }

    /** Everything a read_committed reader has seen on the run's topics so far. */
    private static final class Seen implements AutoCloseable {
        private final Topics topics;
        private final KafkaConsumer<String, byte[]> consumer;
        final List<Rollout> rollouts = new ArrayList<>();
        final List<Reward> rewards = new ArrayList<>();
        final List<ScoredGroup> scored = new ArrayList<>();
        final List<DeadLetter> deadLetters = new ArrayList<>();
        final List<Metric> metrics = new ArrayList<>();

        Seen(String bootstrap, Topics topics) {
            this.topics = topics;
            this.consumer = new KafkaConsumer<>(Map.of(
                    ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                    ConsumerConfig.GROUP_ID_CONFIG, "ext-e2e-reader-" + System.nanoTime(),
                    ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
                    ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
                    ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, 16 * 1024 * 1024),
                    new StringDeserializer(), new ByteArrayDeserializer());
            consumer.subscribe(List.of(topics.rollouts(), topics.rewards(), topics.scoredGroups(),
                    topics.deadLetters(), topics.metrics()));
        }

        /** One poll; always true, so it can lead a condition. */
        boolean poll() {
            for (ConsumerRecord<String, byte[]> rec : consumer.poll(Duration.ofMillis(200))) {
                String topic = rec.topic();
                if (topic.equals(topics.rollouts())) rollouts.add(RecordCodec.of(Rollout.class).decode(rec));
                else if (topic.equals(topics.rewards())) rewards.add(RecordCodec.of(Reward.class).decode(rec));
                else if (topic.equals(topics.scoredGroups())) scored.add(RecordCodec.of(ScoredGroup.class).decode(rec));
                else if (topic.equals(topics.deadLetters())) deadLetters.add(RecordCodec.of(DeadLetter.class).decode(rec));
                else metrics.add(RecordCodec.of(Metric.class).decode(rec));
            }
            return true;
        }

        void pollFor(Duration duration) {
            long end = System.nanoTime() + duration.toNanos();
            while (System.nanoTime() < end) poll();
        }

        long completeRolloutGroups() {
            Map<String, Integer> perGroup = new HashMap<>();
            rollouts.forEach(r -> perGroup.merge(r.getGroupId(), 1, Integer::sum));
            return perGroup.values().stream().filter(n -> n == GROUP_SIZE).count();
        }

        long expiredGroups() {
            return deadLetters.stream().filter(l -> l.getErrorType().equals(DeadLetters.GROUP_TIMEOUT)).count();
        }

        long trainedOrDropped() {
            long sum = 0;
            for (Metric m : metrics) {
                if (m.getKind().equals(TrainerService.METRIC_KIND)) {
                    sum += (long) (m.getValues().getOrDefault("groups", 0.0) + m.getValues().getOrDefault("dropped_stale", 0.0));
                }
            }
            return sum;
        }

        @Override
        public String toString() {
            return "seen %d rollouts (%d whole groups), %d rewards, %d scored groups / %d, %d trained or dropped, dead letters %s"
                    .formatted(rollouts.size(), completeRolloutGroups(), rewards.size(), scored.size(), PROMPTS,
                            trainedOrDropped(), deadLetters.stream().map(DeadLetter::getErrorType).toList());
        }

        @Override
        public void close() {
            consumer.close();
        }
    }

    private static void await(Duration timeout, BooleanSupplier condition, Supplier<String> seen) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (condition.getAsBoolean()) return;
        }
        fail("not reached within " + timeout.toSeconds() + " s: " + seen.get());
    }
}
