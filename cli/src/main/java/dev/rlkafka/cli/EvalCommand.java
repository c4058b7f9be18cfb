package dev.rlkafka.cli;

import dev.rlkafka.policy.model.Policy;
import dev.rlkafka.policy.sampling.SamplingParams;
import dev.rlkafka.policy.task.Task;
import dev.rlkafka.policy.task.Tasks;
import dev.rlkafka.policy.train.Evaluator;
import dev.rlkafka.policy.weights.Checkpoint;
import dev.rlkafka.policy.weights.WeightCodec;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/** Held-out accuracy of a checkpoint, greedy and sampled. */
@Command(name = "eval", mixinStandardHelpOptions = true,
        description = "Print a checkpoint's held-out accuracy on a task: greedy (argmax) and sampled at "
                + "temperature 1, the distribution RL trains. Held-out prompts never appear in training.")
final class EvalCommand implements Callable<Integer> {
    @Option(names = {"-c", "--checkpoint"}, defaultValue = "runs/sft/sft.ckpt",
            description = "Checkpoint file from 'rlkafka sft' or a trainer (default: ${DEFAULT-VALUE}).")
    Path checkpoint;

    @Option(names = "--task", description = "Task to evaluate on (default: the checkpoint's task, else "
            + Tasks.DEFAULT + ").")
    String task;

    @Option(names = "--prompts", defaultValue = "500",
            description = "Held-out prompts to evaluate (default: ${DEFAULT-VALUE}).")
    int prompts;

    @Option(names = "--max-tokens", defaultValue = "8",
            description = "Completion length cap (default: ${DEFAULT-VALUE}).")
    int maxTokens;

    @Option(names = "--seed", defaultValue = "7", description = "Seed for prompts and sampling (default: ${DEFAULT-VALUE}).")
    long seed;

    @Override
    public Integer call() throws Exception {
        if (!Files.exists(checkpoint)) {
            System.err.println("no checkpoint at " + checkpoint + "; train one with './rlkafka sft'");
            return 2;
        }
        Checkpoint ckpt = Checkpoint.read(checkpoint);
        Task chosen = Tasks.byName(task != null ? task : ckpt.metadata().getOrDefault("task", Tasks.DEFAULT));
        try (Policy policy = WeightCodec.decode(ckpt.weights(), ai.djl.Device.cpu())) {
            Policy.setIntraOpThreads(1);
            Evaluator.Result greedy = Evaluator.evaluate(policy, chosen, prompts, seed, SamplingParams.greedy(maxTokens));
            Evaluator.Result sampled = Evaluator.evaluate(policy, chosen, prompts, seed, SamplingParams.plain(seed, maxTokens));
            System.out.printf("task %s, %d held-out prompts, checkpoint %s (step %d)%n",
                    chosen.name(), greedy.prompts(), checkpoint, ckpt.step());
            System.out.printf("  greedy accuracy            %5.1f %%   mean reward %.3f%n", 100 * greedy.accuracy(), greedy.meanReward());
            System.out.printf("  sampled accuracy (T = 1)   %5.1f %%   mean reward %.3f%n", 100 * sampled.accuracy(), sampled.meanReward());
        }
        return 0;
    }
}
