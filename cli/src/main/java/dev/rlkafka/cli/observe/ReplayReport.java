package dev.rlkafka.cli.observe;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rlkafka.cli.observe.RunReplay.DeadLetterStats;
import dev.rlkafka.cli.observe.RunReplay.Replay;
import dev.rlkafka.cli.observe.RunReplay.ScorerStats;
import dev.rlkafka.cli.observe.RunReplay.StepStats;
import dev.rlkafka.cli.observe.RunReplay.VersionStats;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * A {@link Replay} for people and for tools: a terminal summary, {@code replay.json}, and one CSV row per
 * policy version ({@code replay-versions.csv}) and per trainer step ({@code replay-steps.csv}).
 */
public final class ReplayReport {
    public static final String JSON_FILE = "replay.json";
    public static final String VERSIONS_CSV = "replay-versions.csv";
    public static final String STEPS_CSV = "replay-steps.csv";
    /** The terminal shows at most about this many rows per table; the CSVs have all. */
    static final int TABLE_ROWS = 20;
    /**
     * Step columns first in the order of the demo's metrics.csv, so the two files read side by side; any other
     * value the trainer reported follows, alphabetically.
     */
    static final List<String> STEP_COLUMNS = List.of("groups", "dropped_stale", "reward_mean", "accuracy", "kl", "loss",
            "clip_fraction", "tokens", "tokens_per_s", "lag", "wait_ms", "publish_ms");
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private ReplayReport() {
    }

    /** The summary a person reads after {@code rlkafka replay}. */
    public static void print(Replay r, PrintStream out) {
        out.printf(Locale.ROOT, "%d rollouts, %d rewards, %d scored groups, %d metric events, %d dead letters%s%n",
                r.rollouts(), r.rewards(), r.scoredGroups(), r.metrics(), r.deadLetters(),
                r.undecodable() == 0 ? "" : ", " + r.undecodable() + " undecodable records");
        r.undecodableExamples().forEach(m -> out.println("  ! " + RecordFormat.oneLine(m)));

        List<String> scorerIds = versionScorers(r);
        out.println();
        out.println("per policy version: the rollouts it sampled, from the scored groups" + every(r.versions().size(), VERSIONS_CSV));
        StringBuilder header = new StringBuilder(String.format(Locale.ROOT, "  %7s %8s %6s %7s %8s", "version", "rollouts", "groups", "reward", "accuracy"));
        scorerIds.forEach(id -> header.append(String.format(Locale.ROOT, " %12s", id)));
        out.println(header);
        for (VersionStats v : sample(r.versions())) {
            StringBuilder row = new StringBuilder(String.format(Locale.ROOT, "  %7d %8d %6d %7s %8s", v.policyVersion(),
                    v.rollouts(), v.scoredGroups(), fixed(v.rewardMean(), 3), percent(v.accuracy())));
            scorerIds.forEach(id -> row.append(String.format(Locale.ROOT, " %12s", fixed(v.scorerMeans().getOrDefault(id, Double.NaN), 3))));
            out.println(row);
        }

        out.println();
        if (r.steps().isEmpty()) {
            out.println("no trainer step metrics");
        } else {
            out.println("per trainer step, as the trainer reported it live" + every(r.steps().size(), STEPS_CSV)
                    + (r.repeatedSteps() == 0 ? "" : "; " + r.repeatedSteps() + " steps re-trained after a restart, the last report kept"));
            out.printf(Locale.ROOT, "  %5s %7s %6s %7s %8s %9s %9s %-10s %7s%n", "step", "version", "groups", "reward", "accuracy",
                    "kl", "loss", "staleness", "dropped");
            for (StepStats s : sample(r.steps())) {
                out.printf(Locale.ROOT, "  %5d %7d %6s %7s %8s %9s %9s %-10s %7s%n", s.step(), s.policyVersion(),
                        RecordFormat.number(s.value("groups")), fixed(s.value("reward_mean"), 3), percent(s.value("accuracy")),
                        fixed(s.value("kl"), 5), fixed(s.value("loss"), 5), staleness(s), RecordFormat.number(s.value("dropped_stale")));
            }
        }
        long trained = r.stalenessHistogram().stream().mapToLong(Long::longValue).sum();
        StringBuilder staleness = new StringBuilder("staleness of trained groups:");
        for (int k = 0; k < r.stalenessHistogram().size(); k++) {
            long n = r.stalenessHistogram().get(k);
            staleness.append(String.format(Locale.ROOT, "  %d: %d (%.1f %%)", k, n, trained == 0 ? 0.0 : 100.0 * n / trained));
        }
        out.println(staleness + (trained == 0 ? " none trained" : "") + "; dropped as stale: " + r.droppedStale());

        out.println();
        out.println("scorers, from the rewards topic:");
        if (r.scorers().isEmpty()) out.println("  none");
        for (ScorerStats s : r.scorers()) {
            out.printf(Locale.ROOT, "  %-16s %7d rewards  mean %s  min %s  max %s%s%n", s.scorerId(), s.count(), fixed(s.mean(), 3),
                    RecordFormat.number(s.min()), RecordFormat.number(s.max()), s.duplicates() == 0 ? "" : "  (" + s.duplicates() + " duplicates)");
        }
        out.println("dead letters:" + (r.deadLetterTypes().isEmpty() ? " none" : ""));
        for (DeadLetterStats d : r.deadLetterTypes()) {
            out.printf(Locale.ROOT, "  %-20s %6d  e.g. %s%n", d.errorType(), d.count(), RecordFormat.oneLine(d.exampleReason()));
        }
        out.println("metric events: " + r.metricsByKind().entrySet().stream().map(e -> e.getKey() + " " + e.getValue())
                .collect(Collectors.joining(", ")));
    }

