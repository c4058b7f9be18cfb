package dev.rlkafka.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Parent of the external scorers that run as their own processes. */
@Command(name = "scorer", mixinStandardHelpOptions = true,
        description = "Run an external reward scorer: it reads rl.rollouts and writes Reward records with its own scorer id "
                + "to rl.rewards, keyed by group id. Register its id with the reward-service (rlkafka reward --required "
                + "or --optional ID=WEIGHT) so groups wait for its scores.",
        subcommands = {ScorerHumanCommand.class})
final class ScorerCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }
}
