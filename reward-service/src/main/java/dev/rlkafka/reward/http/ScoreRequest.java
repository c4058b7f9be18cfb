package dev.rlkafka.reward.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.rlkafka.schemas.avro.Rollout;

/**
 * The JSON body POSTed to an HTTP scorer for one rollout: the ids, the text to judge and its provenance.
 * Field names are the JSON names; {@code referenceAnswer} is {@code null} when the prompt has none.
 *
 * <pre>{"rolloutId":"g7/2","groupId":"g7","promptId":"p7","task":"arithmetic","prompt":"12+30=",
 *  "completion":"42","referenceAnswer":"42","policyVersion":3,"generatorId":"generator-1"}</pre>
 */
public record ScoreRequest(String rolloutId, String groupId, String promptId, String task, String prompt,
                           String completion, String referenceAnswer, long policyVersion, String generatorId) {

    public static ScoreRequest of(Rollout rollout) {
        return new ScoreRequest(rollout.getRolloutId(), rollout.getGroupId(), rollout.getPromptId(), rollout.getTask(),
                rollout.getPromptText(), rollout.getCompletionText(), rollout.getReferenceAnswer(),
                rollout.getPolicyVersion(), rollout.getGeneratorId());
    }

    /** UTF-8 JSON of this request. */
    public byte[] toJson() {
        try {
            return Json.MAPPER.writeValueAsBytes(this);
        } catch (JsonProcessingException e) {
            // strings and a long always serialise: failing here is a bug, not bad input
            throw new IllegalStateException("cannot write the score request of rollout " + rolloutId + " as JSON", e);
        }
    }
}
