package dev.rlkafka.policy.train;

import ai.djl.ndarray.NDManager;
import dev.rlkafka.policy.model.LogProbs;
import dev.rlkafka.policy.model.NoGrad;
import dev.rlkafka.policy.model.Policy;
import dev.rlkafka.policy.sampling.Completion;
import dev.rlkafka.policy.sampling.Sampler;
import dev.rlkafka.policy.sampling.SamplingParams;
import dev.rlkafka.policy.task.Scorer;
import dev.rlkafka.policy.task.Split;
import dev.rlkafka.policy.task.Task;
import dev.rlkafka.policy.task.TaskPrompt;
import dev.rlkafka.policy.tokenizer.ByteTokenizer;

import java.util.ArrayList;
import java.util.List;

/** Held-out accuracy: the fraction of held-out prompts whose completion the exact-answer scorer accepts. */
public final class Evaluator {
    public static final String EXACT_ANSWER = "exact-answer";
    private static final int BATCH = 64;

    /** @param accuracy fraction of prompts answered exactly; {@code meanReward} is the task's Σ weight·score */
    public record Result(int prompts, double accuracy, double meanReward) {
    }

    private Evaluator() {
    }

    /** Samples one completion per held-out prompt with {@code params} (greedy: {@link SamplingParams#greedy}). */
    public static Result evaluate(Policy policy, Task task, int count, long seed, SamplingParams params) {
        Scorer exact = task.scorers().stream().filter(s -> s.id().equals(EXACT_ANSWER)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("task " + task.name() + " has no "
                        + EXACT_ANSWER + " scorer to measure accuracy with"));
        List<TaskPrompt> prompts = task.prompts(Split.HELD_OUT, count, seed);
        Sampler sampler = new Sampler(policy);
        int correct = 0;
        double reward = 0;
        for (int from = 0; from < prompts.size(); from += BATCH) {
            List<TaskPrompt> chunk = prompts.subList(from, Math.min(prompts.size(), from + BATCH));
            List<String> texts = new ArrayList<>(chunk.size());
            chunk.forEach(p -> texts.add(p.text()));
            // a distinct seed per chunk, so chunks do not replay each other's random streams
            SamplingParams chunkParams = new SamplingParams(params.temperature(), params.topK(), params.topP(),
                    params.seed() + from, params.maxTokens());
            List<Completion> completions = sampler.sampleTexts(texts, chunkParams);
            for (int i = 0; i < chunk.size(); i++) {
                String text = completions.get(i).text();
                if (exact.score(chunk.get(i), text) >= 1.0) correct++;
                reward += task.reward(chunk.get(i), text);
            }
        }
        return new Result(prompts.size(), (double) correct / prompts.size(), reward / prompts.size());
    }

    /**
     * How far {@code policy} has moved from {@code reference}: the exact KL(π‖π_ref) per completion token, averaged over
     * the tokens of one completion per held-out prompt sampled from {@code policy} with {@code params}. The same
     * number for every algorithm, unlike the estimate each trainer step reports on its own batch.
     */
    public static double klToReference(Policy policy, Policy reference, Task task, int count, long seed, SamplingParams params) {
        List<TaskPrompt> prompts = task.prompts(Split.HELD_OUT, count, seed);
        Sampler sampler = new Sampler(policy);
        double klSum = 0, tokens = 0;
        for (int from = 0; from < prompts.size(); from += BATCH) {
            List<TaskPrompt> chunk = prompts.subList(from, Math.min(prompts.size(), from + BATCH));
            List<int[]> rows = new ArrayList<>(chunk.size());
            chunk.forEach(p -> rows.add(ByteTokenizer.encodePrompt(p.text())));
            SamplingParams chunkParams = new SamplingParams(params.temperature(), params.topK(), params.topP(),
                    params.seed() + from, params.maxTokens());
            List<int[]> completions = sampler.sample(rows, chunkParams).stream().map(Completion::tokenIds).toList();
            try (NDManager step = policy.manager().newSubManager()) {
                LogProbs.Divergence d = NoGrad.call(() -> LogProbs.klPerToken(policy, reference, step, rows, completions));
                klSum += d.kl().sum().getFloat();
                tokens += d.mask().sum().getFloat();
            }
        }
        return tokens == 0 ? 0 : klSum / tokens;
    }
}
