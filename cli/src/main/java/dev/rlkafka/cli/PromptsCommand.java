package dev.rlkafka.cli;

import dev.rlkafka.policy.task.Task;
import dev.rlkafka.policy.task.Tasks;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.concurrent.Callable;

/** Feeds a task's training prompts to rl.prompts. */
@Command(name = "prompts", mixinStandardHelpOptions = true,
        description = "Write a task's training prompts to rl.prompts (key = prompt id). Each prompt becomes one "
                + "group of rollouts at the generators.")
final class PromptsCommand implements Callable<Integer> {
    @Mixin KafkaOptions kafka;

    @Option(names = "--task", defaultValue = Tasks.DEFAULT, completionCandidates = TaskNames.class,
            description = "Task: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}).")
    String task;

    @Option(names = {"-n", "--count"}, defaultValue = "1000", description = "Prompts to write (default: ${DEFAULT-VALUE}).")
    int count;

    @Option(names = "--group-size", defaultValue = "0",
            description = "Rollouts per prompt; 0 lets each generator use its own --group-size (default: ${DEFAULT-VALUE}).")
    int groupSize;

    @Option(names = "--seed", defaultValue = "42", description = "Seed of the prompt draw (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--id-prefix", defaultValue = "",
            description = "Prepended to prompt ids, so a second batch of the same seed does not reuse ids.")
    String idPrefix;

    @Override
    public Integer call() {
        Task chosen = Tasks.byName(task);
        if (count < 1) throw new IllegalArgumentException("--count must be >= 1, got " + count);
        int written = PromptFeeder.feed(kafka.bootstrap, kafka.clientConfig(), kafka.topics(), chosen, count, groupSize, seed, idPrefix);
        System.out.println("wrote " + written + " '" + chosen.name() + "' prompts to " + kafka.topics().prompts());
        return 0;
    }
}
