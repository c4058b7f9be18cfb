package dev.rlkafka.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * An external scorer as a separate OS process: {@code examples/node-scorer} when Node.js is on the PATH
 * (its pinned packages installed with {@code npm ci} first when missing, as Maven downloads its own), else
 * {@link JavaExactAnswerScorer} in a JVM of its own.
 *
 * <p>{@code -Drlkafka.test.scorer} (or {@code RLKAFKA_TEST_SCORER}) = {@code auto} (default), {@code node}
 * (fail when Node.js cannot run it) or {@code java}.
 */
final class ExternalScorerProcess {
    static final String PROPERTY = "rlkafka.test.scorer";
    private static final long NPM_TIMEOUT_S = 300;

    /** What runs, and why this one. */
    record Choice(boolean node, String why) {
    }

    private final Path repoRoot;
    private final Path log;
    private final Choice choice;

    private ExternalScorerProcess(Path repoRoot, Path log, Choice choice) {
        this.repoRoot = repoRoot;
        this.log = log;
        this.choice = choice;
    }

    /** Picks the scorer, installing the Node example's packages when it needs them; output goes to {@code log}. */
    static ExternalScorerProcess choose(Path log) throws IOException, InterruptedException {
        String wanted = System.getProperty(PROPERTY, System.getenv().getOrDefault("RLKAFKA_TEST_SCORER", "auto"))
                .toLowerCase(Locale.ROOT);
        if (!List.of("auto", "node", "java").contains(wanted)) {
            throw new IllegalArgumentException(PROPERTY + " must be auto, node or java, got '" + wanted + "'");
        }
        Path root = repoRoot();
        if (wanted.equals("java")) return new ExternalScorerProcess(root, log, new Choice(false, PROPERTY + "=java"));
        String missing = nodeMissing(root);
        if (missing != null) {
            if (wanted.equals("node")) throw new IllegalStateException(PROPERTY + "=node but " + missing);
            return new ExternalScorerProcess(root, log, new Choice(false, missing + "; running the Java scorer instead"));
        }
        return new ExternalScorerProcess(root, log, new Choice(true, "node " + run(root, List.of("node", "--version"), 30).strip()));
    }

    Choice choice() {
        return choice;
    }

    Path nodeExample() {
        return repoRoot.resolve("examples/node-scorer");
    }

    /** The Node scorer's {@code --fingerprints} output: {@code "Rollout 0x..."} lines. */
    String nodeFingerprints() throws IOException, InterruptedException {
        return run(nodeExample(), List.of("node", "scorer.js", "--fingerprints"), 60);
    }

    /** Starts the scorer on {@code prefix}'s topics, writing rewards as {@code scorerId}. */
    Process start(String bootstrap, String prefix, String scorerId) throws IOException {
        List<String> command = new ArrayList<>();
        Path dir;
        if (choice.node()) {
            dir = nodeExample();
            command.addAll(List.of("node", "scorer.js", "--bootstrap", bootstrap, "--prefix", prefix,
                    "--scorer-id", scorerId, "--verbose"));
        } else {
            dir = repoRoot;
            command.addAll(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-cp", System.getProperty("java.class.path"), JavaExactAnswerScorer.class.getName(),
                    bootstrap, prefix, scorerId));
        }
        return new ProcessBuilder(command).directory(dir.toFile())
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
    }

    /** The last lines the scorer printed, for failure messages. */
    String logTail() {
        try {
            List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
        } catch (IOException e) {
            return "(no scorer log: " + e.getMessage() + ")";
        }
    }

    /** Why the Node scorer cannot run here, or null when it can (after {@code npm ci} if needed). */
    private static String nodeMissing(Path root) throws IOException, InterruptedException {
        Path example = root.resolve("examples/node-scorer");
        if (!Files.exists(example.resolve("package-lock.json"))) return "no examples/node-scorer under " + root;
        String version;
        try {
            version = run(root, List.of("node", "--version"), 30).strip();
        } catch (IOException e) {
            return "Node.js is not on the PATH (" + e.getMessage() + ")";
        }
        int major = Integer.parseInt(version.replaceFirst("^v(\\d+).*", "$1"));
        if (major < 18) return "Node.js " + version + " is older than the example's 18";
        if (Files.isDirectory(example.resolve("node_modules/kafkajs")) && Files.isDirectory(example.resolve("node_modules/avsc"))) {
            return null;
        }
        try {
            run(example, List.of("npm", "--version"), 30);
        } catch (IOException e) {
            return "Node.js is here but npm is not, and examples/node-scorer/node_modules is missing (" + e.getMessage() + ")";
        }
        // a build-time install from the committed lockfile, like Maven's downloads; a failure here is a real one
        run(example, List.of("npm", "ci", "--no-audit", "--no-fund"), NPM_TIMEOUT_S);
        return null;
    }

    /** The repository root: the nearest directory above the working directory that holds the example. */
    private static Path repoRoot() {
        Path dir = Path.of("").toAbsolutePath();
        for (Path d = dir; d != null; d = d.getParent()) {
            if (Files.isDirectory(d.resolve("examples/node-scorer")) && Files.exists(d.resolve("pom.xml"))) return d;
        }
        return dir.getParent() == null ? dir : dir.getParent();  // cli/ is one below the root
    }

    /** Runs a command to completion and returns its output; IOException when it cannot start or fails. */
    private static String run(Path dir, List<String> command, long timeoutS) throws IOException, InterruptedException {
        Path out = Files.createTempFile("rlkafka-scorer-cmd", ".log");
        try {
            Process p = new ProcessBuilder(command).directory(dir.toFile())
                    .redirectErrorStream(true).redirectOutput(out.toFile()).start();
            if (!p.waitFor(timeoutS, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException(String.join(" ", command) + " in " + dir + " did not finish in " + timeoutS + " s");
            }
            String output = Files.readString(out, StandardCharsets.UTF_8);
            if (p.exitValue() != 0) {
                throw new IllegalStateException("%s in %s exited %d:%n%s".formatted(String.join(" ", command), dir, p.exitValue(), output));
            }
            return output;
        } finally {
            Files.deleteIfExists(out);
        }
    }
}
