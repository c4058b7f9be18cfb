package dev.rlkafka.trainer;

import dev.rlkafka.kafka.KafkaExtension;
import dev.rlkafka.kafka.TestKafka;
import dev.rlkafka.policy.model.Policy;
import dev.rlkafka.policy.train.Algorithm;
import dev.rlkafka.policy.weights.Checkpoint;
import dev.rlkafka.policy.weights.Tensor;
import dev.rlkafka.schemas.Sha256;
import dev.rlkafka.schemas.TopicAdmin;
import dev.rlkafka.schemas.Topics;
import dev.rlkafka.schemas.avro.ScoredGroup;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.RecordsToDelete;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * For every algorithm, a trainer stopped and restarted from its checkpoint ends with the very weights and optimiser
 * state (PPO: critic included) of one that ran through: the checkpoint holds everything an update depends on. And
 * one whose next groups were deleted stops rather than skip them.
 */
@ExtendWith(KafkaExtension.class)
class TrainerResumeKafkaTest {
    private static final int GROUPS = 6;

    @TempDir
    Path dir;

    @ParameterizedTest
    @EnumSource(Algorithm.class)
    void aRestartedTrainerEndsBitIdenticalToOneThatRanThrough(Algorithm algorithm, TestKafka kafka) throws Exception {
        String bootstrap = kafka.bootstrapServers();
        Path reference = reference();
        List<ScoredGroup> groups = groups("resume-g");

        // through: all six groups on the topic, three steps of two groups
        Topics through = topics("through");
        TrainerConfig throughConfig = config(bootstrap, through, reference, dir.resolve("through"), algorithm);
        TopicReader.produce(bootstrap, through.scoredGroups(), groups, List.of());
        Checkpoint ranThrough = runToEnd(throughConfig, 3);

        // restarted: four groups, stop; two more groups, start again from the checkpoint
        Topics restarted = topics("restarted");
        TrainerConfig config = config(bootstrap, restarted, reference, dir.resolve("restarted"), algorithm);
        TopicReader.produce(bootstrap, restarted.scoredGroups(), groups.subList(0, 4), List.of());
        runToEnd(config, 2);
        TopicReader.produce(bootstrap, restarted.scoredGroups(), groups.subList(4, GROUPS), List.of());
        Checkpoint resumed = runToEnd(config, 3);

        // this failed now and then until the backward pass stopped reading freed memory (see Scale); should it fail
        // again, the message says how far apart the runs were: a last-bit difference or a lost part of the state
        assertEquals(Sha256.hex(ranThrough.weights()), Sha256.hex(resumed.weights()),
                () -> algorithm + " weights; optimiser state " + difference(ranThrough.optimizerState(), resumed.optimizerState()));
        assertEquals(ranThrough.optimizerState(), resumed.optimizerState(), algorithm + " optimiser state");
        assertEquals(algorithm == Algorithm.PPO, resumed.optimizerState().keySet().stream().anyMatch(k -> k.startsWith("critic.weights.")),
                "the critic is in the checkpoint exactly when the algorithm is PPO");
        assertEquals(TrainerState.fromMetadata(ranThrough.metadata(), "through").trained(),
                TrainerState.fromMetadata(resumed.metadata(), "resumed").trained(), "the same groups trained once");
    }

    @Test
    void aRestartWhoseNextGroupsWereDeletedStopsInsteadOfSkippingThem(TestKafka kafka) throws Exception {
        String bootstrap = kafka.bootstrapServers();
        Path reference = reference();
        List<ScoredGroup> groups = groups("deleted-g");
        Topics topics = topics("deleted");
        TrainerConfig config = config(bootstrap, topics, reference, dir.resolve("deleted"), Algorithm.GRPO);
        TopicReader.produce(bootstrap, topics.scoredGroups(), groups.subList(0, 4), List.of());
        runToEnd(config, 2);   // the checkpoint resumes at offset 4
        TopicReader.produce(bootstrap, topics.scoredGroups(), groups.subList(4, GROUPS), List.of());
        TopicPartition partition = new TopicPartition(topics.scoredGroups(), 0);
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
            admin.deleteRecords(Map.of(partition, RecordsToDelete.beforeOffset(5))).all().get();   // group 5 of 6 is gone
        }

