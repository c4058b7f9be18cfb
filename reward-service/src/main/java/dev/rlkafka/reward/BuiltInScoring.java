package dev.rlkafka.reward;

import dev.rlkafka.policy.task.Scorer;
import dev.rlkafka.policy.task.Task;
import dev.rlkafka.policy.task.TaskPrompt;
import dev.rlkafka.policy.task.Tasks;
import dev.rlkafka.schemas.avro.Reward;
import dev.rlkafka.schemas.avro.Rollout;
import dev.rlkafka.schemas.serde.RecordCodec;
import dev.rlkafka.schemas.serde.RecordDecodingException;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The built-in scorers as an in-process external scorer: reads a rollout, writes one {@link Reward} per
 * built-in scorer of the rollout's task to {@code rl.rewards}, so every score of a run is on one audited
 * topic and reaches {@link GroupAssembler} the way any other scorer's does.
 */
final class BuiltInScoring implements Processor<byte[], byte[], String, Reward> {
    private static final Logger log = LoggerFactory.getLogger(BuiltInScoring.class);
    private static final RecordCodec<Rollout> ROLLOUTS = RecordCodec.of(Rollout.class);

    private final String serviceId;
    /** Task name → its task, or empty when no built-in task has that name (warned once). */
    private final Map<String, Optional<Task>> tasks = new HashMap<>();
    private ProcessorContext<String, Reward> context;

    BuiltInScoring(String serviceId) {
        this.serviceId = serviceId;
    }

    @Override
    public void init(ProcessorContext<String, Reward> context) {
        this.context = context;
    }

    @Override
    public void process(Record<byte[], byte[]> rec) {
        Rollout rollout;
        try {
            Origin origin = GroupAssembler.origin(context, rec);
            rollout = ROLLOUTS.decode(origin.topic(), origin.partition(), origin.offset(), rec.value());
        } catch (RecordDecodingException e) {
            return;  // assemble-groups dead-letters the same record; one dead letter per bad record
        }
        Optional<Task> task = tasks.computeIfAbsent(rollout.getTask(), this::lookUp);
        if (task.isEmpty()) return;
        for (Reward reward : score(task.get(), rollout, serviceId, context.currentSystemTimeMs())) {
            context.forward(new Record<>(rollout.getGroupId(), reward, rec.timestamp()));
        }
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
                .setMetadata(Map.of("source", "built-in", "task", task.name(), "service", serviceId))
                .setCreatedAtMs(Instant.ofEpochMilli(nowMs))
                .build()).toList();
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
