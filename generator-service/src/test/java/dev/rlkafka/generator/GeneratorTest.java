package dev.rlkafka.generator;

import dev.rlkafka.policy.model.ModelConfig;
import dev.rlkafka.policy.sampling.Completion;
import dev.rlkafka.policy.sampling.Sampler;
import dev.rlkafka.policy.sampling.SamplingParams;
import dev.rlkafka.policy.tokenizer.ByteTokenizer;
import dev.rlkafka.schemas.avro.FinishReason;
import dev.rlkafka.schemas.avro.Rollout;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;

import static dev.rlkafka.generator.Fixtures.TINY;
import static dev.rlkafka.generator.Fixtures.prompt;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class GeneratorTest {
    private static final int MAX_TOKENS = 6;

    private final GeneratorConfig config = GeneratorConfig.defaults("localhost:9092").withGeneratorId("gen-test")
            .withGroupSize(3).withSampling(1.0f, 0, 1.0f, MAX_TOKENS);
    private Generator generator;

    @BeforeEach
    void createGenerator() {
        generator = new Generator(config, Fixtures.policy(1), 0);
    }

    @AfterEach
    void closeGenerator() {
        generator.close();
    }

    @Test
    void samplesOneGroupPerPromptWithConsistentIdsTokensAndLogprobs() {
        var a = generator.prepare(prompt("p-a", "12+30=", 0), "test");
        var b = generator.prepare(prompt("p-b", "7+8=", 2), "test");   // the prompt's own group size wins
        List<Rollout> rollouts = generator.generate(List.of(a, b), 100);

        assertEquals(3 + 2, rollouts.size());
        for (int i = 0; i < rollouts.size(); i++) {
            Rollout r = rollouts.get(i);
            boolean first = i < 3;
            String group = first ? "p-a" : "p-b";
            int index = first ? i : i - 3;
            assertEquals(group, r.getGroupId(), "one prompt, one group");
            assertEquals(group, r.getPromptId());
            assertEquals(group + "/" + index, r.getRolloutId());
            assertEquals(index, r.getIndex());
            assertEquals(first ? 3 : 2, r.getGroupSize());
            assertEquals(first ? "12+30=" : "7+8=", r.getPromptText());
            assertEquals(Arrays.stream(ByteTokenizer.encodePrompt(r.getPromptText())).boxed().toList(), r.getPromptTokenIds());
            assertEquals("arithmetic", r.getTask());
            assertEquals("42", r.getReferenceAnswer());
            assertEquals(r.getCompletionTokenIds().size(), r.getBehaviourLogprobs().size(), "one log-prob per token");
            assertTrue(r.getCompletionTokenIds().size() >= 1 && r.getCompletionTokenIds().size() <= MAX_TOKENS);
            assertEquals(r.getFinishReason() == FinishReason.EOS,
                    r.getCompletionTokenIds().get(r.getCompletionTokenIds().size() - 1) == ByteTokenizer.EOS);
            assertEquals(ByteTokenizer.decode(r.getCompletionTokenIds().stream().mapToInt(Integer::intValue).toArray()),
                    r.getCompletionText());
            r.getBehaviourLogprobs().forEach(lp -> assertTrue(lp <= 0 && Float.isFinite(lp), "log-prob " + lp));
            assertEquals(0, r.getPolicyVersion());
            assertEquals("gen-test", r.getGeneratorId());
            assertEquals(MAX_TOKENS, r.getSampling().getMaxTokens());
            assertEquals(100 + i, r.getSampling().getSeed(), "row seed");
        }
        assertNotEquals(rollouts.get(0).getCompletionTokenIds(), rollouts.get(1).getCompletionTokenIds(),
                "rows of a group draw from different streams (a random 259-token model repeats 6 tokens ~never)");
    }

    @Test
    void aRolloutsRecordedSeedReproducesItSampledAlone() {
        var p = generator.prepare(prompt("p", "12+30=", 0), "test");
        Rollout second = generator.generate(List.of(p), 5).get(1);
        Completion alone = new Sampler(generator.policy()).sample(List.of(p.tokenIds()),
                new SamplingParams(1.0f, 0, 1.0f, second.getSampling().getSeed(), MAX_TOKENS)).get(0);
        assertEquals(second.getCompletionTokenIds(), Arrays.stream(alone.tokenIds()).boxed().toList());
    }

    @Test
    void swapStampsTheNewVersionAndSamplesFromTheNewWeights() {
        var p = generator.prepare(prompt("p", "12+30=", 0), "test");
        List<Rollout> before = generator.generate(List.of(p), 7);

        generator.swap(1, Fixtures.weights(TINY, 2));
        List<Rollout> after = generator.generate(List.of(p), 7);
        assertEquals(1, generator.policyVersion());
        assertEquals(1, generator.swaps());
        after.forEach(r -> assertEquals(1, r.getPolicyVersion()));
        assertNotEquals(logprobs(before), logprobs(after), "same seeds, other weights: other log-probs");

        generator.swap(2, Fixtures.weights(TINY, 1));   // the first weights again
        assertEquals(logprobs(before), logprobs(generator.generate(List.of(p), 7)), "the swap really loaded the bytes");
    }

    @Test
    void weightsOfAnotherShapeAreRejectedAndTheOldOnesKept() {
        var p = generator.prepare(prompt("p", "12+30=", 0), "test");
        List<Rollout> before = generator.generate(List.of(p), 7);
        byte[] wider = Fixtures.weights(new ModelConfig(ByteTokenizer.VOCAB_SIZE, 32, 64, 1, 2), 3);

        var e = assertThrows(IllegalArgumentException.class, () -> generator.swap(1, wider));
        assertTrue(e.getMessage().contains("64"), e.getMessage());
        assertEquals(0, generator.policyVersion());
        assertEquals(logprobs(before), logprobs(generator.generate(List.of(p), 7)));
    }

    @Test
    void aPromptTooLongForTheContextIsRejectedNamingItsIdAndLengths() {
        String text = "x".repeat(30);   // BOS + 30 = 31 tokens, + 6 > 32
        var e = assertThrows(InvalidPromptException.class,
                () -> generator.prepare(prompt("long-1", text, 0), "rl.prompts-0@9"));
        String message = e.getMessage();
        for (String part : List.of("long-1", "rl.prompts-0@9", "31", "6", "32")) {
            assertTrue(message.contains(part), "message names " + part + ": " + message);
        }
        // the longest prompt that fits: 32 − 6 = 26 tokens = BOS + 25 bytes
        assertEquals(26, generator.prepare(prompt("fits", "x".repeat(25), 0), "test").tokenIds().length);
    }

    @Test
    void aNegativeGroupSizeIsRejected() {
        var e = assertThrows(InvalidPromptException.class, () -> generator.prepare(prompt("g", "1+1=", -2), "src"));
        assertTrue(e.getMessage().contains("-2") && e.getMessage().contains("g"), e.getMessage());
    }

    private static List<List<Float>> logprobs(List<Rollout> rollouts) {
        return rollouts.stream().map(Rollout::getBehaviourLogprobs).toList();
    }
}
