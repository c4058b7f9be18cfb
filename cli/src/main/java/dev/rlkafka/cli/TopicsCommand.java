package dev.rlkafka.cli;

import dev.rlkafka.schemas.TopicAdmin;
import dev.rlkafka.schemas.TopicSpec;
import dev.rlkafka.schemas.TopicState;
import dev.rlkafka.schemas.Topics;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** Creates and lists the rl.* topics of a run. */
@Command(name = "topics", mixinStandardHelpOptions = true,
        description = "Create or list the rl.* topics with their configs.",
        subcommands = {TopicsCommand.Create.class, TopicsCommand.ListTopics.class})
final class TopicsCommand implements Runnable {
    static final int DEFAULT_PARTITIONS = 4;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    static List<TopicSpec> createAll(String bootstrap, String prefix, int partitions) {
        return TopicAdmin.ensureTopics(bootstrap, Topics.withPrefix(prefix), partitions, (short) 1);
    }

    @Command(name = "create", mixinStandardHelpOptions = true,
            description = "Create every topic of a run with its config (idempotent: existing topics are checked). "
                    + "rl.prompts, rl.rollouts, rl.rewards and rl.scored-groups share one partition count, "
                    + "so a group's rollouts and rewards meet in one Kafka Streams task.")
    static final class Create implements Callable<Integer> {
        @Mixin KafkaOptions kafka;

        @Option(names = "--partitions", defaultValue = "" + DEFAULT_PARTITIONS,
                description = "Partitions of the co-partitioned topics; the most generators or reward-service "
                        + "instances that can share the work (default: ${DEFAULT-VALUE}).")
        int partitions;

        @Option(names = "--replication-factor", defaultValue = "1",
                description = "Replicas per partition; 1 for a single broker, 3 for a production cluster (default: ${DEFAULT-VALUE}).")
        short replicationFactor;

        @Override
        public Integer call() {
            List<TopicSpec> specs = TopicAdmin.ensureTopics(kafka.bootstrap, kafka.clientConfig(), kafka.topics(), partitions, replicationFactor);
            for (TopicSpec topic : specs) {
                System.out.printf("%-32s partitions=%-3d %s%n", topic.name(), topic.partitions(), topic.configs());
            }
            System.out.println("topics ready on " + kafka.bootstrap);
            return 0;
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true,
            description = "List the run's topics with partitions, replication and their effective configs.")
    static final class ListTopics implements Callable<Integer> {
        @Mixin KafkaOptions kafka;

        @Override
        public Integer call() {
            Map<String, TopicState> states = TopicAdmin.describe(kafka.bootstrap, kafka.clientConfig(), kafka.topics());
            int missing = 0;
            for (TopicState state : states.values()) {
                System.out.println(state.summary());
                if (!state.exists()) {
                    missing++;
                }
            }
            if (missing > 0) {
                System.out.println(missing + " topic(s) missing: run 'rlkafka topics create --bootstrap "
                        + kafka.bootstrap + (kafka.prefix.isEmpty() ? "" : " --prefix " + kafka.prefix) + "'");
                return 1;
            }
            return 0;
        }
    }
}
