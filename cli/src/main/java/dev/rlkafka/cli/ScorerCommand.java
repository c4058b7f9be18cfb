package dev.rlkafka.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code rlkafka scorer ...}: external scorers that write rewards to rl.rewards like any other scorer. */
@Command(name = "scorer", mixinStandardHelpOptions = true,
        description = "Run an external scorer: it consumes rl.rollouts in its own consumer group and writes one Reward "
                + "per rollout, with its scorer id, to rl.rewards. Register its id with the reward-service as required "
                + "or optional (rlkafka reward --required/--optional ID=WEIGHT).",
        subcommands = {ScorerHttpCommand.class})
final class ScorerCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }
}
