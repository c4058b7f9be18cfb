package dev.rlkafka.policy.train;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import dev.rlkafka.policy.loss.SftLoss;
import dev.rlkafka.policy.model.LogProbs;
import dev.rlkafka.policy.model.Policy;
import dev.rlkafka.policy.optim.AdamW;
import dev.rlkafka.policy.optim.GradientClipping;
import dev.rlkafka.policy.task.Split;
import dev.rlkafka.policy.task.Task;
import dev.rlkafka.policy.task.TaskPrompt;
import dev.rlkafka.policy.tokenizer.ByteTokenizer;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/** Supervised fine-tuning on a task's demonstrations: L = −Σ_t log P(y_t | y_<t, x), prompt tokens masked. */
public final class SftTrainer {

    /** Called after every step, e.g. to move a progress bar. */
    @FunctionalInterface
    public interface Progress {
        void onStep(int step, int steps, float loss, double tokensPerSecond);
    }

    /** @param finalLoss mean loss over the last 10 % of steps */
    public record Result(int steps, float finalLoss, double tokensPerSecond, long elapsedMs) {
    }

    private SftTrainer() {
    }

    public static Result train(Policy policy, Task task, SftConfig config, Progress progress) {
        Random demoRng = new Random(config.seed());
        long tokens = 0;
        long started = System.nanoTime();
        double lossTail = 0;
        int tailCount = 0;
        int tailFrom = config.steps() - Math.max(1, config.steps() / 10);
        try (AdamW optimizer = new AdamW(config.optimizer(), policy.parameters(), policy.weightMatrixNames()::contains)) {
            for (int step = 0; step < config.steps(); step++) {
                List<TaskPrompt> prompts = task.prompts(Split.TRAIN, config.batchSize(), config.seed() + step);
                List<int[]> promptTokens = new ArrayList<>();
                List<int[]> demoTokens = new ArrayList<>();
                for (TaskPrompt prompt : prompts) {
                    promptTokens.add(ByteTokenizer.encodePrompt(prompt.text()));
                    demoTokens.add(withEos(ByteTokenizer.encode(task.demonstration(prompt, demoRng))));
                    tokens += demoTokens.get(demoTokens.size() - 1).length;
                }
                float loss;
                try (NDManager stepManager = policy.manager().newSubManager();
                     GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                    LogProbs logProbs = LogProbs.compute(policy, stepManager, promptTokens, demoTokens);
                    NDArray sftLoss = SftLoss.compute(logProbs.logp(), logProbs.mask());
                    collector.backward(sftLoss);
                    loss = sftLoss.getFloat();
                }
                GradientClipping.clipGlobalNorm(policy.parameters().values(), config.maxGradNorm());
                optimizer.step(config.learningRate(step));
                optimizer.zeroGradients();
                if (step >= tailFrom) {
                    lossTail += loss;
                    tailCount++;
                }
                if (progress != null) {
                    progress.onStep(step + 1, config.steps(), loss, tokens / seconds(started));
                }
            }
        }
        return new Result(config.steps(), (float) (lossTail / tailCount), tokens / seconds(started),
                (System.nanoTime() - started) / 1_000_000);
    }

    static int[] withEos(int[] tokens) {
        int[] out = java.util.Arrays.copyOf(tokens, tokens.length + 1);
        out[tokens.length] = ByteTokenizer.EOS;
        return out;
    }

    private static double seconds(long startedNanos) {
        return Math.max(1e-9, (System.nanoTime() - startedNanos) / 1e9);
    }
}
