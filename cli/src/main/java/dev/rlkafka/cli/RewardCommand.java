package dev.rlkafka.cli;

import dev.rlkafka.reward.RewardConfig;
import dev.rlkafka.reward.RewardService;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

/** Runs the reward-service (Kafka Streams) until Ctrl-C. */
@Command(name = "reward", mixinStandardHelpOptions = true,
        description = "Run the reward-service: built-in scorers write their rewards to rl.rewards like any external "
                + "scorer; each group waits in a state store until every rollout has a score from every required "
                + "scorer, then goes to rl.scored-groups with weighted rewards and group-normalised advantages. "
                + "Bad input goes to rl.dead-letters. Ctrl-C stops it cleanly.")
final class RewardCommand implements Callable<Integer> {
    @Mixin KafkaOptions kafka;

    @Option(names = "--required", split = ",", paramLabel = "ID=WEIGHT",
            description = "Required scorers with weights, e.g. exact-answer=1,format=0.1,judge=0.5 "
                    + "(default: the default task's built-in scorers at their own weights).")
    Map<String, Double> required = new LinkedHashMap<>();

    @Option(names = "--optional", split = ",", paramLabel = "ID=WEIGHT",
            description = "Optional scorers: used when they answer within the grace period, noted as missing otherwise.")
    Map<String, Double> optional = new LinkedHashMap<>();

    @Option(names = "--group-timeout", defaultValue = "PT60S",
            description = "A group still missing required scores after this long is dead-lettered (ISO-8601, default: ${DEFAULT-VALUE}).")
    Duration groupTimeout;

    @Option(names = "--optional-grace", defaultValue = "PT2S",
            description = "How long a group with all required scores waits for optional scorers (default: ${DEFAULT-VALUE}).")
    Duration optionalGrace;

    @Option(names = "--no-built-in-scorers", negatable = false,
            description = "Do not run the tasks' built-in scorers inside the service.")
    boolean noBuiltIn;

    @Option(names = "--state-dir", description = "Kafka Streams state directory (default: a dir under java.io.tmpdir).")
    Path stateDir;

    @Override
    public Integer call() throws Exception {
        RewardConfig config = config(kafka, required, optional, groupTimeout, optionalGrace, !noBuiltIn, stateDir);
        try (ShutdownSignal signal = new ShutdownSignal(); RewardService service = new RewardService(config).start()) {
            System.out.println("reward-service running on " + config.bootstrap() + " with required scorers "
                    + config.requiredScorers() + (config.optionalScorers().isEmpty() ? "" : ", optional " + config.optionalScorers())
                    + ". Ctrl-C stops it.");
            signal.await();
        }
        return 0;
    }

    static RewardConfig config(KafkaOptions kafka, Map<String, Double> required, Map<String, Double> optional,
                               Duration groupTimeout, Duration optionalGrace, boolean builtIn, Path stateDir) {
        RewardConfig config = RewardConfig.defaults(kafka.bootstrap).withTopics(kafka.topics());
        if (!required.isEmpty() || !optional.isEmpty()) {
            config = config.withScorers(required.isEmpty() ? config.requiredScorers() : required, optional);
        }
        config = config.withGroupTimeout(groupTimeout).withOptionalGrace(optionalGrace).withBuiltInScorers(builtIn);
        return stateDir == null ? config : config.withStateDir(stateDir);
    }
}