        try (TrainerService service = new TrainerService(config).start()) {
            assertTrue(service.awaitStop(Duration.ofSeconds(60)), "trainer did not stop in 60 s");
            String failure = service.failure().map(Throwable::getMessage).orElse("no failure");
            assertTrue(failure.contains("are gone") && failure.contains(partition.toString()), failure);
            assertEquals(2, service.step(), "nothing trained past the gap");
        }
        assertEquals(2, TrainerState.fromMetadata(Checkpoint.read(config.checkpointPath()).metadata(), "after").step());
    }

    /** Which optimiser-state tensors differ, and the largest absolute difference among them. */
    private static String difference(Map<String, Tensor> expected, Map<String, Tensor> actual) {
        if (!expected.keySet().equals(actual.keySet())) return "names differ: " + expected.keySet() + " vs " + actual.keySet();
        int differing = 0;
        double largest = 0;
        for (var e : expected.entrySet()) {
            float[] a = e.getValue().data(), b = actual.get(e.getKey()).data();
            if (a.length != b.length) return e.getKey() + " has " + a.length + " vs " + b.length + " values";
            boolean differs = false;
            for (int i = 0; i < a.length; i++) {
                if (Float.floatToRawIntBits(a[i]) != Float.floatToRawIntBits(b[i])) {
                    differs = true;
                    largest = Math.max(largest, Math.abs((double) a[i] - b[i]));
                }
            }
            if (differs) differing++;
        }
        return differing + " of " + expected.size() + " tensors differ, by at most " + largest;
    }

    private Path reference() throws Exception {
        Path reference = dir.resolve("reference.ckpt");
        Fixtures.writeReference(reference, 5);
        return reference;
    }

    /** GROUPS groups sampled from the reference's tiny policy, ids starting with {@code idPrefix}. */
    private static List<ScoredGroup> groups(String idPrefix) {
        try (Policy sampler = Fixtures.tinyPolicy(5)) {
            return Fixtures.sampledGroups(sampler, idPrefix, GROUPS, 4, 9);
        }
    }

    private static Topics topics(String name) {
        return Topics.withPrefix("resume-" + name + "-" + UUID.randomUUID().toString().substring(0, 8) + ".");
    }

    /**
     * Creates the run's topics, one partition each so both runs read the groups in the same order; B = 2, K = 1,
     * nothing too stale to train.
     */
    private static TrainerConfig config(String bootstrap, Topics topics, Path reference, Path checkpointDir, Algorithm algorithm)
            throws Exception {
        TopicAdmin.ensureTopics(bootstrap, topics, 1, (short) 1);
        return TrainerConfig.defaults(bootstrap, checkpointDir, reference).withTopics(topics)
                .withUpdate(algorithm.config(1e-3, algorithm.defaultBeta(), 0, TrainerConfig.DEFAULT_MAX_GRAD_NORM))
                .withBatching(2, 1, 100).withDevice("cpu", 1).withStop(0, true).withPollTimeout(Duration.ofMillis(100));
    }

    private static Checkpoint runToEnd(TrainerConfig config, long expectedSteps) throws Exception {
        try (TrainerService service = new TrainerService(config).start()) {
            assertTrue(service.awaitStop(Duration.ofSeconds(60)), "trainer did not reach the end of the topic in 60 s");
            assertTrue(service.failure().isEmpty(), () -> "trainer failed: " + service.failure().get());
            assertEquals(expectedSteps, service.step());
        }
        return Checkpoint.read(config.checkpointPath());
    }
}
