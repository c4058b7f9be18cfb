package dev.rlkafka.generator;

import dev.rlkafka.policy.model.Policy;
import dev.rlkafka.policy.sampling.Completion;
import dev.rlkafka.policy.sampling.Sampler;
import dev.rlkafka.policy.sampling.SamplingParams;
import dev.rlkafka.policy.tokenizer.ByteTokenizer;
import dev.rlkafka.policy.weights.WeightCodec;
import dev.rlkafka.schemas.avro.FinishReason;
import dev.rlkafka.schemas.avro.Prompt;
import dev.rlkafka.schemas.avro.Rollout;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The generator's core: samples a group of rollouts per prompt from the policy it holds, stamps them with
 * their provenance, and hot-swaps weights between batches. No Kafka; not thread-safe (one sampling thread
 * owns it). Owns the policy: {@link #close()} closes it.
 */
public final class Generator implements AutoCloseable {
    private final GeneratorConfig config;
    private final Policy policy;
    private final Sampler sampler;
    private long policyVersion;
    private int swaps;

    /**
     * @param policy        the live model, owned from now on
     * @param policyVersion the version of the weights it holds
     */
    public Generator(GeneratorConfig config, Policy policy, long policyVersion) {
        this.config = config;
        this.policy = policy;
        this.sampler = new Sampler(policy);
        this.policyVersion = policyVersion;
    }

    /**
     * Checks that {@code prompt} can be sampled and tokenizes it.
     *
     * @param source where the prompt came from (e.g. {@code rl.prompts-0@12}), for the error message
     * @throws InvalidPromptException when its tokens + maxTokens exceed the context length, or its group
     *                                size is out of range
     */
    public PreparedPrompt prepare(Prompt prompt, String source) {
        int groupSize = prompt.getGroupSize() == 0 ? config.groupSize() : prompt.getGroupSize();
        if (groupSize < 1 || groupSize > GeneratorConfig.MAX_GROUP_SIZE) {
            throw new InvalidPromptException("prompt %s from %s asks for groupSize %d; must be 0 (default %d) or 1 to %d"
                    .formatted(prompt.getPromptId(), source, prompt.getGroupSize(), config.groupSize(),
                            GeneratorConfig.MAX_GROUP_SIZE));
        }
        int[] tokens = ByteTokenizer.encodePrompt(prompt.getText());
        int context = policy.config().contextLength();
        if (tokens.length + config.maxTokens() > context) {
            throw new InvalidPromptException(("prompt %s from %s has %d tokens; with maxTokens %d that is %d, more than"
                    + " the model's context length %d").formatted(prompt.getPromptId(), source, tokens.length,
                    config.maxTokens(), tokens.length + config.maxTokens(), context));
        }
        return new PreparedPrompt(prompt, tokens, groupSize);
    }

    /**
     * Samples every prompt's group in one batched call: rows are the prompts' G copies in order, row r
     * drawing from seed {@code batchSeed + r}; a rollout records its row's seed, so sampling its prompt
     * alone with that seed reproduces it.
     *
     * @return per prompt, its G rollouts in index order; groupId = promptId, rolloutId = groupId/index
     */
    public List<Rollout> generate(List<PreparedPrompt> prompts, long batchSeed) {
        List<int[]> rows = new ArrayList<>();
        for (PreparedPrompt p : prompts) {
            int[] tokens = p.tokenIds();
            for (int i = 0; i < p.groupSize(); i++) rows.add(tokens);
        }
        SamplingParams params = config.sampling(batchSeed);
        List<Completion> completions = sampler.sample(rows, params);
        Instant now = Instant.now();
        List<Rollout> rollouts = new ArrayList<>(rows.size());
        int row = 0;
        for (PreparedPrompt p : prompts) {
            Prompt prompt = p.prompt();
            List<Integer> promptTokens = Arrays.stream(p.tokenIds()).boxed().toList();
            for (int index = 0; index < p.groupSize(); index++, row++) {
                Completion c = completions.get(row);
                List<Float> logprobs = new ArrayList<>(c.length());
                for (float lp : c.logprobs()) logprobs.add(lp);
                String groupId = prompt.getPromptId();   // one prompt, one group
                rollouts.add(Rollout.newBuilder()
                        .setRolloutId(groupId + "/" + index)
                        .setGroupId(groupId)
                        .setPromptId(prompt.getPromptId())
                        .setIndex(index)
                        .setGroupSize(p.groupSize())
                        .setTask(prompt.getTask())
                        .setPromptText(prompt.getText())
                        .setPromptTokenIds(promptTokens)
                        .setReferenceAnswer(prompt.getReferenceAnswer())
                        .setCompletionText(c.text())
                        .setCompletionTokenIds(Arrays.stream(c.tokenIds()).boxed().toList())
                        .setBehaviourLogprobs(logprobs)
                        .setPolicyVersion(policyVersion)
                        .setSampling(dev.rlkafka.schemas.avro.SamplingParams.newBuilder()
                                .setTemperature(params.temperature())
                                .setTopK(params.topK())
                                .setTopP(params.topP())
                                .setSeed(params.rowSeed(row))
                                .setMaxTokens(params.maxTokens())
                                .build())
                        .setGeneratorId(config.generatorId())
                        .setFinishReason(FinishReason.valueOf(c.finishReason().name()))
                        .setCreatedAtMs(now)
                        .build());
            }
        }
        return rollouts;
    }

    /**
     * Loads {@code weights} into the live model; call between batches. Bad bytes leave the current weights
     * and version in place.
     *
     * @throws IllegalArgumentException when the bytes are not weights of this model's shape
     */
    public void swap(long version, byte[] weights) {
        WeightCodec.loadInto(policy, weights);
        policyVersion = version;
        swaps++;
    }

    /** Version of the weights the next batch samples with. */
    public long policyVersion() {
        return policyVersion;
    }

    /** How many versions were swapped in since construction. */
    public int swaps() {
        return swaps;
    }

    public Policy policy() {
        return policy;
    }

    @Override
    public void close() {
        policy.close();
    }
}
