package dev.rlkafka.cli.observe;

import dev.rlkafka.policy.task.Scorer;
import dev.rlkafka.policy.task.Task;
import dev.rlkafka.policy.task.TaskPrompt;
import dev.rlkafka.policy.task.Tasks;
import dev.rlkafka.schemas.avro.Rollout;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.TreeMap;

/**
 * The scorers {@code rlkafka rescore} can re-score a run with: every built-in scorer of the tasks (run with the
 * rollout's own task, as the reward-service does), and variants that ask a different question of the same
 * completion, the kind of change a reward-hacking audit tries.
 */
public final class RescoreScorers {
    /** A scorer for re-scoring: empty when it has nothing to say about a rollout (e.g. not its task's scorer). */
    public interface RescoreScorer {
        String id();

        String description();

        OptionalDouble score(Rollout rollout);
    }

    public static final String EXACT_ANSWER_STRICT = "exact-answer-strict";
    public static final String ANSWER_PREFIX = "answer-prefix";

    private static final Map<String, RescoreScorer> BY_NAME = byName();

    private RescoreScorers() {
    }

    /** The scorer called {@code name}; an unknown name fails listing the known ones. */
    public static RescoreScorer byName(String name) {
        RescoreScorer scorer = BY_NAME.get(name);
        if (scorer == null) throw new IllegalArgumentException("unknown scorer '" + name + "', known: " + BY_NAME.keySet());
        return scorer;
    }

    /** Known names with what each scores, sorted. */
    public static Map<String, String> descriptions() {
        Map<String, String> out = new TreeMap<>();
        BY_NAME.forEach((name, scorer) -> out.put(name, scorer.description()));
        return Collections.unmodifiableMap(out);
    }

    private static Map<String, RescoreScorer> byName() {
        Map<String, RescoreScorer> scorers = new LinkedHashMap<>();
        for (String taskName : Tasks.names()) {
            for (Scorer scorer : Tasks.byName(taskName).scorers()) {
                scorers.computeIfAbsent(scorer.id(), id -> new BuiltIn(id));
            }
        }
        // the arithmetic task's wrong demonstrations are the right sum plus a stray digit: a judge that only
        // checks the start of the answer is fooled by exactly them
        scorers.put(ANSWER_PREFIX, new Variant(ANSWER_PREFIX,
                "1 when the stripped completion starts with the reference answer (a lenient judge), else 0",
                (reference, completion) -> !reference.isEmpty() && completion.strip().startsWith(reference)));
        scorers.put(EXACT_ANSWER_STRICT, new Variant(EXACT_ANSWER_STRICT,
                "1 when the completion is the reference answer exactly, whitespace included, else 0",
                String::equals));
        return Collections.unmodifiableMap(scorers);
    }

    /** A task's own scorer, looked up in the rollout's task; rollouts of tasks without it are not scored. */
    private record BuiltIn(String id) implements RescoreScorer {
        @Override
        public String description() {
            return "built-in scorer of " + Tasks.names().stream().filter(t -> scorerOf(t, id).isPresent()).toList();
        }

        @Override
        public OptionalDouble score(Rollout rollout) {
            Optional<Scorer> scorer = Tasks.names().contains(rollout.getTask()) ? scorerOf(rollout.getTask(), id) : Optional.empty();
            Optional<TaskPrompt> prompt = prompt(rollout);
            if (scorer.isEmpty() || prompt.isEmpty()) return OptionalDouble.empty();
            return OptionalDouble.of(scorer.get().score(prompt.get(), rollout.getCompletionText()));
        }

        private static Optional<Scorer> scorerOf(String task, String id) {
            Task t = Tasks.byName(task);
            return t.scorers().stream().filter(s -> s.id().equals(id)).findFirst();
        }

        /** As the reward-service builds it; a rollout that is no valid prompt gets no built-in score there either. */
        private static Optional<TaskPrompt> prompt(Rollout r) {
            try {
                return Optional.of(new TaskPrompt(r.getPromptId(), r.getPromptText(),
                        r.getReferenceAnswer() == null ? "" : r.getReferenceAnswer()));
            } catch (IllegalArgumentException e) {
                return Optional.empty();
            }
        }
    }

    /** A 0/1 check of the completion against the reference answer; rollouts without a reference are not scored. */
    private record Variant(String id, String description, java.util.function.BiPredicate<String, String> correct)
            implements RescoreScorer {
        @Override
        public OptionalDouble score(Rollout rollout) {
            String reference = rollout.getReferenceAnswer();
            if (reference == null) return OptionalDouble.empty();
            return OptionalDouble.of(correct.test(reference, rollout.getCompletionText()) ? 1 : 0);
        }
    }
}
