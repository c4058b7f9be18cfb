package dev.rlkafka.trainer;

import dev.rlkafka.kafka.KafkaExtension;
import dev.rlkafka.kafka.TestKafka;
import dev.rlkafka.policy.model.Policy;
import dev.rlkafka.policy.weights.Checkpoint;
import dev.rlkafka.schemas.Sha256;
import dev.rlkafka.schemas.TopicAdmin;
import dev.rlkafka.schemas.Topics;
import dev.rlkafka.schemas.WeightChunks;
import dev.rlkafka.schemas.avro.ScoredGroup;
import dev.rlkafka.schemas.serde.RlSerdes;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import java.util.stream.LongStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Exactly once across a real crash: the trainer runs as its own JVM ({@link TrainerMain}), is killed with
 * SIGKILL mid-run, and restarted until it has consumed the topic. The final checkpoint's audit must count every
 * group on the topic exactly once, and the weights topic must hold each version once, complete, in order.
 */
@ExtendWith(KafkaExtension.class)
class TrainerCrashRecoveryTest {
    private static final int GROUPS = 120;
    private static final int BATCH_GROUPS = 2;

    @TempDir
    Path dir;

    @Test
    void killedTrainerResumesWithoutTrainingAGroupTwiceOrSkippingOne(TestKafka kafka) throws Exception {
        String bootstrap = kafka.bootstrapServers();
        String prefix = "crash-" + UUID.randomUUID().toString().substring(0, 8) + ".";
        Topics topics = Topics.withPrefix(prefix);
        TopicAdmin.ensureTopics(bootstrap, topics, 2, (short) 1);
        Path reference = dir.resolve("reference.ckpt");
        Fixtures.writeReference(reference, 3);
        List<ScoredGroup> groups;
        try (Policy sampler = Fixtures.tinyPolicy(3)) {
            groups = Fixtures.sampledGroups(sampler, "crash-g", GROUPS, 4, 5);
        }
        TopicReader.produce(bootstrap, topics.scoredGroups(), groups, List.of());
        assertEquals(GROUPS, TopicReader.endOffsets(bootstrap, topics.scoredGroups(), "read_committed").values().stream()
                .mapToLong(Long::longValue).sum(), "groups on the topic before the trainer starts");
        Path checkpointDir = dir.resolve("ckpt");
        // K=1 (a version per step) and no staleness drops: every group is trained, GROUPS / B steps in all
        List<String> args = List.of("--bootstrap", bootstrap, "--prefix", prefix, "--checkpoint-dir", checkpointDir.toString(),
                "--reference", reference.toString(), "--batch-groups", "" + BATCH_GROUPS, "--steps-per-version", "1",
                "--max-staleness", "1000000", "--threads", "1", "--stop-at-end");

        Path firstLog = dir.resolve("first.log");
        Process first = spawn(args, firstLog);
        try {
            awaitVersions(bootstrap, topics.policyWeights(), 3, first, firstLog);
            assertTrue(first.isAlive(), () -> "the trainer finished before it could be killed; use more groups\n" + tail(firstLog));
        } finally {
            first.destroyForcibly();   // SIGKILL: no shutdown hook, no final checkpoint
            first.waitFor(30, TimeUnit.SECONDS);
        }
        assertTrue(Files.exists(checkpointDir.resolve(TrainerConfig.CHECKPOINT_FILE)), "a checkpoint before the kill");

        Path secondLog = dir.resolve("second.log");
        Process second = spawn(args, secondLog);
        if (!second.waitFor(110, TimeUnit.SECONDS)) {
            second.destroyForcibly();
            fail("restarted trainer did not reach the end of the topic in 110 s\n" + tail(secondLog));
        }
        assertEquals(0, second.exitValue(), () -> "restarted trainer failed\n" + tail(secondLog));

        Checkpoint checkpoint = Checkpoint.read(checkpointDir.resolve(TrainerConfig.CHECKPOINT_FILE));
        TrainerState state = TrainerState.fromMetadata(checkpoint.metadata(), "final checkpoint");
        Audit onTopic = Audit.of(groups.stream().map(ScoredGroup::getGroupId).toList());
        // on a failure, what each run did: where it resumed, what it published, how it stopped
        Supplier<String> story = () -> "final checkpoint " + checkpoint.metadata() + "\nfirst run:\n" + keyLines(firstLog) + "\n...\n" + tail(firstLog, 6)
                + "\nsecond run:\n" + keyLines(secondLog);
        assertEquals(onTopic, state.trained(), () -> "every group on the topic trained exactly once (count and id hash)\n" + story.get());
        assertEquals(Audit.EMPTY, state.dropped(), story);
        assertEquals(Audit.EMPTY, state.deadLettered(), story);
        assertEquals(GROUPS / BATCH_GROUPS, state.step(), story);

        // each version once (the helper fails on a repeat or a second sha256), complete, increasing, none missing
        Map<Long, String> versions = TopicReader.publishedVersions(bootstrap, topics.policyWeights());
        assertEquals(LongStream.rangeClosed(0, state.policyVersion()).boxed().toList(), List.copyOf(versions.keySet()));
        assertEquals(Sha256.hex(checkpoint.weights()), versions.get(state.policyVersion()));
        assertTrue(Files.readString(secondLog).contains("resuming from"), () -> "the restart resumed\n" + tail(secondLog));
    }

    private static Process spawn(List<String> args, Path log) throws IOException {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx1g", "-Dai.djl.offline=true", "-cp", System.getProperty("java.class.path"), TrainerMain.class.getName()));
        command.addAll(args);
        return new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    }

    /** Waits, reading the weights topic as a generator would, until {@code count} versions are complete. */
    private static void awaitVersions(String bootstrap, String topic, int count, Process process, Path log) throws IOException {
        try (var consumer = new KafkaConsumer<>(Map.<String, Object>of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed"), new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            consumer.assign(List.of(new TopicPartition(topic, 0)));
            consumer.seekToBeginning(List.of(new TopicPartition(topic, 0)));
            WeightChunks.Assembler assembler = new WeightChunks.Assembler();
            int complete = 0;
            long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
            while (complete < count) {
                if (System.nanoTime() > deadline) fail("only " + complete + " of " + count + " versions in 90 s\n" + tail(log));
                if (!process.isAlive()) fail("trainer exited with " + process.exitValue() + " after " + complete + " versions\n" + tail(log));
                for (var rec : consumer.poll(Duration.ofMillis(200))) {
                    if (assembler.add(RlSerdes.weightChunk().codec().decode(rec)).isPresent()) complete++;
                }
            }
        }
    }

    /** A trainer's lines that tell where it started, resumed, published and stopped, for a failure message. */
    private static String keyLines(Path log) {
        return lines(log).stream()
                .filter(l -> l.contains("resuming") || l.contains("reading") || l.contains("version") && !l.contains("step ")
                        || l.contains("stopping") || l.contains("WARN") || l.contains("ERROR"))
                .collect(Collectors.joining("\n"));
    }

    /** The last lines of a trainer's output, for a failure message. */
    private static String tail(Path log) {
        return tail(log, 40);
    }

    private static String tail(Path log, int count) {
        List<String> lines = lines(log);
        return String.join("\n", lines.subList(Math.max(0, lines.size() - count), lines.size()));
    }

    /** A trainer's output, or one line saying why it cannot be read: a failure message should not fail itself. */
    private static List<String> lines(Path log) {
        try {
            return Files.exists(log) ? Files.readAllLines(log) : List.of();
        } catch (IOException e) {
            return List.of("(cannot read " + log + ": " + e + ")");
        }
    }
}
