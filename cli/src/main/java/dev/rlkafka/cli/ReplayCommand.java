package dev.rlkafka.cli;

import dev.rlkafka.cli.observe.RawRecord;
import dev.rlkafka.cli.observe.ReplayReport;
import dev.rlkafka.cli.observe.RunReplay;
import dev.rlkafka.cli.observe.TopicKind;
import dev.rlkafka.cli.observe.TopicReader;
import dev.rlkafka.schemas.Topics;
import dev.rlkafka.schemas.serde.RecordDecodingException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicReference;

/** Reads a run's topics back from the beginning and tells its story. */
@Command(name = "replay", mixinStandardHelpOptions = true,
        description = {"Re-read a run's rollouts, rewards, scored-groups, metrics and dead-letters from the beginning and "
                + "rebuild its story: per policy version the reward and accuracy of the rollouts it sampled, per trainer "
                + "step the metrics the trainer reported live (reward, accuracy, KL, loss, staleness, ...), the staleness "
                + "of trained groups, what each scorer gave, and dead letters by reason. Prints a summary and writes "
                + "replay.json, replay-versions.csv and replay-steps.csv to runs/<id>/.", ""})
final class ReplayCommand implements Callable<Integer> {
    /** Reading a demo's topics takes seconds; this only bounds a cluster that stopped answering. */
    static final Duration READ_TIMEOUT = Duration.ofMinutes(10);

    @Option(names = "--run", required = true, paramLabel = "ID", description = "The run: its topics are run-<ID>.rl.*, its folder runs/<ID>/.")
    String runId;

    @Mixin RunOptions cluster;

    @Override
    public Integer call() throws Exception {
        try {
            return replay();
        } catch (IllegalArgumentException e) {
            System.err.println("rlkafka replay: " + e.getMessage());
            return 2;
        }
    }

    private int replay() throws Exception {
        AtomicReference<TopicReader> current = new AtomicReference<>();
        try (ShutdownSignal signal = new ShutdownSignal(() -> {
                 TopicReader reader = current.get();
                 if (reader != null) reader.stop();
             });
             RunCluster run = RunCluster.ofRun(runId, cluster.bootstrap, cluster.clientConfig(), cluster.runsDir, System.out);
             TopicReader reader = new TopicReader(run.bootstrap(), run.clientConfig())) {
            current.set(reader);
            Topics topics = run.topics();
            List<String> names = List.of(topics.rollouts(), topics.rewards(), topics.scoredGroups(), topics.metrics(), topics.deadLetters());
            System.out.println("replaying run " + runId + " from " + run.describe() + ": " + names);
            RunReplay.Replay replay = read(reader, names);
            if (signal.stopRequested() || reader.stopped()) {
                System.out.println("stopped before the end of the topics; nothing written");
                return 1;
            }
            System.out.println();
            ReplayReport.print(replay, System.out);
            Map<String, String> about = new LinkedHashMap<>();
            about.put("run", runId);
            about.put("topicPrefix", topics.prefix());
            about.put("source", run.describe());
            List<Path> files = ReplayReport.write(replay, run.runDir(), about);
            System.out.println();
            System.out.println("files: " + files.stream().map(Path::toString).toList());
        }
        return 0;
    }

    /** Every record of {@code topics} through a {@link RunReplay}; undecodable ones are counted, not fatal. */
    static RunReplay.Replay read(TopicReader reader, List<String> topics) {
        RunReplay replay = new RunReplay();
        reader.readToEnd(topics, READ_TIMEOUT, (RawRecord raw) -> {
            try {
                replay.accept(TopicKind.require(raw.topic()).decode(raw));
            } catch (RecordDecodingException e) {
                replay.undecodable(e.getMessage());
            }
        });
        return replay.result();
    }
}
