package dev.rlkafka.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.PrintWriter;

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
        err.println("rlkafka " + command.getCommandName() + " failed: " + describe(e));
        String said = describe(e);
        for (Throwable cause = e.getCause(); cause != null; cause = cause.getCause() == cause ? null : cause.getCause()) {
            String reason = describe(cause);
            if (!said.contains(reason)) err.println("  caused by: " + reason);   // messages often quote their cause
            said += reason;
        }
        if ("DEBUG".equalsIgnoreCase(System.getenv("RLKAFKA_LOG_LEVEL"))) {
            e.printStackTrace(err);
        } else {
            err.println("  (RLKAFKA_LOG_LEVEL=DEBUG also prints the stack trace)");
        }
        err.flush();
        return command.getCommandSpec().exitCodeOnExecutionException();
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
