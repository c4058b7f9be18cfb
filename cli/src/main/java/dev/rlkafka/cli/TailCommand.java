package dev.rlkafka.cli;

import dev.rlkafka.cli.observe.RecordFilter;
import dev.rlkafka.cli.observe.Tail;
import dev.rlkafka.cli.observe.TopicKind;
import dev.rlkafka.cli.observe.TopicReader;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicReference;

/** Prints the records of one rl topic as they arrive, decoded. */
@Command(name = "tail",
        description = {"Print the records of one rl topic as they arrive, decoded with the Avro contract: one line per "
                + "record, or JSON with --json. Committed records only (read_committed); no consumer group, so nothing "
                + "is committed and no service is disturbed. A record that does not decode prints one line starting "
                + "with '!' naming topic-partition@offset and why, and the tail goes on. Ctrl-C ends it. Status lines "
                + "go to stderr, records to stdout.", ""})
final class TailCommand implements Callable<Integer> {
    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help message and exit.")
    boolean help;

    @Parameters(index = "0", paramLabel = "TOPIC",
            description = "rollouts, rewards, scored-groups, metrics, dead-letters, prompts, policy-weights (or rl.<name>, "
                    + "or a derived topic like rewards.rescore-format), behind the run's prefix; any other name is used as is.")
    String topic;

    @Mixin RunOptions cluster;

    @Option(names = "--run", description = "The run whose topic to tail (its prefix run-<id>.).")
    String runId;

    @Option(names = "--prefix", defaultValue = "${env:RLKAFKA_PREFIX:-}",
            description = "Topic name prefix instead of --run (default: none; env RLKAFKA_PREFIX).")
    String prefix;

    @Option(names = "--from-beginning", description = "Start at the topic's first record instead of now.")
    boolean fromBeginning;

    @Option(names = "--json", description = "One JSON object per line: topic, partition, offset, key, type, value.")
    boolean json;

    @Option(names = "--group", paramLabel = "G", description = "Only records of group G (rollouts, rewards, scored-groups).")
    String group;

    @Option(names = "--version", paramLabel = "V",
            description = "Only records of policy version V (rollouts, scored-groups with a rollout of V, policy-weights, metrics).")
    Long version;

    @Option(names = "--scorer", paramLabel = "S", description = "Only records of scorer S (rewards, scored-groups scored by S).")
    String scorer;

    @Option(names = {"-n", "--max"}, paramLabel = "MAX", defaultValue = "0",
            description = "Stop after MAX lines (records shown and error lines); 0 = until Ctrl-C (default: ${DEFAULT-VALUE}).")
    long max;

    @Override
    public Integer call() throws Exception {
        try {
            return tail();
        } catch (IllegalArgumentException e) {
            System.err.println("rlkafka tail: " + e.getMessage());   // bad input: the message says which and why
            return 2;
        }
    }

    private int tail() throws Exception {
        if (runId != null && !prefix.isEmpty()) {
            throw new IllegalArgumentException("--run " + runId + " and --prefix " + prefix + " both name the topics; give one");
        }
        if (max < 0) throw new IllegalArgumentException("-n must be >= 0, got " + max);
        RecordFilter filter = new RecordFilter(group, version, scorer);
        AtomicReference<TopicReader> current = new AtomicReference<>();
        try (ShutdownSignal signal = new ShutdownSignal(() -> {
                 TopicReader reader = current.get();
                 if (reader != null) reader.stop();
             });
             RunCluster run = runId != null ? RunCluster.ofRun(runId, cluster.bootstrap, cluster.clientConfig(), cluster.runsDir, System.err)
                     : RunCluster.ofPrefix(cluster.bootstrapOrDefault(), cluster.clientConfig(), prefix);
             TopicReader reader = new TopicReader(run.bootstrap(), run.clientConfig())) {
            String name = TopicKind.resolve(topic, run.topics());
            Tail tail = new Tail(TopicKind.require(name), filter, json, System.out);
            current.set(reader);
            if (signal.stopRequested()) return 0;
            System.err.println("tail " + name + " on " + run.describe() + (fromBeginning ? " from the beginning" : " from now")
                    + (max > 0 ? ", " + max + " lines" : "") + "; Ctrl-C ends it");
            long[] shown = {0};
            reader.follow(name, fromBeginning, raw -> {
                if (tail.accept(raw)) shown[0]++;
                return max == 0 || shown[0] < max;
            });
        }
        return 0;
    }
}
