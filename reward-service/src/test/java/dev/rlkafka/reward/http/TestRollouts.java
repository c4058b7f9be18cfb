package dev.rlkafka.reward.http;

import dev.rlkafka.schemas.avro.FinishReason;
import dev.rlkafka.schemas.avro.Rollout;
import dev.rlkafka.schemas.avro.SamplingParams;

import java.time.Instant;
import java.util.List;

/** Rollouts of the arithmetic prompt "12+30=" (reference answer "42"), as a generator writes them. */
final class TestRollouts {
    private TestRollouts() {
    }

    static Rollout rollout(String groupId, int index, int groupSize, String completion) {
        return Rollout.newBuilder().setRolloutId(groupId + "/" + index).setGroupId(groupId).setPromptId("p-" + groupId)
                .setIndex(index).setGroupSize(groupSize).setTask("arithmetic").setPromptText("12+30=")
                .setPromptTokenIds(List.of(1, 50, 51, 43, 52, 49, 62)).setReferenceAnswer("42")
                .setCompletionText(completion).setCompletionTokenIds(List.of(53, 51, 2))
                .setBehaviourLogprobs(List.of(-0.25f, -1.5f, -0.01f)).setPolicyVersion(3)
                .setSampling(SamplingParams.newBuilder().setTemperature(0.8f).setTopK(0).setTopP(1f)
                        .setSeed(1234L).setMaxTokens(8).build())
                .setGeneratorId("generator-1").setFinishReason(FinishReason.EOS)
                .setCreatedAtMs(Instant.ofEpochMilli(1_700_000_000_000L)).build();
    }
}
