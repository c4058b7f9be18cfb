package dev.rlkafka.trainer;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * What one optimiser step did.
 *
 * @param step                steps taken in total, this one included
 * @param policyVersion       the trainer's policy version after the step
 * @param versionAdvanced     this step completed a version (every K steps): it is to be checkpointed and published
 * @param groups              groups trained on in this step
 * @param droppedStale        groups dropped as stale since the previous step
 * @param deadLetters         scored groups this run's trainer has dead-lettered so far (undecodable or untrainable), in
 *                            all its processes: the count is checkpointed
 * @param rewardMean          mean final reward over the step's rollouts
 * @param accuracy            fraction of rollouts with an {@value #EXACT_ANSWER} score >= 1, over the rollouts that have one;
 *                            NaN when none has
 * @param kl                  mean k3 KL to the reference over the completion tokens the update forwarded (DPO: its pairs');
 *                            NaN for a DPO step without pairs
 * @param loss                the algorithm's loss (PPO: the policy's); NaN for a DPO step without pairs
 * @param clipFraction        fraction of tokens whose ratio was clipped; 0 for DPO
 * @param stalenessHistogram  count of the step's groups by staleness 0..(largest staleness in the step)
 * @param tokens              completion tokens trained on (DPO: its pairs' only)
 * @param rolloutTokens       completion tokens of every rollout in the step's groups: what the pipeline generated and
 *                            scored for this step (= tokens for GRPO and PPO)
 * @param tokensPerSecond     completion tokens per second of the update
 * @param diagnostics         the algorithm's own numbers by metric name (PPO: value_loss, ...; DPO: pairs, dpo_margin, ...)
 */
public record StepResult(long step, long policyVersion, boolean versionAdvanced, int groups, long droppedStale,
                         long deadLetters, double rewardMean, double accuracy, double kl, double loss, double clipFraction,
                         long[] stalenessHistogram, long tokens, long rolloutTokens, double tokensPerSecond,
                         Map<String, Double> diagnostics) {

    /** The built-in scorer whose score counts for accuracy. */
    public static final String EXACT_ANSWER = "exact-answer";

    public StepResult {
        stalenessHistogram = stalenessHistogram.clone();
        diagnostics = Collections.unmodifiableMap(new LinkedHashMap<>(diagnostics));
    }

    @Override
    public long[] stalenessHistogram() {
        return stalenessHistogram.clone();
    }

    /** One line for a log or a console: step, version, reward, accuracy, KL, staleness histogram, throughput, diagnostics. */
    public String summary() {
        StringBuilder extra = new StringBuilder();
        diagnostics.forEach((name, value) -> extra.append(String.format(Locale.ROOT, " %s %.4g", name, value)));
        return "step %d v%d reward %.3f acc %s kl %.4f loss %.4f groups %d dropped %d staleness %s %.0f tok/s%s".formatted(
                step, policyVersion, rewardMean, Double.isNaN(accuracy) ? "-" : "%.3f".formatted(accuracy), kl, loss,
                groups, droppedStale, java.util.Arrays.toString(stalenessHistogram), tokensPerSecond, extra);
    }
}
