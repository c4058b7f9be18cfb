package dev.rlkafka.trainer;

import dev.rlkafka.kafka.KafkaExtension;
import dev.rlkafka.kafka.TestKafka;
import dev.rlkafka.policy.model.Policy;
import dev.rlkafka.policy.weights.Checkpoint;
import dev.rlkafka.schemas.DeadLetters;
import dev.rlkafka.schemas.Sha256;
import dev.rlkafka.schemas.TopicAdmin;
import dev.rlkafka.schemas.Topics;
import dev.rlkafka.schemas.WeightBlobs;
import dev.rlkafka.schemas.avro.WeightChunk;
import dev.rlkafka.schemas.avro.DeadLetter;
import dev.rlkafka.schemas.avro.Metric;
import dev.rlkafka.schemas.avro.ScoredGroup;
import dev.rlkafka.schemas.serde.RlSerdes;
import dev.rlkafka.policy.tokenizer.ByteTokenizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link TrainerService} on a real broker: trains, publishes versions and metrics, dead-letters bad groups, resumes. */
@ExtendWith(KafkaExtension.class)
class TrainerServiceKafkaTest {
    @TempDir
    Path dir;

    @Test
    void trainsGroupsPublishesEachVersionOnceAndDeadLettersBadOnes(TestKafka kafka) throws Exception {
        String bootstrap = kafka.bootstrapServers();
        Topics topics = newTopics(bootstrap);
        Path reference = writeReference();

        List<ScoredGroup> groups;
        try (Policy sampler = Fixtures.tinyPolicy(7)) {
            groups = Fixtures.sampledGroups(sampler, "g", 10, 4, 11);
        }
        int[] prompt = ByteTokenizer.encodePrompt("1+1=");
        int[] tooLong = new int[40];
        java.util.Arrays.fill(tooLong, 'x');
        ScoredGroup untrainable = Fixtures.group("too-long", List.of(Fixtures.rollout("too-long", 0, 1, prompt, tooLong, new float[40], 0)),
                List.of(1.0), List.of(0.0));
        byte[] garbage = "not a scored group".getBytes(StandardCharsets.UTF_8);
        List<ScoredGroup> all = new ArrayList<>(groups);
        all.add(untrainable);
        TopicReader.produce(bootstrap, topics.scoredGroups(), all, List.of(garbage));

        // B=2, K=1, maxStaleness=2 and every rollout from version 0: steps at versions 0, 1, 2 train 6 groups;
        // from version 3 on the remaining 4 groups are 3 versions stale and dropped
        TrainerConfig config = TrainerConfig.defaults(bootstrap, dir.resolve("ckpt"), reference).withTopics(topics)
                .withBatching(2, 1, 2).withWeightChunkBytes(16 * 1024).withStop(0, true).withPollTimeout(Duration.ofMillis(100));
        List<StepResult> steps = new CopyOnWriteArrayList<>();
        try (TrainerService service = new TrainerService(config).onStep(steps::add).start()) {
            assertTrue(service.awaitStop(Duration.ofSeconds(90)), "trainer did not reach the end of the topic in 90 s");
            assertTrue(service.failure().isEmpty(), () -> "trainer failed: " + service.failure().get());
            assertEquals(3, service.step());
            assertEquals(3, service.policyVersion());
        }
        assertEquals(List.of(1L, 2L, 3L), steps.stream().map(StepResult::step).toList());
        assertEquals(List.of(1L, 2L, 3L), steps.stream().map(StepResult::policyVersion).toList());
        // each step's groups were sampled by version 0: staleness 0, 1, 2 at trainer versions 0, 1, 2
        assertEquals(List.of(List.of(2L), List.of(0L, 2L), List.of(0L, 0L, 2L)), steps.stream()
                .map(s -> java.util.Arrays.stream(s.stalenessHistogram()).boxed().toList()).toList());

        Map<Long, String> versions = TopicReader.publishedVersions(bootstrap, topics.policyWeights());
        assertEquals(List.of(0L, 1L, 2L, 3L), List.copyOf(versions.keySet()));
        assertEquals(Sha256.hex(Checkpoint.read(reference).weights()), versions.get(0L), "version 0 is the reference");
        Checkpoint checkpoint = Checkpoint.read(config.checkpointPath());
        assertEquals(Sha256.hex(checkpoint.weights()), versions.get(3L), "the checkpoint holds the last version's weights");

        TrainerState state = TrainerState.fromMetadata(checkpoint.metadata(), "checkpoint");
        assertEquals(6, state.trained().count());
        assertEquals(4, state.dropped().count());
        assertEquals(2, state.deadLettered().count());
        Audit consumed = new Audit(state.trained().count() + state.dropped().count(), state.trained().hash() + state.dropped().hash());
        assertEquals(Audit.of(groups.stream().map(ScoredGroup::getGroupId).toList()), consumed, "every valid group trained or dropped, once");

        List<Metric> written = TopicReader.readAll(bootstrap, topics.metrics()).stream().map(r -> RlSerdes.metric().codec().decode(r)).toList();
        List<Metric> metrics = written.stream().filter(m -> m.getKind().equals(TrainerService.METRIC_KIND)).toList();
        assertEquals(List.of(1L, 2L, 3L), metrics.stream().map(Metric::getStep).toList());
        // the 4 stale groups and both dead letters came after step 3: no step metric counts them, the idle one at stop does
        Metric idle = written.get(written.size() - 1);
        assertEquals(TrainerService.IDLE_METRIC_KIND, idle.getKind(), () -> "last metric: " + idle);
        assertEquals(3L, idle.getStep());
        assertEquals(4.0, idle.getValues().get("dropped_stale_since_step"), () -> idle.getValues().toString());
        assertEquals(2.0, idle.getValues().get("dead_letters"), () -> idle.getValues().toString());
        for (Metric m : metrics) {
            for (String key : List.of("reward_mean", "accuracy", "kl", "loss", "clip_fraction", "groups", "dropped_stale",
                    "dead_letters", "staleness_0", "tokens_per_s", "lag", "publish_ms")) {
                assertTrue(m.getValues().containsKey(key), "metric of step " + m.getStep() + " lacks " + key + ": " + m.getValues());
            }
            // the wait for a batch is measured from the previous step's end: the first step has none
            assertEquals(m.getStep() > 1, m.getValues().getOrDefault("wait_ms", -1.0) >= 0, "wait_ms of step " + m.getStep() + ": " + m.getValues());
        }

        List<DeadLetter> letters = TopicReader.readAll(bootstrap, topics.deadLetters()).stream()
                .map(r -> RlSerdes.deadLetter().codec().decode(r)).toList();
        assertEquals(2, letters.size(), () -> "dead letters: " + letters);
        DeadLetter undecodable = letters.stream().filter(l -> l.getErrorType().equals(DeadLetters.UNDECODABLE)).findFirst().orElseThrow();
        assertEquals(garbage.length, undecodable.getOriginalBytes().remaining());
        DeadLetter tooLongLetter = letters.stream().filter(l -> l.getErrorType().equals(InvalidGroupException.UNTRAINABLE_ROLLOUT))
                .findFirst().orElseThrow();
        assertTrue(tooLongLetter.getReason().contains("rollout too-long/0")
                && tooLongLetter.getReason().contains(topics.scoredGroups() + "-" + tooLongLetter.getSourcePartition() + "@"
                + tooLongLetter.getSourceOffset()), tooLongLetter.getReason());

        // a restart on the same checkpoint finds nothing new: no step, no version published again, no metric
        try (TrainerService again = new TrainerService(config).start()) {
            assertTrue(again.awaitStop(Duration.ofSeconds(60)), "restarted trainer did not stop at the end");
            assertTrue(again.failure().isEmpty(), () -> "restarted trainer failed: " + again.failure().get());
            assertEquals(3, again.step());
        }
        assertEquals(versions, TopicReader.publishedVersions(bootstrap, topics.policyWeights()));
        assertEquals(written.size(), TopicReader.readAll(bootstrap, topics.metrics()).size(),
                "the checkpoint's dead letters were reported before the restart, not again");
    }

