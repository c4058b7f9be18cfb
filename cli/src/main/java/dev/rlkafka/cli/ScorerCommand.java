package dev.rlkafka.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code rlkafka scorer ...}: external scorers that run as their own processes, writing rewards like any other scorer. */
@Command(name = "scorer", mixinStandardHelpOptions = true,
        description = "Run an external reward scorer: it reads rl.rollouts in its own consumer group and writes one Reward "
                + "per rollout, with its own scorer id, to rl.rewards, keyed by group id. Register that id with the "
                + "reward-service (rlkafka reward --required or --optional ID=WEIGHT) so groups wait for its scores; "
                + "docs/scorers.md explains the contract for writing one in any language.",
        subcommands = {ScorerHttpCommand.class, ScorerHumanCommand.class})
final class ScorerCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }
}
