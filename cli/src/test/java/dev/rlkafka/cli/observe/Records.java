package dev.rlkafka.cli.observe;

import dev.rlkafka.schemas.avro.DeadLetter;
import dev.rlkafka.schemas.avro.FinishReason;
import dev.rlkafka.schemas.avro.Metric;
import dev.rlkafka.schemas.avro.Prompt;
import dev.rlkafka.schemas.avro.Reward;
import dev.rlkafka.schemas.avro.Rollout;
import dev.rlkafka.schemas.avro.SamplingParams;
import dev.rlkafka.schemas.avro.ScoredGroup;
import dev.rlkafka.schemas.avro.WeightChunk;

import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/** Hand-made records of every topic type for tests; ids follow the services' scheme (rollout id = group/index). */
public final class Records {
    public static final Instant AT = Instant.ofEpochMilli(1_760_000_000_123L);

    private Records() {
    }

    public static Prompt prompt(String id, String text, String reference) {
        return Prompt.newBuilder().setPromptId(id).setTask("arithmetic").setText(text).setReferenceAnswer(reference)
                .setGroupSize(2).setCreatedAtMs(AT).build();
    }

    /** A rollout of the arithmetic prompt "40+41=" (reference 81) with {@code completion}. */
    public static Rollout rollout(String groupId, int index, long policyVersion, String completion) {
        return Rollout.newBuilder().setRolloutId(groupId + "/" + index).setGroupId(groupId).setPromptId("p-" + groupId)
                .setIndex(index).setGroupSize(2).setTask("arithmetic").setPromptText("40+41=")
                .setPromptTokenIds(List.of(1, 52, 48, 43, 52, 49, 61)).setReferenceAnswer("81")
                .setCompletionText(completion).setCompletionTokenIds(List.of(56, 49, 2))
                .setBehaviourLogprobs(List.of(-0.25f, -1.5f, -0.01f)).setPolicyVersion(policyVersion)
                .setSampling(SamplingParams.newBuilder().setTemperature(1f).setTopK(0).setTopP(1f).setSeed(7L).setMaxTokens(6).build())
                .setGeneratorId("generator-1").setFinishReason(FinishReason.EOS).setCreatedAtMs(AT).build();
    }

    public static Reward reward(String rolloutId, String scorerId, double score) {
        return Reward.newBuilder().setRolloutId(rolloutId).setGroupId(rolloutId.substring(0, rolloutId.indexOf('/')))
                .setScorerId(scorerId).setScore(score).setRationale(null).setMetadata(Map.of()).setCreatedAtMs(AT).build();
    }

    /** A group of {@code rollouts} with their final rewards and raw scores (advantages are not looked at here). */
    public static ScoredGroup scoredGroup(List<Rollout> rollouts, List<Double> rewards, List<Map<String, Double>> scores) {
        return ScoredGroup.newBuilder().setGroupId(rollouts.get(0).getGroupId()).setPromptId(rollouts.get(0).getPromptId())
                .setTask("arithmetic").setRollouts(rollouts).setRewards(rewards)
                .setAdvantages(rewards.stream().map(r -> 0.0).toList()).setScores(scores)
                .setMissingScorers(List.of()).setCompletedAtMs(AT).build();
    }

    public static Metric stepMetric(long step, long policyVersion, Map<String, Double> values) {
        return Metric.newBuilder().setServiceId("trainer").setKind("trainer.step").setStep(step).setPolicyVersion(policyVersion)
                .setValues(values).setTimestampMs(AT).build();
    }

    public static Metric metric(String serviceId, String kind, Map<String, Double> values) {
        return Metric.newBuilder().setServiceId(serviceId).setKind(kind).setStep(-1).setPolicyVersion(-1)
                .setValues(values).setTimestampMs(AT).build();
    }

    public static DeadLetter deadLetter(String errorType, String reason) {
        return DeadLetter.newBuilder().setSourceTopic("rl.rewards").setSourcePartition(2).setSourceOffset(17)
                .setSourceKey(null).setOriginalBytes(ByteBuffer.wrap(new byte[]{0, 1, 2}))
                .setReason(reason).setErrorType(errorType).setServiceId("reward-service").setTimestampMs(AT).build();
    }

    public static WeightChunk weightChunk(long version) {
        return WeightChunk.newBuilder().setVersion(version).setStep(version).setChunkIndex(0).setChunkCount(1)
                .setTotalBytes(4).setSha256("ab".repeat(32)).setBytes(ByteBuffer.wrap(new byte[]{1, 2, 3, 4}))
                .setBlobUri(null).setCreatedAtMs(AT).build();
    }
}
