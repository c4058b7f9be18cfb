package dev.rlkafka.cli;

import dev.rlkafka.generator.GeneratorConfig;
import dev.rlkafka.generator.GeneratorService;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.time.Duration;
import java.util.concurrent.Callable;

/** Runs one generator until Ctrl-C. */
@Command(name = "generator", mixinStandardHelpOptions = true,
        description = "Run a generator: consume rl.prompts in a consumer group (start more generators to serve more "
                + "partitions), sample a group of rollouts per prompt with the newest policy version, and write them "
                + "to rl.rollouts in the same transaction as the prompt offsets. New versions from rl.policy-weights are "
                + "swapped in between batches. Ctrl-C stops it cleanly.")
final class GeneratorCommand implements Callable<Integer> {
    @Mixin KafkaOptions kafka;

    @Option(names = "--generator-id", description = "Names this generator in rollouts, metrics and its transactional id (default: random).")
    String generatorId;

    @Option(names = "--group-size", defaultValue = "" + GeneratorConfig.DEFAULT_GROUP_SIZE,
            description = "Rollouts per prompt when the prompt does not say (default: ${DEFAULT-VALUE}).")
    int groupSize;

    @Option(names = "--batch-prompts", defaultValue = "" + GeneratorConfig.DEFAULT_MAX_BATCH_PROMPTS,
            description = "Most prompts sampled in one batch (default: ${DEFAULT-VALUE}).")
    int batchPrompts;

    @Option(names = "--linger-ms", defaultValue = "20", description = "How long to wait to fill a batch (default: ${DEFAULT-VALUE}).")
    long lingerMs;

    @Option(names = "--temperature", defaultValue = "" + GeneratorConfig.DEFAULT_TEMPERATURE,
            description = "Sampling temperature (default: ${DEFAULT-VALUE}).")
    float temperature;

    @Option(names = "--max-tokens", defaultValue = "" + GeneratorConfig.DEFAULT_MAX_TOKENS,
            description = "Completion length cap (default: ${DEFAULT-VALUE}).")
    int maxTokens;

    @Option(names = "--max-staleness", defaultValue = "" + GeneratorConfig.DEFAULT_MAX_STALENESS,
            description = "Policy versions a rollout may lag the trainer; admission pauses beyond it; 0 = synchronous "
                    + "(default: ${DEFAULT-VALUE}). A group that will never be trained (expired at the reward-service, "
                    + "dead-lettered by the trainer: read from rl.dead-letters) stops counting.")
    int maxStaleness;

    @Option(names = "--groups-per-version", defaultValue = "" + GeneratorConfig.DEFAULT_GROUPS_PER_VERSION,
            description = "Groups the trainer consumes per policy version (its --batch-groups x --steps-per-version), "
                    + "divided by the number of generators (default: ${DEFAULT-VALUE}).")
    int groupsPerVersion;

    @Option(names = "--seed", defaultValue = "0", description = "Sampling seed; give each generator its own (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--device", defaultValue = "cpu", description = "cpu or gpu (default: ${DEFAULT-VALUE}).")
    String device;

    @Override
    public Integer call() throws Exception {
        GeneratorConfig config = GeneratorConfig.defaults(kafka.bootstrap).withClientConfig(kafka.clientConfig()).withTopics(kafka.topics())
                .withGroupSize(groupSize)
                .withBatching(batchPrompts, Duration.ofMillis(lingerMs))
                .withSampling(temperature, GeneratorConfig.DEFAULT_TOP_K, GeneratorConfig.DEFAULT_TOP_P, maxTokens)
                .withStaleness(maxStaleness, groupsPerVersion)
                .withSeed(seed)
                .withDevice(device);
        if (generatorId != null) config = config.withGeneratorId(generatorId);
        try (ShutdownSignal signal = new ShutdownSignal(); GeneratorService generator = new GeneratorService(config).start()) {
            System.out.println("generator " + config.generatorId() + " running on " + config.bootstrap() + ". Ctrl-C stops it.");
            signal.await();
        }
        return 0;
    }
}
