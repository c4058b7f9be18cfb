package dev.rlkafka.policy.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.rlkafka.policy.sampling.Completion;
import dev.rlkafka.policy.sampling.Sampler;
import dev.rlkafka.policy.sampling.SamplingParams;
import dev.rlkafka.policy.tokenizer.ByteTokenizer;
import java.util.List;
import org.junit.jupiter.api.Test;

class LogProbsTest {

    static final ModelConfig SMALL = new ModelConfig(259, 24, 32, 2, 4);

    @Test
    void trainingLogProbsMatchTheSamplersBehaviourLogProbs() {
        try (Policy policy = Policy.create(SMALL, Device.cpu(), 21); NDManager step = policy.manager().newSubManager()) {
            List<int[]> prompts = List.of(ByteTokenizer.encodePrompt("3+4="), ByteTokenizer.encodePrompt("10+20="),
                    ByteTokenizer.encodePrompt(""));
            List<Completion> completions = new Sampler(policy).sample(prompts, SamplingParams.plain(9, 12));
            LogProbs lp = LogProbs.compute(policy, step, prompts, completions.stream().map(Completion::tokenIds).toList());
            int tc = completions.stream().mapToInt(Completion::length).max().orElseThrow();
            assertEquals(new Shape(3, tc), lp.logp().getShape());
            float[] logp = lp.logp().toFloatArray(), mask = lp.mask().toFloatArray();
            for (int r = 0; r < 3; r++) {
                float[] behaviour = completions.get(r).logprobs();
                for (int i = 0; i < tc; i++) {
                    if (i < behaviour.length) {
                        assertEquals(behaviour[i], logp[r * tc + i], 1e-4f, "row " + r + " token " + i);
                        assertEquals(1f, mask[r * tc + i]);
                    } else {
                        assertEquals(0f, mask[r * tc + i]);
                        assertEquals(0f, logp[r * tc + i]);
                    }
                }
            }
        }
    }

    @Test
    void handComputedLogProbOfOneToken() {
        // log π(c | p) is log_softmax of the logits at the last prompt position, read at c
        try (Policy policy = Policy.create(SMALL, Device.cpu(), 2); NDManager step = policy.manager().newSubManager()) {
            int[] prompt = {ByteTokenizer.BOS, '5'};
            NDArray logits = policy.logits(step.create(new long[] {ByteTokenizer.BOS, '5'}, new Shape(1, 2)));
            float[] last = logits.get("0, 1, :").toFloatArray();
            double max = Double.NEGATIVE_INFINITY, sum = 0;
            for (float x : last) max = Math.max(max, x);
            for (float x : last) sum += Math.exp(x - max);
            double expected = last['7'] - max - Math.log(sum);
            LogProbs lp = LogProbs.compute(policy, step, List.of(prompt), List.of(new int[] {'7'}));
            assertEquals(expected, lp.logp().getFloat(0, 0), 1e-5);
        }
    }

    @Test
    void gradientOfTheNllRaisesTheTargetsLogProb() {
        try (Policy policy = Policy.create(SMALL, Device.cpu(), 4)) {
            List<int[]> prompts = List.of(ByteTokenizer.encodePrompt("2+2="));
            List<int[]> targets = List.of(new int[] {'4', ByteTokenizer.EOS});
            float before, after;
            try (NDManager step = policy.manager().newSubManager()) {
                try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    LogProbs lp = LogProbs.compute(policy, step, prompts, targets);
                    before = lp.logp().sum().getFloat();
                    gc.backward(lp.logp().mul(lp.mask()).sum().neg());   // L = −Σ_t log π(y_t | ...)
                }
                for (var p : policy.parameters().values()) {
                    try (NDArray grad = p.getArray().getGradient()) {
                        p.getArray().subi(grad.mul(0.05f));   // one plain SGD step
                    }
                }
            }
            try (NDManager step = policy.manager().newSubManager()) {
                after = LogProbs.compute(policy, step, prompts, targets).logp().sum().getFloat();
            }
            assertTrue(after > before + 0.01f, "log-prob of the target went from " + before + " to " + after);
        }
    }

    @Test
    void rejectsSequencesLongerThanTheContext() {
        try (Policy policy = Policy.create(SMALL, Device.cpu(), 2); NDManager step = policy.manager().newSubManager()) {
            var e = assertThrows(IllegalArgumentException.class, () -> LogProbs.compute(policy, step,
                    List.of(new int[20]), List.of(new int[5])));
            assertEquals("row 0: prompt + completion is 25 tokens, more than contextLength 24", e.getMessage());
        }
    }
}
