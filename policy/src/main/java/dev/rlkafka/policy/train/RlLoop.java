package dev.rlkafka.policy.train;

import dev.rlkafka.policy.loss.Advantages;
import dev.rlkafka.policy.model.Policy;
import dev.rlkafka.policy.sampling.Completion;
import dev.rlkafka.policy.sampling.Sampler;
import dev.rlkafka.policy.sampling.SamplingParams;
import dev.rlkafka.policy.task.Split;
import dev.rlkafka.policy.task.Task;
import dev.rlkafka.policy.task.TaskPrompt;
import dev.rlkafka.policy.tokenizer.ByteTokenizer;

import java.util.ArrayList;
import java.util.List;

/**
 * The whole RL loop in one thread, without Kafka: sample a group per prompt, score it with the task's
 * built-in scorers, group-normalise advantages, one update of the configured algorithm (GRPO, PPO or DPO).
 * The services do the same across Kafka; this is the baseline they are measured against and what the
 * policy tests train with.
 */
public final class RlLoop implements AutoCloseable {

    /**
     * @param promptsPerStep prompts (= groups) per optimiser step
     * @param groupSize      rollouts per prompt (G)
     * @param sampling       temperature etc.; the seed is advanced every step
     * @param divideByStd    (r − mean)/(std + ε) when true, r − mean otherwise
     */
    public record Config(int promptsPerStep, int groupSize, SamplingParams sampling, boolean divideByStd, long seed) {
        public Config {
            if (promptsPerStep < 1) throw new IllegalArgumentException("promptsPerStep must be >= 1, got " + promptsPerStep);
            if (groupSize < 2) throw new IllegalArgumentException("groupSize must be >= 2, got " + groupSize);
        }
    }

    /** One step's numbers; {@code meanReward} and {@code accuracy} are over the step's own rollouts. */
    public record StepResult(int step, double meanReward, double accuracy, UpdateStats stats) {
    }

    private final Policy policy;
    private final Task task;
    private final Config config;
    private final RlUpdater updater;
    private final Sampler sampler;
    private int step;

    /** @param reference the frozen SFT policy; the policies belong to the caller */
    public RlLoop(Policy policy, Policy reference, Task task, Config config, UpdaterConfig updaterConfig) {
        this.policy = policy;
        this.task = task;
        this.config = config;
        this.updater = updaterConfig.newUpdater(policy, reference);
        this.sampler = new Sampler(policy);
    }

    public StepResult step() {
        List<TaskPrompt> prompts = task.prompts(Split.TRAIN, config.promptsPerStep(), config.seed() + step);
        List<int[]> rows = new ArrayList<>();
        for (TaskPrompt prompt : prompts) {
            int[] tokens = ByteTokenizer.encodePrompt(prompt.text());
            for (int g = 0; g < config.groupSize(); g++) rows.add(tokens);
        }
        SamplingParams s = config.sampling();
        // rows of one call use seed + row; stepping by the row count keeps every row's stream distinct
        long seed = config.seed() * 1_000_003L + (long) step * rows.size();
        List<Completion> completions = sampler.sample(rows, new SamplingParams(s.temperature(), s.topK(), s.topP(), seed, s.maxTokens()));

        List<RlGroup> batch = new ArrayList<>(prompts.size());
        double rewardSum = 0;
        int correct = 0;
        for (int p = 0; p < prompts.size(); p++) {
            double[] rewards = new double[config.groupSize()];
            for (int g = 0; g < config.groupSize(); g++) {
                String text = completions.get(p * config.groupSize() + g).text();
                rewards[g] = task.reward(prompts.get(p), text);
                rewardSum += rewards[g];
                if (text.trim().equals(prompts.get(p).referenceAnswer())) correct++;
            }
            double[] advantages = Advantages.groupNormalised(rewards, config.divideByStd(), Advantages.DEFAULT_EPS);
            List<RlSample> group = new ArrayList<>(config.groupSize());
            for (int g = 0; g < config.groupSize(); g++) {
                Completion c = completions.get(p * config.groupSize() + g);
                group.add(new RlSample(rows.get(p * config.groupSize() + g), c.tokenIds(), c.logprobs(), rewards[g], advantages[g], 0));
            }
            batch.add(new RlGroup(group));
        }
        UpdateStats stats = updater.update(batch);
        step++;
        return new StepResult(step, rewardSum / rows.size(), (double) correct / rows.size(), stats);
    }

    public Policy policy() {
        return policy;
    }

    /** Closes the updater (optimiser state, PPO's critic); the policies belong to the caller. */
    @Override
    public void close() {
        updater.close();
    }
}