    @Test
    void aVersionWhoseCheckpointFailsIsNeverVisible(TestKafka kafka) throws Exception {
        String bootstrap = kafka.bootstrapServers();
        Topics topics = newTopics(bootstrap);
        Path reference = writeReference();
        TrainerConfig config = TrainerConfig.defaults(bootstrap, dir.resolve("ckpt"), reference).withTopics(topics)
                .withBatching(2, 1, 2).withWeightChunkBytes(16 * 1024).withPollTimeout(Duration.ofMillis(100));
        try (TrainerService service = new TrainerService(config).start()) {
            // a non-empty directory where the checkpoint goes: the atomic rename of step 1's checkpoint fails,
            // after that version's chunks were sent
            java.nio.file.Files.createDirectories(config.checkpointPath().resolve("blocker"));
            try (Policy sampler = Fixtures.tinyPolicy(7)) {
                TopicReader.produce(bootstrap, topics.scoredGroups(), Fixtures.sampledGroups(sampler, "g", 2, 4, 11), List.of());
            }
            assertTrue(service.awaitStop(Duration.ofSeconds(60)), "trainer did not stop on the failed checkpoint");
            assertTrue(service.failure().isPresent(), "trainer went on without its checkpoint");
            assertEquals(0, service.policyVersion());
        }
        assertEquals(List.of(0L), List.copyOf(TopicReader.publishedVersions(bootstrap, topics.policyWeights()).keySet()),
                "version 1 was committed without its checkpoint");
        assertEquals(TopicReader.endOffsets(bootstrap, topics.policyWeights(), "read_uncommitted"),
                TopicReader.endOffsets(bootstrap, topics.policyWeights(), "read_committed"),
                "the failed version's transaction is still open: read_committed readers of the weights are stuck");
    }

