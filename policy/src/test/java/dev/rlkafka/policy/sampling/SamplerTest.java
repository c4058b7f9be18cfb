package dev.rlkafka.policy.sampling;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import dev.rlkafka.policy.model.ModelConfig;
import dev.rlkafka.policy.model.Policy;
import dev.rlkafka.policy.tokenizer.ByteTokenizer;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class SamplerTest {

    static final ModelConfig SMALL = new ModelConfig(259, 24, 32, 2, 4);
    static Policy policy;
    static Sampler sampler;

    // untrained weights at N(0, 0.02) give nearly uniform next tokens: every id, EOS included, shows up
    @BeforeAll
    static void create() {
        Policy.setIntraOpThreads(1);   // measured fastest for batched sampling on 2 cores
        policy = Policy.create(SMALL, Device.cpu(), 11);
        sampler = new Sampler(policy);
    }

    @AfterAll
    static void close() {
        policy.close();
    }

    static final List<int[]> PROMPTS = List.of(
            ByteTokenizer.encodePrompt("12+34="),
            ByteTokenizer.encodePrompt("7="),
            ByteTokenizer.encodePrompt("hello world"),
            ByteTokenizer.encodePrompt(""));

    @Test
    void kvCacheGivesTheSameTokensAsFullRecompute() {
        SamplingParams params = SamplingParams.plain(5, 16);
        List<Completion> cached = sampler.sample(PROMPTS, params);
        List<Completion> recomputed = sampler.sampleWithoutCache(PROMPTS, params);
        for (int r = 0; r < PROMPTS.size(); r++) {
            assertArrayEquals(recomputed.get(r).tokenIds(), cached.get(r).tokenIds(), "row " + r);
            assertArrayEquals(recomputed.get(r).logprobs(), cached.get(r).logprobs(), 1e-4f, "row " + r);
        }
    }

    @Test
    void eachRowOfABatchEqualsThatPromptSampledAloneWithItsRowSeed() {
        SamplingParams params = new SamplingParams(0.8f, 0, 1f, 99, 12);
        List<Completion> batch = sampler.sample(PROMPTS, params);
        for (int r = 0; r < PROMPTS.size(); r++) {
            SamplingParams alone = new SamplingParams(0.8f, 0, 1f, params.rowSeed(r), 12);
            Completion single = sampler.sample(List.of(PROMPTS.get(r)), alone).get(0);
            assertArrayEquals(single.tokenIds(), batch.get(r).tokenIds(), "row " + r);
            assertArrayEquals(single.logprobs(), batch.get(r).logprobs(), 1e-4f, "row " + r);
        }
    }

    @Test
    void sameSeedSameTokensOtherSeedOtherTokens() {
        List<Completion> a = sampler.sample(PROMPTS, SamplingParams.plain(1, 10));
        List<Completion> b = sampler.sample(PROMPTS, SamplingParams.plain(1, 10));
        List<Completion> c = sampler.sample(PROMPTS, SamplingParams.plain(2, 10));
        assertEquals(a, b);
        assertNotEquals(a.get(0).text(), c.get(0).text());
    }

    @Test
    void rowsStopAtMaxTokensOrContextLength() {
        // prompt of 20 tokens leaves 4 positions in a context of 24
        int[] longPrompt = ByteTokenizer.encodePrompt("0123456789012345678");
        List<Completion> out = sampler.sample(List.of(PROMPTS.get(1), longPrompt),
                new SamplingParams(1f, 0, 1f, 3, 6));
        for (Completion c : out) {
            if (c.finishReason() == FinishReason.EOS) {
                assertEquals(ByteTokenizer.EOS, c.tokenIds()[c.length() - 1]);
            } else {
                assertEquals(FinishReason.MAX_TOKENS, c.finishReason());
            }
        }
        assertTrue(out.get(0).length() <= 6);
        assertTrue(out.get(1).length() <= 4, "context 24 - prompt 20, got " + out.get(1).length());
    }

    @Test
    void stopsAtEosAndKeepsIt() {
        // sample many rows at high temperature until some row ends in EOS (1/259 per token at uniform)
        int[] bos = {ByteTokenizer.BOS};
        List<int[]> prompts = java.util.Collections.nCopies(32, bos);
        List<Completion> out = sampler.sample(prompts, new SamplingParams(5f, 0, 1f, 17, 20));
        long eos = out.stream().filter(c -> c.finishReason() == FinishReason.EOS).count();
        assertTrue(eos > 0, "no row of 32 sampled EOS");
        for (Completion c : out) {
            int[] ids = c.tokenIds();
            for (int i = 0; i < ids.length - 1; i++) assertNotEquals(ByteTokenizer.EOS, ids[i], "EOS before the end");
            if (c.finishReason() == FinishReason.EOS) assertEquals(ByteTokenizer.EOS, ids[ids.length - 1]);
            else assertEquals(20, ids.length);
            assertEquals(ByteTokenizer.decode(ids), c.text());
        }
    }

    @Test
    void greedyPicksTheArgmaxWithLogprobZero() {
        Completion g = sampler.sample(List.of(PROMPTS.get(0)), SamplingParams.greedy(8)).get(0);
        for (float lp : g.logprobs()) assertEquals(0f, lp, 1e-6f);
        // at very low temperature ancestral sampling is greedy too
        Completion cold = sampler.sample(List.of(PROMPTS.get(0)), new SamplingParams(1e-4f, 0, 1f, 4, 8)).get(0);
        assertArrayEquals(g.tokenIds(), cold.tokenIds());
    }

    @Test
    void topPKeepsTheSmallestLikelySetAndRenormalises() {
        float[] logits = {(float) Math.log(0.5), (float) Math.log(0.3), (float) Math.log(0.15), (float) Math.log(0.05)};
        double[] p = TokenDistribution.probabilities(logits, 0, 4, new SamplingParams(1f, 0, 0.7f, 0, 1));
        assertArrayEquals(new double[] {0.5 / 0.8, 0.3 / 0.8, 0, 0}, p, 1e-6);   // 0.5 < 0.7 <= 0.8
        double[] k = TokenDistribution.probabilities(logits, 0, 4, new SamplingParams(1f, 3, 1f, 0, 1));
        assertArrayEquals(new double[] {0.5 / 0.95, 0.3 / 0.95, 0.15 / 0.95, 0}, k, 1e-6);
        double[] t = TokenDistribution.probabilities(logits, 0, 4, new SamplingParams(0.5f, 0, 1f, 0, 1));
        assertEquals(0.25 / (0.25 + 0.09 + 0.0225 + 0.0025), t[0], 1e-6, "T = 0.5 squares the probabilities");
    }

    @Test
    void inverseCdfMapsUniformsToTokens() {
        double[] p = {0.2, 0, 0.5, 0.3};
        assertEquals(0, TokenDistribution.inverseCdf(p, 0.0));
        assertEquals(2, TokenDistribution.inverseCdf(p, 0.2));
        assertEquals(3, TokenDistribution.inverseCdf(p, 0.75));
        assertEquals(3, TokenDistribution.inverseCdf(p, 0.9999999999));
    }

    @Test
    void topKAndTopPRestrictSampledTokens() {
        SamplingParams params = new SamplingParams(1f, 2, 1f, 8, 10);
        Completion c = sampler.sample(List.of(PROMPTS.get(2)), params).get(0);
        // untrained, the two most likely tokens are nearly tied, so after keeping only them each has
        // p ≈ 1/2; without top-k a token's p would be ≈ 1/259
        for (float lp : c.logprobs()) assertTrue(lp <= 0 && lp > Math.log(0.3), "top-2 log-prob " + lp);
        Completion p = sampler.sample(List.of(PROMPTS.get(2)), new SamplingParams(1f, 0, 0.001f, 8, 10)).get(0);
        for (float lp : p.logprobs()) assertEquals(0f, lp, 1e-6f, "top-p 0.001 < any p keeps only the most likely token");
    }

    @Test
    void samplingOnAFreshThreadRecordsNoGraphAndGivesTheSameTokens() throws Exception {
        List<Completion> here = sampler.sample(PROMPTS, SamplingParams.plain(3, 8));
        boolean[] gradModeBefore = new boolean[1], gradModeAfter = new boolean[1];
        List<List<Completion>> there = new java.util.ArrayList<>();
        Thread t = new Thread(() -> {
            gradModeBefore[0] = ai.djl.pytorch.jni.JniUtils.isGradMode();
            there.add(sampler.sample(PROMPTS, SamplingParams.plain(3, 8)));
            gradModeAfter[0] = ai.djl.pytorch.jni.JniUtils.isGradMode();
        });
        t.start();
        t.join(30_000);
        assertTrue(gradModeBefore[0], "libtorch starts a new thread in grad mode (the pitfall this guards against)");
        assertTrue(gradModeAfter[0], "the thread's own grad mode is restored");
        assertEquals(here, there.get(0));
    }

    @Test
    void rejectsPromptsThatLeaveNoRoom() {
        int[] full = new int[SMALL.contextLength()];
        var e = assertThrows(IllegalArgumentException.class, () -> sampler.sample(List.of(full), SamplingParams.plain(1, 4)));
        assertEquals("prompt 0 has 24 tokens; need 1 to 23 (contextLength 24)", e.getMessage());
    }

    @Test
    void paramsAreValidated() {
        assertThrows(IllegalArgumentException.class, () -> new SamplingParams(0f, 0, 1f, 0, 1));
        assertThrows(IllegalArgumentException.class, () -> new SamplingParams(1f, -1, 1f, 0, 1));
        assertThrows(IllegalArgumentException.class, () -> new SamplingParams(1f, 0, 0f, 0, 1));
        assertThrows(IllegalArgumentException.class, () -> new SamplingParams(1f, 0, 1f, 0, 0));
    }
}
