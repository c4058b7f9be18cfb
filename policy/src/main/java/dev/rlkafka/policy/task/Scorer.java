package dev.rlkafka.policy.task;

/**
 * A built-in verifiable reward: scores one completion of one prompt.
 *
 * <p>The final reward of a rollout is {@code Σ weight·score} over its task's scorers; the
 * reward-service applies the weights, so {@link #score} returns the unweighted value.
 */
public interface Scorer {

    /** Stable id written to {@code rl.rewards}, e.g. {@code "exact-answer"}. */
    String id();

    /** Weight of this scorer in the final reward; finite and {@code >= 0}. */
    double weight();

    /**
     * Scores {@code completion} (the decoded text after the prompt, EOS excluded).
     *
     * @return a finite value; never throws on junk completions, which score low instead
     */
    double score(TaskPrompt prompt, String completion);
}
