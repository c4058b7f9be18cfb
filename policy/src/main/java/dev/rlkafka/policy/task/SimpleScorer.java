package dev.rlkafka.policy.task;

import java.util.function.ToDoubleBiFunction;

/** A scorer from an id, a weight and a function; checks the function's value is finite. */
record SimpleScorer(String id, double weight, ToDoubleBiFunction<TaskPrompt, String> function) implements Scorer {

    SimpleScorer {
        if (id == null || id.isBlank()) throw new IllegalArgumentException("scorer id must be non-blank, got '" + id + "'");
        if (!(weight >= 0 && Double.isFinite(weight))) {
            throw new IllegalArgumentException("weight of scorer " + id + " must be finite and >= 0, got " + weight);
        }
        if (function == null) throw new IllegalArgumentException("function of scorer " + id + " must not be null");
    }

    @Override
    public double score(TaskPrompt prompt, String completion) {
        double score = function.applyAsDouble(prompt, completion == null ? "" : completion);
        // a built-in scorer returning NaN is our bug, not bad input
        if (!Double.isFinite(score)) {
            throw new IllegalStateException("scorer %s gave non-finite score %s for prompt %s"
                    .formatted(id, score, prompt.id()));
        }
        return score;
    }
}
