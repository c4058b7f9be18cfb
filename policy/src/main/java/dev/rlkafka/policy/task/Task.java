package dev.rlkafka.policy.task;

import java.util.List;
import java.util.Random;

/** A family of problems with prompts, SFT demonstrations and built-in verifiable rewards. */
public interface Task {

    /** Registry name, e.g. {@code "arithmetic"} (see {@link Tasks#byName}). */
    String name();

    /**
     * Draws {@code count} prompts from {@code split}; the same arguments always give the same list.
     * Problems may repeat within a list (they are drawn with replacement), ids do not.
     */
    List<TaskPrompt> prompts(Split split, int count, long seed);

    /** The completion an SFT demonstration gives for {@code prompt}; may be wrong on purpose (see each task). */
    String demonstration(TaskPrompt prompt, Random rng);

    /** The task's built-in scorers, in a fixed order with distinct ids. */
    List<Scorer> scorers();

    /** {@code Σ weight·score} over {@link #scorers()}: what the reward-service computes once all scorers reported. */
    default double reward(TaskPrompt prompt, String completion) {
        double total = 0;
        for (Scorer scorer : scorers()) total += scorer.weight() * scorer.score(prompt, completion);
        return total;
    }
}
