package dev.rlkafka.policy.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import dev.rlkafka.policy.sampling.Completion;
import dev.rlkafka.policy.sampling.Sampler;
import dev.rlkafka.policy.sampling.SamplingParams;
import dev.rlkafka.policy.tokenizer.ByteTokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A generator and a trainer run for days: sampling, log-probs and backward must not leak per step. */
class MemoryStaysFlatTest {

    static final ModelConfig TINY = new ModelConfig(259, 16, 32, 2, 4);
    static final int STEPS = 2000;

    @Test
    void sampleLogProbsBackwardForThousandsOfStepsLeaksNothing() throws IOException {
        Policy.setIntraOpThreads(1);   // tiny model: a second thread only adds sync cost, more so on a busy machine
        try (Policy policy = Policy.create(TINY, Device.cpu(), 1)) {
            Sampler sampler = new Sampler(policy);
            List<int[]> prompts = List.of(ByteTokenizer.encodePrompt("1+2="), ByteTokenizer.encodePrompt("33+4="));
            step(policy, sampler, prompts, 0);   // warm up: first gradients are allocated here
            int arraysBefore = policy.manager().getManagedArrays().size();
            long rssBefore = 0;
            for (int i = 1; i <= STEPS; i++) {
                step(policy, sampler, prompts, i);
                // RSS climbs for the first ~600 steps while the Java heap grows into its committed pages
                // (measured: 265 MB at step 200, 448 MB at 600, then 459..469 MB to step 2000), so the
                // baseline is taken half-way
                if (i == STEPS / 2) rssBefore = rssKb();
            }
            int arraysAfter = policy.manager().getManagedArrays().size();
            long rssAfter = rssKb();
            assertEquals(arraysBefore, arraysAfter, "NDArrays attached to the policy's manager");
            // the array count catches a leaked handle; RSS catches native memory libtorch keeps, e.g. one
            // step's activations and autograd graph (hundreds of kB a step, > 100 MB over 1000 steps)
            assertTrue(rssAfter - rssBefore < 32_000, "RSS grew from " + rssBefore + " kB to " + rssAfter + " kB");
        }
    }

    private static void step(Policy policy, Sampler sampler, List<int[]> prompts, long seed) {
        List<Completion> completions = sampler.sample(prompts, SamplingParams.plain(seed, 5));
        try (NDManager step = policy.manager().newSubManager()) {
            policy.zeroGradients();
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                LogProbs lp = LogProbs.compute(policy, step, prompts, completions.stream().map(Completion::tokenIds).toList());
                gc.backward(lp.logp().sum().neg());
            }
            for (var p : policy.parameters().values()) {
                try (NDArray grad = p.getArray().getGradient(); NDArray update = grad.mul(1e-3f)) {
                    p.getArray().subi(update);
                }
            }
        }
    }

    private static long rssKb() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) return Long.parseLong(line.replaceAll("\\D", ""));
        }
        throw new IllegalStateException("no VmRSS in /proc/self/status");
    }
}