    @Test
    void aGroupDroppedAsStaleIsReplacedByOneWaitingAndElseKeepsItsPlace(TestKafka kafka) throws Exception {
        String bootstrap = kafka.bootstrapServers();
        Topics topics = newTopics(bootstrap, 1);   // one partition: the trainer reads the groups in the order written
        // B=2, maxStaleness 0. a and b train at version 0; c, sampled by version 0, is stale at version 1, and e, already
        // waiting behind d, takes its place. Then g (version 1) is stale at version 2 and nothing waits behind h: h trains
        // alone rather than wait for groups a generator's gate lets in only once version 3 is out.
        TopicReader.produce(bootstrap, topics.scoredGroups(), List.of(Fixtures.simpleGroup("a", 0), Fixtures.simpleGroup("b", 0),
                Fixtures.simpleGroup("c", 0), Fixtures.simpleGroup("d", 1), Fixtures.simpleGroup("e", 1)), List.of());
        TrainerConfig config = TrainerConfig.defaults(bootstrap, dir.resolve("ckpt"), writeReference()).withTopics(topics)
                .withBatching(2, 1, 0).withWeightChunkBytes(16 * 1024).withStop(4, false).withPollTimeout(Duration.ofMillis(100));
        List<StepResult> steps = new CopyOnWriteArrayList<>();
        try (TrainerService service = new TrainerService(config).onStep(steps::add).start()) {
            awaitSteps(steps, 2);
            TopicReader.produce(bootstrap, topics.scoredGroups(), List.of(Fixtures.simpleGroup("g", 1), Fixtures.simpleGroup("h", 2)), List.of());
            awaitSteps(steps, 3);
            // what a generator lets in once version 3 is out
            TopicReader.produce(bootstrap, topics.scoredGroups(), List.of(Fixtures.simpleGroup("i", 3), Fixtures.simpleGroup("j", 3)), List.of());
            assertTrue(service.awaitStop(Duration.ofSeconds(60)), "trainer did not reach step 4 in 60 s");
            assertTrue(service.failure().isEmpty(), () -> "trainer failed: " + service.failure().get());
        }
        assertEquals(List.of(2, 2, 1, 2), steps.stream().map(StepResult::groups).toList());
        assertEquals(List.of(0L, 1L, 1L, 0L), steps.stream().map(StepResult::droppedStale).toList());
        assertEquals(List.of(), TopicReader.readAll(bootstrap, topics.deadLetters()), "no group came from a version not yet out");
        assertEquals(List.of(0L, 1L, 2L, 3L, 4L), List.copyOf(TopicReader.publishedVersions(bootstrap, topics.policyWeights()).keySet()));
    }

