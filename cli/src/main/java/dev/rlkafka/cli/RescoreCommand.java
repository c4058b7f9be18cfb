package dev.rlkafka.cli;

import dev.rlkafka.cli.observe.RawRecord;
import dev.rlkafka.cli.observe.Rescore;
import dev.rlkafka.cli.observe.RescoreReport;
import dev.rlkafka.cli.observe.RescoreScorers;
import dev.rlkafka.cli.observe.TopicKind;
import dev.rlkafka.cli.observe.TopicReader;
import dev.rlkafka.schemas.TopicAdmin;
import dev.rlkafka.schemas.TopicSpec;
import dev.rlkafka.schemas.KafkaClientConfig;
import dev.rlkafka.schemas.Topics;
import dev.rlkafka.schemas.avro.Reward;
import dev.rlkafka.schemas.avro.Rollout;
import dev.rlkafka.schemas.serde.RecordDecodingException;
import dev.rlkafka.schemas.serde.RlSerdes;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.IntStream;

/** Re-scores every rollout of a run with another scorer, to a new rewards topic, and reports the agreement. */
@Command(name = "rescore", mixinStandardHelpOptions = true,
        description = {"Re-score every rollout of a finished run with a new or changed scorer and report how its scores "
                + "agree with each old scorer's: rollouts scored by both, Pearson correlation, mean absolute difference, "
                + "disagreements (sign differs or |diff| > --threshold) with examples. The audit of a reward-hacking "
                + "investigation: the run's own topics are only read; the new rewards go to a new topic (key: group id, "
                + "each in its rollout's partition, so it co-partitions with the rollouts like rl.rewards). Prints the "
                + "report and writes runs/<id>/rescore-<scorer>.json.", ""})
final class RescoreCommand implements Callable<Integer> {
    @Option(names = "--run", required = true, paramLabel = "ID", description = "The run: its topics are run-<ID>.rl.*, its folder runs/<ID>/.")
    String runId;

    @Option(names = "--scorer", required = true, paramLabel = "NAME", completionCandidates = ScorerNames.class,
            description = "The new scorer: ${COMPLETION-CANDIDATES}. Built-in ones score with the rollout's own task; "
                    + "answer-prefix (a lenient judge: the answer only has to start right) and exact-answer-strict "
                    + "(whitespace counts) are variants to compare with exact-answer.")
    String scorer;

    @Option(names = "--out-topic", paramLabel = "T",
            description = "Where the new rewards go, behind the run's prefix (default: rl.rewards.rescore-<scorer>); "
                    + "must extend rl.rewards (e.g. rewards.my-judge) so tail and replay know it holds Rewards.")
    String outTopic;

    @Option(names = "--threshold", defaultValue = "" + Rescore.DEFAULT_THRESHOLD,
            description = "Scores further apart than this disagree, as do scores of different sign (default: ${DEFAULT-VALUE}).")
    double threshold;

    @Option(names = "--examples", defaultValue = "" + Rescore.DEFAULT_EXAMPLES,
            description = "Disagreements shown per old scorer (default: ${DEFAULT-VALUE}).")
    int examples;

    @Mixin RunOptions cluster;

    @Override
    public Integer call() throws Exception {
        try {
            return rescore();
        } catch (IllegalArgumentException e) {
            System.err.println("rlkafka rescore: " + e.getMessage());
            return 2;
        }
    }

    private int rescore() throws Exception {
        Rescore rescore = new Rescore(RescoreScorers.byName(scorer), threshold, examples);   // bad options fail before a broker starts
        AtomicReference<TopicReader> current = new AtomicReference<>();
        try (ShutdownSignal signal = new ShutdownSignal(() -> {
                 TopicReader reader = current.get();
                 if (reader != null) reader.stop();
             });
             RunCluster run = RunCluster.ofRun(runId, cluster.bootstrap, cluster.clientConfig(), cluster.runsDir, System.out);
             TopicReader reader = new TopicReader(run.bootstrap(), run.clientConfig())) {
            current.set(reader);
            Topics topics = run.topics();
            String out = outTopic(topics);
            int partitions = createOutTopic(run.bootstrap(), run.clientConfig(), topics, out);
            System.out.println("re-scoring " + topics.rollouts() + " with " + scorer + " into " + out + " (" + partitions
                    + " partitions) on " + run.describe());
            long undecodable = write(reader, run.bootstrap(), run.clientConfig(), topics, out, rescore);
            if (signal.stopRequested() || reader.stopped()) {
                System.out.println("stopped before the end of the rollouts; " + out + " holds part of the rewards");
                return 1;
            }
            Rescore.Report report = rescore.report();
            System.out.println();
            if (undecodable > 0) System.out.println(undecodable + " records did not decode and were skipped");
            RescoreReport.print(report, System.out);
            Map<String, String> about = new LinkedHashMap<>();
            about.put("run", runId);
            about.put("topicPrefix", topics.prefix());
            about.put("outTopic", out);
            about.put("source", run.describe());
            Path file = RescoreReport.write(report, run.runDir(), about);
            System.out.println();
            System.out.println("file: " + file);
        }
        return 0;
    }

