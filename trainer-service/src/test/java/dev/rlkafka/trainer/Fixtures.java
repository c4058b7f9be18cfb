package dev.rlkafka.trainer;

import ai.djl.Device;
import dev.rlkafka.policy.model.ModelConfig;
import dev.rlkafka.policy.model.Policy;
import dev.rlkafka.policy.sampling.Completion;
import dev.rlkafka.policy.sampling.Sampler;
import dev.rlkafka.policy.sampling.SamplingParams;
import dev.rlkafka.policy.tokenizer.ByteTokenizer;
import dev.rlkafka.policy.weights.Checkpoint;
import dev.rlkafka.schemas.avro.FinishReason;
import dev.rlkafka.schemas.avro.Rollout;
import dev.rlkafka.schemas.avro.ScoredGroup;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

/** A tiny model, a reference checkpoint of it, and scored groups made by hand or from its sampler. */
final class Fixtures {
    /** Width 32, 1 layer, 2 heads, context 32: a step takes milliseconds on a CPU. */
    static final ModelConfig TINY = new ModelConfig(ByteTokenizer.VOCAB_SIZE, 32, 32, 1, 2);

    private Fixtures() {
    }

    static Policy tinyPolicy(long seed) {
        return Policy.create(TINY, Device.cpu(), seed);
    }

    /** Writes a fresh tiny policy as the SFT checkpoint the trainer takes as reference. */
    static void writeReference(Path path, long seed) throws IOException {
        try (Policy policy = tinyPolicy(seed)) {
            Checkpoint.of(policy, 0, Map.of(), Map.of()).write(path);
        }
    }

    static TrainerConfig config(Path dir) {
        return TrainerConfig.defaults("localhost:1", dir.resolve("ckpt"), dir.resolve("reference.ckpt"));
    }

    /** One rollout of a group, by hand. */
    static Rollout rollout(String groupId, int index, int groupSize, int[] prompt, int[] completion, float[] logprobs, long version) {
        return Rollout.newBuilder()
                .setRolloutId(groupId + "/" + index).setGroupId(groupId).setPromptId("p-" + groupId).setIndex(index)
                .setGroupSize(groupSize).setTask("arithmetic").setPromptText("1+1=").setPromptTokenIds(boxed(prompt))
                .setReferenceAnswer("2").setCompletionText(ByteTokenizer.decode(completion)).setCompletionTokenIds(boxed(completion))
                .setBehaviourLogprobs(boxedFloats(logprobs)).setPolicyVersion(version)
                .setSampling(dev.rlkafka.schemas.avro.SamplingParams.newBuilder().setTemperature(1f).setTopK(0).setTopP(1f)
                        .setSeed(1).setMaxTokens(8).build())
                .setGeneratorId("test").setFinishReason(FinishReason.EOS).setCreatedAtMs(Instant.ofEpochMilli(0)).build();
    }

    /** A group of the given rollouts; exact-answer score = reward. */
    static ScoredGroup group(String groupId, List<Rollout> rollouts, List<Double> rewards, List<Double> advantages) {
        List<Map<String, Double>> scores = new ArrayList<>();
        for (double r : rewards) scores.add(Map.of(StepResult.EXACT_ANSWER, r));
        return ScoredGroup.newBuilder().setGroupId(groupId).setPromptId("p-" + groupId).setTask("arithmetic")
                .setRollouts(rollouts).setRewards(rewards).setAdvantages(advantages).setScores(scores)
                .setMissingScorers(List.of()).setCompletedAtMs(Instant.ofEpochMilli(0)).build();
    }

    /** A 2-rollout group with short token sequences; rewards 1 and 0, advantages +1 and −1. */
    static ScoredGroup simpleGroup(String groupId, long version) {
        int[] prompt = ByteTokenizer.encodePrompt("1+1=");
        List<Rollout> rollouts = List.of(
                rollout(groupId, 0, 2, prompt, new int[] {'2', ByteTokenizer.EOS}, new float[] {-1.5f, -2f}, version),
                rollout(groupId, 1, 2, prompt, new int[] {'3', '3', ByteTokenizer.EOS}, new float[] {-3f, -2.5f, -1f}, version));
        return group(groupId, rollouts, List.of(1.0, 0.0), List.of(1.0, -1.0));
    }

    /**
     * {@code count} groups of {@code groupSize} rollouts sampled from {@code policy} (real behaviour log-probs),
     * with random 0/1 rewards and group-normalised advantages; group ids {@code prefix0..}.
     */
    static List<ScoredGroup> sampledGroups(Policy policy, String prefix, int count, int groupSize, long seed) {
        Random random = new Random(seed);
        String[] texts = {"12+30=", "7+5=", "40+2=", "9+9="};
        List<int[]> prompts = new ArrayList<>();
        for (int i = 0; i < 16; i++) prompts.add(ByteTokenizer.encodePrompt(texts[i % texts.length]));
        List<Completion> pool = new Sampler(policy).sample(prompts, SamplingParams.plain(seed, 8));
        List<ScoredGroup> groups = new ArrayList<>();
        for (int g = 0; g < count; g++) {
            String groupId = prefix + g;
            int p = random.nextInt(texts.length);
            List<Rollout> rollouts = new ArrayList<>();
            List<Double> rewards = new ArrayList<>();
            for (int i = 0; i < groupSize; i++) {
                Completion c = pool.get(p + texts.length * random.nextInt(pool.size() / texts.length));
                rollouts.add(rollout(groupId, i, groupSize, prompts.get(p), c.tokenIds(), c.logprobs(), 0));
                rewards.add(random.nextBoolean() ? 1.0 : 0.0);
            }
            groups.add(group(groupId, rollouts, rewards, advantages(rewards)));
        }
        return groups;
    }

    static List<Double> advantages(List<Double> rewards) {
        double mean = rewards.stream().mapToDouble(Double::doubleValue).average().orElseThrow();
        double var = rewards.stream().mapToDouble(r -> (r - mean) * (r - mean)).average().orElseThrow();
        double std = Math.sqrt(var);
        return rewards.stream().map(r -> (r - mean) / (std + 1e-4)).toList();
    }

    private static List<Integer> boxed(int[] values) {
        List<Integer> out = new ArrayList<>();
        for (int v : values) out.add(v);
        return out;
    }

    private static List<Float> boxedFloats(float[] values) {
        List<Float> out = new ArrayList<>();
        for (float v : values) out.add(v);
        return out;
    }
}
