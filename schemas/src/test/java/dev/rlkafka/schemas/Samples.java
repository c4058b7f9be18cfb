package dev.rlkafka.schemas;

import dev.rlkafka.schemas.avro.DeadLetter;
import dev.rlkafka.schemas.avro.FinishReason;
import dev.rlkafka.schemas.avro.Metric;
import dev.rlkafka.schemas.avro.Prompt;
import dev.rlkafka.schemas.avro.Reward;
import dev.rlkafka.schemas.avro.Rollout;
import dev.rlkafka.schemas.avro.SamplingParams;
import dev.rlkafka.schemas.avro.ScoredGroup;
import dev.rlkafka.schemas.avro.WeightChunk;
import org.apache.avro.specific.SpecificRecord;

import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/** One filled-in record of every topic value type, every optional field set, for round trips. */
public final class Samples {
    // timestamp-millis keeps milliseconds only, so samples use whole milliseconds to compare equal
    static final Instant AT = Instant.ofEpochMilli(1_760_000_000_123L);

    private Samples() {
    }

    public static Prompt prompt() {
        return Prompt.newBuilder().setPromptId("p-7").setTask("arithmetic").setText("12+30=")
                .setReferenceAnswer("42").setGroupSize(4).setCreatedAtMs(AT).build();
    }

    public static Rollout rollout(int index) {
        return Rollout.newBuilder().setRolloutId("g-7/" + index).setGroupId("g-7").setPromptId("p-7")
                .setIndex(index).setGroupSize(2).setTask("arithmetic").setPromptText("12+30=")
                .setPromptTokenIds(List.of(1, 50, 51, 43, 52, 49, 62)).setReferenceAnswer("42")
                .setCompletionText("42").setCompletionTokenIds(List.of(53, 51, 2))
                .setBehaviourLogprobs(List.of(-0.25f, -1.5f, -0.01f)).setPolicyVersion(3)
                .setSampling(SamplingParams.newBuilder().setTemperature(0.8f).setTopK(40).setTopP(0.95f)
                        .setSeed(1234L).setMaxTokens(64).build())
                .setGeneratorId("generator-1").setFinishReason(FinishReason.EOS).setCreatedAtMs(AT).build();
    }

    public static Reward reward() {
        return Reward.newBuilder().setRolloutId("g-7/0").setGroupId("g-7").setScorerId("exact-answer")
                .setScore(1.0).setRationale("matches 42").setMetadata(Map.of("rater", "builtin"))
                .setCreatedAtMs(AT).build();
    }

    public static ScoredGroup scoredGroup() {
        return ScoredGroup.newBuilder().setGroupId("g-7").setPromptId("p-7").setTask("arithmetic")
                .setRollouts(List.of(rollout(0), rollout(1))).setRewards(List.of(1.0, 0.0))
                .setAdvantages(List.of(1.0, -1.0))
                .setScores(List.of(Map.of("exact-answer", 1.0), Map.of("exact-answer", 0.0)))
                .setMissingScorers(List.of("judge")).setCompletedAtMs(AT).build();
    }

    public static WeightChunk weightChunk() {
        return WeightChunk.newBuilder().setVersion(3).setStep(300).setChunkIndex(1).setChunkCount(4)
                .setTotalBytes(4096).setSha256("ab".repeat(32)).setBytes(ByteBuffer.wrap(new byte[] {1, 2, 3, (byte) 0xFF}))
                .setBlobUri(null).setCreatedAtMs(AT).build();
    }

    public static Metric metric() {
        return Metric.newBuilder().setServiceId("trainer").setKind("trainer.step").setStep(300).setPolicyVersion(3)
                .setValues(Map.of("loss", 0.5, "kl", 0.01)).setTimestampMs(AT).build();
    }

    public static DeadLetter deadLetter() {
        return DeadLetter.newBuilder().setSourceTopic("rl.rewards").setSourcePartition(2).setSourceOffset(17)
                .setSourceKey(ByteBuffer.wrap(new byte[] {'g'})).setOriginalBytes(ByteBuffer.wrap(new byte[] {0, 1, 2}))
                .setReason("score NaN is not finite").setErrorType("NON_FINITE_SCORE").setServiceId("reward-service")
                .setTimestampMs(AT).build();
    }

    /** One of each topic value type. */
    public static List<SpecificRecord> all() {
        return List.of(prompt(), rollout(0), reward(), scoredGroup(), weightChunk(), metric(), deadLetter());
    }
}
