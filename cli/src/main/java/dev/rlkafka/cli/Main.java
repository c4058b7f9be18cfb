package dev.rlkafka.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

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
        return new CommandLine(new Main()).setCaseInsensitiveEnumValuesAllowed(true);
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
