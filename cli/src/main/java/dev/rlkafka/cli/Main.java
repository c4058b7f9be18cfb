package dev.rlkafka.cli;

import org.apache.kafka.common.errors.TimeoutException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.PrintWriter;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Optional;
import java.util.Set;

/** The {@code rlkafka} launcher: one jar, one subcommand per job. */
@Command(name = "rlkafka",
        mixinStandardHelpOptions = true,
        versionProvider = Main.Version.class,
        description = {
                "Asynchronous online RL for language models, as decoupled services on Apache Kafka. "
                        + "Generators sample rollouts, scorers reward them, a trainer updates the policy and "
                        + "publishes new policy versions back to the generators; every record is durable.",
                ""},
        subcommands = {
                BrokerCommand.class,
                TopicsCommand.class,
                SchemasCommand.class,
                SftCommand.class,
                EvalCommand.class,
                PromptsCommand.class,
                RefeedCommand.class,
                GeneratorCommand.class,
                RewardCommand.class,
                ScorerCommand.class,
                TrainerCommand.class,
                DemoCommand.class,
                BenchCommand.class,
                TailCommand.class,
                ReplayCommand.class,
                RescoreCommand.class,
                CommandLine.HelpCommand.class},
        footer = {"", "Run 'rlkafka COMMAND --help' for a command's options."})
public final class Main implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        // libtorch comes from the native jar on the class path; never download one at run time
        System.setProperty("ai.djl.offline", "true");
        System.exit(commandLine().execute(args));
    }

    static CommandLine commandLine() {
        return new CommandLine(new Main()).setCaseInsensitiveEnumValuesAllowed(true).setExecutionExceptionHandler(Main::report);
    }

    /**
     * A command that failed says what failed, cause by cause, on a few lines: a user needs the reason (a wrong
     * password, a broker not there), a developer the stack trace, shown with RLKAFKA_LOG_LEVEL=DEBUG.
     */
    static int report(Exception e, CommandLine command, CommandLine.ParseResult parsed) {
        PrintWriter err = command.getErr();
        String name = command.getCommandSpec().qualifiedName(" ");   // "rlkafka topics create"
        err.println(name + " failed: " + describe(e));
        StringBuilder said = new StringBuilder(describe(e));
        Set<Throwable> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        seen.add(e);
        for (Throwable cause = e.getCause(); cause != null && seen.add(cause); cause = cause.getCause()) {
            // messages often quote their cause's: say only what is new
            if (cause.getMessage() == null || !said.toString().contains(cause.getMessage())) {
                err.println("  caused by: " + describe(cause));
            }
            said.append(describe(cause));
        }
        for (Throwable suppressed : e.getSuppressed()) err.println("  also: " + describe(suppressed));
        kafkaTimeoutHint(e, command).ifPresent(hint -> err.println("  " + hint));
        String level = System.getenv("RLKAFKA_LOG_LEVEL");
        if ("DEBUG".equalsIgnoreCase(level) || "TRACE".equalsIgnoreCase(level)) {
            e.printStackTrace(err);
        } else {
            err.println("  (RLKAFKA_LOG_LEVEL=DEBUG also prints the stack trace)");
        }
        err.flush();
        return command.getCommandSpec().exitCodeOnExecutionException();
    }

    /**
     * Kafka's clients say only "Timed out waiting for a node assignment" or "Timeout expired while fetching topic
     * metadata" after a minute when no broker answers, which reads like a Kafka fault rather than a wrong address.
     */
    static Optional<String> kafkaTimeoutHint(Throwable e, CommandLine command) {
        CommandLine.Model.OptionSpec bootstrap = command.getCommandSpec().findOption("--bootstrap");
        // without an address the command ran its own embedded broker, and "start a broker" would be wrong advice
        Object at = bootstrap == null ? null : bootstrap.getValue();
        if (at == null) return Optional.empty();
        Set<Throwable> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        for (Throwable t = e; t != null && seen.add(t); t = t.getCause()) {
            if (t instanceof TimeoutException) {
                boolean configurable = command.getCommandSpec().findOption("--kafka-config") != null;
                return Optional.of("Kafka did not answer in time: is a broker running and reachable at " + at
                        + "? ('./rlkafka broker' starts one on localhost:9092" + (configurable ? "; --kafka-config sets the clients' timeouts)" : ")"));
            }
        }
        return Optional.empty();
    }

    /** "message (ExceptionType)", or the type alone. */
    private static String describe(Throwable t) {
        String type = t.getClass().getSimpleName();
        return t.getMessage() == null ? type : t.getMessage() + " (" + type + ")";
    }

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String version = Main.class.getPackage().getImplementationVersion();
            return new String[]{"rlkafka " + (version == null ? "dev" : version)};
        }
    }
}
