package dev.rlkafka.reward.human;

import dev.rlkafka.schemas.avro.Rollout;

import java.time.Instant;

/**
 * What a person needs to judge one rollout, copied out of the Avro {@link Rollout} (token ids and
 * log-probs stay behind: the page never shows them, and the queue may hold many rollouts).
 *
 * @param referenceAnswer the prompt's reference answer, or null when it has none
 */
public record WaitingRollout(String rolloutId, String groupId, String promptId, int index, int groupSize, String task,
                             String promptText, String completionText, String referenceAnswer, long policyVersion,
                             String finishReason, String generatorId, Instant createdAt) {
    public WaitingRollout {
        if (rolloutId == null || rolloutId.isBlank()) {
            throw new IllegalArgumentException("rollout id must be set, got '" + rolloutId + "' (group " + groupId + ")");
        }
        if (groupId == null || groupId.isBlank()) {
            throw new IllegalArgumentException("group id of rollout " + rolloutId + " must be set, got '" + groupId + "'");
        }
    }

    public static WaitingRollout of(Rollout rollout) {
        return new WaitingRollout(rollout.getRolloutId(), rollout.getGroupId(), rollout.getPromptId(), rollout.getIndex(),
                rollout.getGroupSize(), rollout.getTask(), rollout.getPromptText(), rollout.getCompletionText(),
                rollout.getReferenceAnswer(), rollout.getPolicyVersion(), String.valueOf(rollout.getFinishReason()),
                rollout.getGeneratorId(), rollout.getCreatedAtMs());
    }
}