    @Test
    void withAWeightsStoreEachVersionIsAFileAndOnlyItsPointerIsPublished(TestKafka kafka) throws Exception {
        String bootstrap = kafka.bootstrapServers();
        Topics topics = newTopics(bootstrap, 1);
        List<ScoredGroup> groups = new ArrayList<>();
        for (int i = 0; i < 20; i++) groups.add(Fixtures.simpleGroup("s" + i, 0));
        TopicReader.produce(bootstrap, topics.scoredGroups(), groups, List.of());
        Path store = dir.resolve("store");
        TrainerConfig config = TrainerConfig.defaults(bootstrap, dir.resolve("ckpt"), writeReference()).withTopics(topics)
                .withBatching(2, 1, 100).withStop(10, false).withWeightsStore(store);
        try (TrainerService service = new TrainerService(config).start()) {
            assertTrue(service.awaitStop(Duration.ofSeconds(60)), "trainer did not reach step 10 in 60 s");
            assertTrue(service.failure().isEmpty(), () -> "trainer failed: " + service.failure().get());
        }

        List<WeightChunk> pointers = TopicReader.readAll(bootstrap, topics.policyWeights()).stream()
                .map(rec -> RlSerdes.weightChunk().codec().decode(rec)).toList();
        assertEquals(java.util.stream.LongStream.rangeClosed(0, 10).boxed().toList(), pointers.stream().map(WeightChunk::getVersion).toList(),
                "one record per version");
        assertTrue(pointers.stream().allMatch(p -> p.getBytes() == null && p.getBlobUri().startsWith("file:")), "pointers only");
        WeightChunk last = pointers.get(10);
        assertEquals(Sha256.hex(Checkpoint.read(config.checkpointPath()).weights()), Sha256.hex(WeightBlobs.read(last)),
                "the newest file holds the checkpoint's weights");
        assertEquals(config.weightsStoreDir(), Path.of(java.net.URI.create(last.getBlobUri())).getParent(), "the run's own folder of the store");
        assertEquals(java.util.stream.LongStream.rangeClosed(11 - TrainerConfig.WEIGHTS_STORE_KEEP, 10).mapToObj(v -> "policy-v" + v + "-").sorted().toList(),
                java.nio.file.Files.list(config.weightsStoreDir()).map(p -> p.getFileName().toString().replaceAll("-[0-9a-f]+\\.weights$", "-"))
                        .sorted().toList(), "the newest versions are kept");
    }

    private static void awaitSteps(List<StepResult> steps, int count) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (steps.size() < count) {
            assertTrue(System.nanoTime() < deadline, "not " + count + " steps in 30 s: " + steps);
            Thread.sleep(50);   // polling a condition with a deadline
        }
    }

    /** A run's topics under a prefix of their own, two partitions each. */
    private static Topics newTopics(String bootstrap) {
        return newTopics(bootstrap, 2);
    }

    private static Topics newTopics(String bootstrap, int partitions) {
        Topics topics = Topics.withPrefix("trainer-" + UUID.randomUUID().toString().substring(0, 8) + ".");
        TopicAdmin.ensureTopics(bootstrap, topics, partitions, (short) 1);
        return topics;
    }

    private Path writeReference() throws Exception {
        Path reference = dir.resolve("reference.ckpt");
        Fixtures.writeReference(reference, 7);
        return reference;
    }
}