    /** Writes replay.json and the two CSVs into {@code dir}; returns their paths. */
    public static List<Path> write(Replay r, Path dir, Map<String, String> about) throws IOException {
        Files.createDirectories(dir);
        Path json = dir.resolve(JSON_FILE), versions = dir.resolve(VERSIONS_CSV), steps = dir.resolve(STEPS_CSV);
        ReportJson.MAPPER.writeValue(json.toFile(), json(r, about));
        Files.writeString(versions, versionsCsv(r));
        Files.writeString(steps, stepsCsv(r));
        return List.of(json, versions, steps);
    }

    static ObjectNode json(Replay r, Map<String, String> about) {
        ObjectNode root = NODES.objectNode();
        about.forEach(root::put);
        ObjectNode totals = root.putObject("totals");
        totals.put("rollouts", r.rollouts());
        totals.put("rewards", r.rewards());
        totals.put("scoredGroups", r.scoredGroups());
        totals.put("metrics", r.metrics());
        totals.put("deadLetters", r.deadLetters());
        totals.put("undecodable", r.undecodable());
        ArrayNode versions = root.putArray("versions");
        for (VersionStats v : r.versions()) {
            ObjectNode node = versions.addObject();
            node.put("policyVersion", v.policyVersion());
            node.put("rollouts", v.rollouts());
            node.put("scoredGroups", v.scoredGroups());
            node.put("scoredRollouts", v.scoredRollouts());
            ReportJson.number(node, "rewardMean", v.rewardMean());
            ReportJson.number(node, "accuracy", v.accuracy());
            ObjectNode means = node.putObject("scorerMeans");
            v.scorerMeans().forEach((id, mean) -> ReportJson.number(means, id, mean));
        }
        ArrayNode steps = root.putArray("steps");
        for (StepStats s : r.steps()) {
            ObjectNode node = steps.addObject();
            node.put("step", s.step());
            node.put("policyVersion", s.policyVersion());
            node.put("serviceId", s.serviceId());
            ObjectNode values = node.putObject("values");
            s.values().forEach((name, value) -> ReportJson.number(values, name, value));
        }
        root.put("repeatedSteps", r.repeatedSteps());
        ObjectNode staleness = root.putObject("staleness");
        ArrayNode histogram = staleness.putArray("trainedGroupsByStaleness");
        r.stalenessHistogram().forEach(histogram::add);
        staleness.put("droppedStale", r.droppedStale());
        ArrayNode scorers = root.putArray("scorers");
        for (ScorerStats s : r.scorers()) {
            ObjectNode node = scorers.addObject();
            node.put("scorerId", s.scorerId());
            node.put("count", s.count());
            ReportJson.number(node, "mean", s.mean());
            ReportJson.number(node, "min", s.min());
            ReportJson.number(node, "max", s.max());
            node.put("duplicates", s.duplicates());
        }
        ArrayNode dead = root.putArray("deadLetters");
        for (DeadLetterStats d : r.deadLetterTypes()) {
            ObjectNode node = dead.addObject();
            node.put("errorType", d.errorType());
            node.put("count", d.count());
            node.put("exampleReason", d.exampleReason());
        }
        ObjectNode kinds = root.putObject("metricsByKind");
        r.metricsByKind().forEach(kinds::put);
        ArrayNode undecodable = root.putArray("undecodableExamples");
        r.undecodableExamples().forEach(undecodable::add);
        return root;
    }