    private String outTopic(Topics topics) {
        String out = outTopic == null ? topics.rewards() + ".rescore-" + scorer : TopicKind.resolve(outTopic, topics);
        if (out.equals(topics.rewards())) {
            throw new IllegalArgumentException("--out-topic " + outTopic + " is the run's own rewards topic; re-scores go to a new one");
        }
        if (TopicKind.of(out).orElse(null) != TopicKind.REWARDS) {
            throw new IllegalArgumentException("--out-topic " + outTopic + " (" + out + ") must extend rl.rewards, e.g. rewards.my-judge");
        }
        return out;
    }

    /**
     * Creates {@code out} like the run's rewards topic: the rollouts' partition count and replication, the
     * rewards spec's configs. An existing empty topic of that shape is reused; one with records is refused.
     *
     * @return the partition count
     */
    static int createOutTopic(String bootstrap, KafkaClientConfig client, Topics topics, String out)
            throws InterruptedException, ExecutionException {
        try (Admin admin = Admin.create(client.with(bootstrap))) {
            if (!admin.listTopics().names().get().contains(topics.rollouts())) {
                throw new IllegalArgumentException("topic " + topics.rollouts() + " does not exist: no run with prefix "
                        + topics.prefix() + " on " + bootstrap);
            }
            TopicDescription rollouts = admin.describeTopics(List.of(topics.rollouts())).allTopicNames().get().get(topics.rollouts());
            int partitions = rollouts.partitions().size();
            short replicas = (short) rollouts.partitions().get(0).replicas().size();
            TopicSpec rewards = TopicSpec.forRun(topics, partitions).stream()
                    .filter(s -> s.name().equals(topics.rewards())).findFirst().orElseThrow();
            TopicSpec spec = new TopicSpec(out, partitions, rewards.cleanupPolicy(), rewards.retentionMs(), rewards.maxMessageBytes());
            if (!admin.listTopics().names().get().contains(out)) {
                admin.createTopics(List.of(new NewTopic(out, partitions, replicas).configs(spec.configs()))).all().get();
                TopicAdmin.awaitLeadersServe(admin, IntStream.range(0, partitions).mapToObj(p -> new TopicPartition(out, p)).toList());
                return partitions;
            }
            TopicDescription existing = admin.describeTopics(List.of(out)).allTopicNames().get().get(out);
            if (existing.partitions().size() != partitions) {
                throw new IllegalArgumentException("topic " + out + " exists with " + existing.partitions().size()
                        + " partitions, the rollouts have " + partitions + "; pass another --out-topic");
            }
            Map<TopicPartition, OffsetSpec> latest = new LinkedHashMap<>();
            existing.partitions().forEach(p -> latest.put(new TopicPartition(out, p.partition()), OffsetSpec.latest()));
            long records = 0;
            for (var offset : admin.listOffsets(latest).all().get().values()) records += offset.offset();
            if (records > 0) {
                throw new IllegalArgumentException("topic " + out + " already holds " + records + " records (an earlier rescore?); "
                        + "delete it or pass another --out-topic");
            }
            return partitions;
        }
    }

    /** Reads rollouts and old rewards to the end; each new reward goes to its rollout's partition. @return undecodable records */
    private static long write(TopicReader reader, String bootstrap, KafkaClientConfig client, Topics topics, String out,
                              Rescore rescore) {
        AtomicReference<Exception> failed = new AtomicReference<>();
        AtomicLong undecodable = new AtomicLong();
        Properties props = client.with(bootstrap);
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        props.put(ProducerConfig.LINGER_MS_CONFIG, 20);
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(props, new StringSerializer(), new ByteArraySerializer())) {
            reader.readToEnd(List.of(topics.rollouts(), topics.rewards()), ReplayCommand.READ_TIMEOUT, (RawRecord raw) -> {
                SpecificRecord value;
                try {
                    value = TopicKind.require(raw.topic()).decode(raw);
                } catch (RecordDecodingException e) {
                    System.err.println("skipping: " + e.getMessage());
                    undecodable.incrementAndGet();
                    return;
                }
                if (value instanceof Reward old) {
                    rescore.oldReward(old);
                } else if (value instanceof Rollout rollout) {
                    rescore.score(rollout, Instant.now()).ifPresent(reward -> producer.send(
                            new ProducerRecord<>(out, raw.partition(), rollout.getGroupId(), RlSerdes.reward().codec().encode(out, reward)),
                            (metadata, e) -> { if (e != null) failed.compareAndSet(null, e); }));
                }
            });
            producer.flush();
        }
        if (failed.get() != null) {
            throw new IllegalStateException("writing the new rewards to " + out + " failed: " + failed.get(), failed.get());
        }
        return undecodable.get();
    }

    /** The scorer names for --help and shell completion. */
    static final class ScorerNames extends ArrayList<String> {
        ScorerNames() {
            super(RescoreScorers.descriptions().keySet());
        }
    }
}
