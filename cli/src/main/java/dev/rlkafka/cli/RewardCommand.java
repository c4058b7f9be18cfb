package dev.rlkafka.cli;

import dev.rlkafka.reward.RewardConfig;
import dev.rlkafka.reward.RewardService;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/** Runs the reward-service (Kafka Streams) until Ctrl-C. */
@Command(name = "reward", mixinStandardHelpOptions = true,
        description = "Run the reward-service: built-in scorers write their rewards to rl.rewards like any external "
                + "scorer; each group waits in a state store until every rollout has a score from every required "
                + "scorer, then goes to rl.scored-groups with weighted rewards and group-normalised advantages. "
                + "Bad input goes to rl.dead-letters. Ctrl-C stops it cleanly.")
final class RewardCommand implements Callable<Integer> {
    @Mixin KafkaOptions kafka;

    @Mixin ScorerRegistration scorers;

    @Option(names = "--state-dir", description = "Kafka Streams state directory (default: a dir under java.io.tmpdir).")
    Path stateDir;

    @Override
    public Integer call() throws Exception {
        RewardConfig config = scorers.applyTo(RewardConfig.defaults(kafka.bootstrap).withClientConfig(kafka.clientConfig()).withTopics(kafka.topics()));
        if (stateDir != null) config = config.withStateDir(stateDir);
        try (ShutdownSignal signal = new ShutdownSignal(); RewardService service = new RewardService(config).start()) {
            System.out.println("reward-service running on " + config.bootstrap() + " with required scorers "
                    + config.requiredScorers() + (config.optionalScorers().isEmpty() ? "" : ", optional " + config.optionalScorers())
                    + ". Ctrl-C stops it.");
            signal.await();
        }
        return 0;
    }
}
