package dev.rlkafka.policy.sampling;

import java.util.Arrays;
import java.util.Comparator;
import java.util.stream.IntStream;

/** The next-token distribution actually sampled from: softmax(logits / T), then top-k, then top-p, renormalised. */
final class TokenDistribution {

    private TokenDistribution() {}

    /** Probabilities over the V logits at {@code logits[offset .. offset+v)}, in double. */
    static double[] probabilities(float[] logits, int offset, int v, SamplingParams params) {
        double[] p = new double[v];
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < v; i++) max = Math.max(max, logits[offset + i] / (double) params.temperature());
        double sum = 0;
        for (int i = 0; i < v; i++) {
            p[i] = Math.exp(logits[offset + i] / (double) params.temperature() - max);
            sum += p[i];
        }
        for (int i = 0; i < v; i++) p[i] /= sum;
        boolean topK = params.topK() > 0 && params.topK() < v;
        boolean topP = params.topP() < 1f;
        if (!topK && !topP) return p;

        // most likely first; ties keep the lower id first so the kept set is deterministic
        Integer[] order = IntStream.range(0, v).boxed().toArray(Integer[]::new);
        Arrays.sort(order, Comparator.comparingDouble((Integer i) -> -p[i]).thenComparingInt(i -> i));
        int keep = topK ? params.topK() : v;
        if (topP) {
            double mass = 0;
            int n = 0;
            while (n < keep) {
                mass += p[order[n++]];
                if (mass >= params.topP()) break;
            }
            keep = n;
        }
        double[] kept = new double[v];
        double keptMass = 0;
        for (int i = 0; i < keep; i++) keptMass += p[order[i]];
        for (int i = 0; i < keep; i++) kept[order[i]] = p[order[i]] / keptMass;
        return kept;
    }

    /** The first id whose cumulative probability exceeds u ∈ [0, 1); rounding slack goes to the last likely id. */
    static int inverseCdf(double[] p, double u) {
        double cumulative = 0;
        int lastPositive = -1;
        for (int i = 0; i < p.length; i++) {
            if (p[i] <= 0) continue;
            cumulative += p[i];
            lastPositive = i;
            if (u < cumulative) return i;
        }
        if (lastPositive < 0) throw new IllegalStateException("distribution has no positive probability: " + Arrays.toString(p));
        return lastPositive;
    }
}
