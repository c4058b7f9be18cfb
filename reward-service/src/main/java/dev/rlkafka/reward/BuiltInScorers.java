package dev.rlkafka.reward;

import dev.rlkafka.policy.task.Scorer;
import dev.rlkafka.policy.task.Task;
import dev.rlkafka.policy.task.TaskPrompt;
import dev.rlkafka.policy.task.Tasks;
import dev.rlkafka.schemas.avro.Reward;
import dev.rlkafka.schemas.avro.Rollout;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The built-in scorers as an in-process external scorer: for an accepted rollout, one {@link Reward} per
 * built-in scorer of the rollout's task, which the service writes to {@code rl.rewards}, so every score
 * of a run is on one audited topic and comes back the way any other scorer's does. Not thread-safe (one
 * per stream task).
 */
final class BuiltInScorers {
    private static final Logger log = LoggerFactory.getLogger(BuiltInScorers.class);

    /** {@code metadata["source"]} of every built-in reward: how the service tells its own writes coming back. */
    static final String SOURCE = "built-in";

    private final String serviceId;
    /** Task name → its task, or empty when no built-in task has that name (warned once). */
    private final Map<String, Optional<Task>> tasks = new HashMap<>();

    BuiltInScorers(String serviceId) {
        this.serviceId = serviceId;
    }

    /** The built-in rewards of {@code rollout}; none when its task has no built-in scorers. */
    List<Reward> score(Rollout rollout, long nowMs) {
        Optional<Task> task = tasks.computeIfAbsent(rollout.getTask(), this::lookUp);
        return task.isEmpty() ? List.of() : score(task.get(), rollout, serviceId, nowMs);
    }

    /** One reward per built-in scorer of {@code task}; none when the rollout is not a valid prompt of it. */
    static List<Reward> score(Task task, Rollout rollout, String serviceId, long nowMs) {
        TaskPrompt prompt;
        try {
            String reference = rollout.getReferenceAnswer() == null ? "" : rollout.getReferenceAnswer();
            prompt = new TaskPrompt(rollout.getPromptId(), rollout.getPromptText(), reference);
        } catch (IllegalArgumentException e) {
            // no built-in score: the group then times out naming the missing scores
            log.warn("rollout {} of group {} is not a valid {} prompt, not scored by the built-in scorers: {}",
                    rollout.getRolloutId(), rollout.getGroupId(), task.name(), e.getMessage());
            return List.of();
        }
        return task.scorers().stream().map((Scorer scorer) -> Reward.newBuilder()
                .setRolloutId(rollout.getRolloutId())
                .setGroupId(rollout.getGroupId())
                .setScorerId(scorer.id())
                .setScore(scorer.score(prompt, rollout.getCompletionText()))
                .setRationale(null)
                .setMetadata(Map.of("source", SOURCE, "task", task.name(), "service", serviceId))
                .setCreatedAtMs(Instant.ofEpochMilli(nowMs))
                .build()).toList();
    }

    /** A reward written by the built-in scorers of a reward-service (this one or another instance of it). */
    static boolean isBuiltIn(Reward reward) {
        return SOURCE.equals(reward.getMetadata().get("source"));
    }

    private Optional<Task> lookUp(String name) {
        try {
            return Optional.of(Tasks.byName(name));
        } catch (IllegalArgumentException e) {
            // external scorers may still score it; required built-in scores then time the group out
            log.warn("no built-in scorers for task '{}' (rollouts of it are left to external scorers): {}", name, e.getMessage());
            return Optional.empty();
        }
    }
}
