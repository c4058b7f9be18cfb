package dev.rlkafka.cli;

import ai.djl.Device;
import dev.rlkafka.policy.model.Policy;
import dev.rlkafka.policy.sampling.SamplingParams;
import dev.rlkafka.policy.task.Task;
import dev.rlkafka.policy.train.Evaluator;
import dev.rlkafka.policy.weights.Checkpoint;
import dev.rlkafka.policy.weights.WeightCodec;

import java.io.IOException;
import java.nio.file.Path;

/** Held-out accuracy of policy weights the way the benches measure it: the demo's evaluation seed, one libtorch thread. */
final class HeldOut {
    static final SamplingParams SAMPLED = SamplingParams.plain(DemoRun.EVAL_SEED, DemoRun.MAX_TOKENS);
    static final SamplingParams GREEDY = SamplingParams.greedy(DemoRun.MAX_TOKENS);

    private HeldOut() {
    }

    static double accuracy(byte[] weights, Task task, Device device, int prompts, SamplingParams params) {
        try (Policy policy = WeightCodec.decode(weights, device)) {
            Policy.setIntraOpThreads(1);
            return Evaluator.evaluate(policy, task, prompts, DemoRun.EVAL_SEED, params).accuracy();
        }
    }

    /** The weights of a trainer checkpoint, read while the trainer runs (its step listener). */
    static byte[] weights(Path checkpoint) {
        try {
            return Checkpoint.read(checkpoint).weights();
        } catch (IOException e) {
            throw new IllegalStateException("cannot read trainer checkpoint " + checkpoint, e);
        }
    }
}
