package dev.rlkafka.cli.observe;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rlkafka.cli.observe.Rescore.Agreement;
import dev.rlkafka.cli.observe.Rescore.Example;
import dev.rlkafka.cli.observe.Rescore.Report;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;

/** A rescore {@link Report} on the terminal and as {@code rescore-<scorer>.json}. */
public final class RescoreReport {

    private RescoreReport() {
    }

    public static String fileName(String scorer) {
        return "rescore-" + scorer + ".json";
    }

    public static void print(Report r, PrintStream out) {
        out.printf(Locale.ROOT, "%s scored %d of %d rollouts (mean %s)%s%s%n", r.scorer(), r.scored(), r.rollouts(), fixed(r.newMean()),
                r.notApplicable() == 0 ? "" : "; " + r.notApplicable() + " not applicable to it",
                r.duplicateRollouts() == 0 ? "" : "; " + r.duplicateRollouts() + " duplicate rollouts skipped");
        if (r.agreements().isEmpty()) out.println("the run has no rewards to compare with");
        for (Agreement a : r.agreements()) {
            out.println();
            out.printf(Locale.ROOT, "vs %s: %d rollouts scored by both, mean %s -> %s, Pearson r %s, mean |diff| %s, "
                            + "%d disagreements (%s; sign differs or |diff| > %s)%n",
                    a.oldScorer(), a.count(), fixed(a.oldMean()), fixed(a.newMean()),
                    Double.isNaN(a.pearson()) ? "n/a (a side is constant)" : fixed(a.pearson()), fixed(a.meanAbsDiff()),
                    a.disagreements(), a.count() == 0 ? "-" : String.format(Locale.ROOT, "%.1f %%", 100.0 * a.disagreements() / a.count()),
                    RecordFormat.number(r.threshold()));
            for (Example e : a.examples()) {
                out.printf(Locale.ROOT, "  %-24s %s -> %-12s old %s new %s%n", e.rolloutId(), RecordFormat.quote(e.prompt()),
                        RecordFormat.quote(e.completion()), RecordFormat.number(e.oldScore()), RecordFormat.number(e.newScore()));
            }
        }
    }

    public static Path write(Report r, Path dir, Map<String, String> about) throws IOException {
        Files.createDirectories(dir);
        Path file = dir.resolve(fileName(r.scorer()));
        ReportJson.MAPPER.writeValue(file.toFile(), json(r, about));
        return file;
    }

    static ObjectNode json(Report r, Map<String, String> about) {
        ObjectNode root = JsonNodeFactory.instance.objectNode();
        about.forEach(root::put);
        root.put("scorer", r.scorer());
        root.put("threshold", r.threshold());
        root.put("rollouts", r.rollouts());
        root.put("scored", r.scored());
        root.put("notApplicable", r.notApplicable());
        root.put("duplicateRollouts", r.duplicateRollouts());
        ReportJson.number(root, "newMean", r.newMean());
        ArrayNode agreements = root.putArray("agreement");
        for (Agreement a : r.agreements()) {
            ObjectNode node = agreements.addObject();
            node.put("oldScorer", a.oldScorer());
            node.put("count", a.count());
            ReportJson.number(node, "oldMean", a.oldMean());
            ReportJson.number(node, "newMean", a.newMean());
            ReportJson.number(node, "pearson", a.pearson());
            ReportJson.number(node, "meanAbsDiff", a.meanAbsDiff());
            node.put("disagreements", a.disagreements());
            ArrayNode examples = node.putArray("examples");
            for (Example e : a.examples()) {
                ObjectNode ex = examples.addObject();
                ex.put("rolloutId", e.rolloutId());
                ex.put("prompt", e.prompt());
                ex.put("completion", e.completion());
                ex.put("oldScore", e.oldScore());
                ex.put("newScore", e.newScore());
            }
        }
        return root;
    }


    private static String fixed(double value) {
        return Double.isNaN(value) ? "-" : String.format(Locale.ROOT, "%.3f", value);
    }
}
