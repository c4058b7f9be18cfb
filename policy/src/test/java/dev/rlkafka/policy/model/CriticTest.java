package dev.rlkafka.policy.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.rlkafka.policy.tokenizer.ByteTokenizer;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CriticTest {

    private static final ModelConfig TINY = new ModelConfig(ByteTokenizer.VOCAB_SIZE, 16, 32, 1, 2);

    @Test
    void startsAsACopyOfThePolicyTrunkWithZeroValues() {
        Engine.getInstance();
        try (Policy policy = Policy.create(TINY, Device.cpu(), 3); Critic critic = Critic.initialisedFrom(policy);
             NDManager step = critic.manager().newSubManager()) {
            Map<String, float[]> weights = policy.weightsSnapshot();
            policy.parameters().keySet().forEach(name ->
                    assertArrayEquals(weights.get(name), critic.parameters().get(name).getArray().toFloatArray(), 0f, name));
            assertEquals(List.of(Critic.HEAD_WEIGHT, Critic.HEAD_BIAS),
                    critic.parameters().keySet().stream().skip(policy.parameters().size()).toList(), "the head comes last");

            NDArray values = critic.values(step, List.of(ByteTokenizer.encodePrompt("1+2="), ByteTokenizer.encodePrompt("10+20=")),
                    List.of(new int[] {'3', ByteTokenizer.EOS}, new int[] {'3', '0', ByteTokenizer.EOS}));
            assertEquals(new Shape(2, 3), values.getShape(), "(B, longest completion)");
            assertArrayEquals(new float[6], values.toFloatArray(), 0f, "a zero head gives V = 0");
        }
    }

    @Test
    void valuesAreTheHeadOnTheHiddenStateBeforeEachCompletionTokenAndTrainable() {
        Engine.getInstance();
        try (Policy policy = Policy.create(TINY, Device.cpu(), 4); Critic critic = Critic.initialisedFrom(policy);
             NDManager step = critic.manager().newSubManager()) {
            critic.parameters().get(Critic.HEAD_BIAS).getArray().set(new float[] {0.5f});
            critic.parameters().get(Critic.HEAD_WEIGHT).getArray().set(new float[32]);
            int[] prompt = ByteTokenizer.encodePrompt("7+1=");
            NDArray values = critic.values(step, List.of(prompt, prompt), List.of(new int[] {'8'}, new int[] {'8', ByteTokenizer.EOS}));
            assertArrayEquals(new float[] {0.5f, 0f, 0.5f, 0.5f}, values.toFloatArray(), 1e-7f, "bias only; 0 past a row's end");

            // with a random head, V(s_i) reads the hidden state where the policy's logits for token i are read
            float[] head = new float[32];
            for (int i = 0; i < head.length; i++) head[i] = (i % 5) * 0.1f - 0.2f;
            critic.parameters().get(Critic.HEAD_WEIGHT).getArray().set(head);
            float[] v = critic.values(step, List.of(prompt), List.of(new int[] {'8', ByteTokenizer.EOS})).toFloatArray();
            NDArray hidden = policy.hidden(step.create(new long[] {prompt[0], prompt[1], prompt[2], prompt[3], prompt[4], '8'}, new Shape(1, 6)));
            float[] expected = new float[2];
            for (int i = 0; i < 2; i++) {
                float[] h = hidden.get(0, prompt.length - 1 + i).toFloatArray();
                double dot = 0.5;
                for (int c = 0; c < h.length; c++) dot += h[c] * head[c];
                expected[i] = (float) dot;
            }
            assertArrayEquals(expected, v, 1e-5f);

            NDArray bias = critic.parameters().get(Critic.HEAD_BIAS).getArray();
            try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                collector.backward(critic.values(step, List.of(prompt), List.of(new int[] {'8'})).sum());
            }
            assertEquals(1f, bias.getGradient().getFloat(), 1e-6f, "dV/dbias = 1 for the one token");
            assertTrue(critic.weightMatrixNames().contains(Critic.HEAD_WEIGHT) && !critic.weightMatrixNames().contains(Critic.HEAD_BIAS));
        }
    }
}