    static String versionsCsv(Replay r) {
        List<String> scorerIds = versionScorers(r);
        StringBuilder csv = new StringBuilder("policy_version,rollouts,scored_groups,scored_rollouts,reward_mean,accuracy");
        scorerIds.forEach(id -> csv.append(",mean_").append(id));
        csv.append('\n');
        for (VersionStats v : r.versions()) {
            csv.append(v.policyVersion()).append(',').append(v.rollouts()).append(',').append(v.scoredGroups()).append(',')
                    .append(v.scoredRollouts()).append(',').append(v.rewardMean()).append(',').append(v.accuracy());
            scorerIds.forEach(id -> csv.append(',').append(cell(v.scorerMeans().get(id))));
            csv.append('\n');
        }
        return csv.toString();
    }

    /** Full-precision values (Double.toString), so a reader can check them for equality with the live metrics. */
    static String stepsCsv(Replay r) {
        Set<String> others = new TreeSet<>();
        r.steps().forEach(s -> s.values().keySet().stream()
                .filter(name -> !STEP_COLUMNS.contains(name) && !name.startsWith(RunReplay.STALENESS)).forEach(others::add));
        Set<String> columns = new LinkedHashSet<>(STEP_COLUMNS);
        columns.addAll(others);
        StringBuilder csv = new StringBuilder("step,policy_version,service_id");
        columns.forEach(c -> csv.append(',').append(c));
        csv.append(",staleness\n");
        for (StepStats s : r.steps()) {
            csv.append(s.step()).append(',').append(s.policyVersion()).append(',').append(s.serviceId());
            columns.forEach(c -> csv.append(',').append(cell(s.values().get(c))));
            csv.append(',').append(staleness(s).replace(' ', '|')).append('\n');
        }
        return csv.toString();
    }

    /** {@code 0:12 1:4}: the step's groups by staleness, as the demo's metrics.csv writes it (there with | for spaces). */
    static String staleness(StepStats s) {
        List<String> parts = new ArrayList<>();
        for (int k = 0; s.values().containsKey(RunReplay.STALENESS + k); k++) {
            long n = s.values().get(RunReplay.STALENESS + k).longValue();
            if (n > 0) parts.add(k + ":" + n);
        }
        return String.join(" ", parts);
    }

    private static List<String> versionScorers(Replay r) {
        Set<String> ids = new TreeSet<>();
        r.versions().forEach(v -> ids.addAll(v.scorerMeans().keySet()));
        return new ArrayList<>(ids);
    }

    /** At most about {@link #TABLE_ROWS} evenly spaced rows, always with the last. */
    static <T> List<T> sample(List<T> rows) {
        if (rows.size() <= TABLE_ROWS) return rows;
        int stride = (rows.size() + TABLE_ROWS - 1) / TABLE_ROWS;
        List<T> out = new ArrayList<>();
        for (int i = 0; i < rows.size(); i += stride) out.add(rows.get(i));
        if ((rows.size() - 1) % stride != 0) out.add(rows.get(rows.size() - 1));
        return out;
    }

    private static String every(int rows, String file) {
        if (rows <= TABLE_ROWS) return ":";
        return " (one row in " + ((rows + TABLE_ROWS - 1) / TABLE_ROWS) + " of " + rows + "; all in " + file + "):";
    }

    private static String cell(Double value) {
        return value == null ? "" : value.toString();
    }


    private static String fixed(double value, int decimals) {
        return Double.isNaN(value) ? "-" : String.format(Locale.ROOT, "%." + decimals + "f", value);
    }

    private static String percent(double value) {
        return Double.isNaN(value) ? "-" : String.format(Locale.ROOT, "%.1f %%", 100 * value);
    }
}
