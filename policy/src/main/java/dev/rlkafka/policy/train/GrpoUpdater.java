package dev.rlkafka.policy.train;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.rlkafka.policy.loss.GrpoConfig;
import dev.rlkafka.policy.loss.GrpoLoss;
import dev.rlkafka.policy.model.LogProbs;
import dev.rlkafka.policy.model.NoGrad;
import dev.rlkafka.policy.model.Policy;
import dev.rlkafka.policy.optim.AdamW;
import dev.rlkafka.policy.optim.AdamWConfig;
import dev.rlkafka.policy.optim.GradientClipping;
import dev.rlkafka.policy.weights.Tensor;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * One GRPO optimiser step on a batch of rollouts: the decoupled clipped objective against the
 * recorded behaviour log-probs, with a k3 KL penalty to the frozen reference (the SFT policy).
 *
 * <p>The proximal policy is the current policy before this step (Hilton et al. 2022): stale rollouts
 * are corrected by the capped behaviour weight π_prox/π_behav, fresh ones have weight 1.
 */
public final class GrpoUpdater implements AutoCloseable {

    /**
     * @param maxGradNorm global gradient-norm clip
     * @param decaySteps  0 keeps the learning rate constant; otherwise it follows a cosine from the optimiser's lr
     *                    down to 10 % of it at step {@code decaySteps}. Adam's steps keep their size however small
     *                    the advantages get, so without decay a nearly solved task keeps being shaken.
     */
    public record Config(GrpoConfig loss, AdamWConfig optimizer, double maxGradNorm, int decaySteps) {
        public static final Config DEFAULT = new Config(GrpoConfig.DEFAULT, AdamWConfig.DEFAULT.withLr(1e-4), 1.0);

        public Config {
            if (!(maxGradNorm > 0)) throw new IllegalArgumentException("maxGradNorm must be > 0, got " + maxGradNorm);
            if (decaySteps < 0) throw new IllegalArgumentException("decaySteps must be >= 0, got " + decaySteps);
        }

        /** A constant learning rate. */
        public Config(GrpoConfig loss, AdamWConfig optimizer, double maxGradNorm) {
            this(loss, optimizer, maxGradNorm, 0);
        }

        public Config withDecaySteps(int decaySteps) {
            return new Config(loss, optimizer, maxGradNorm, decaySteps);
        }

        /** Learning rate of optimiser step {@code step} (0-based). */
        public double learningRate(long step) {
            if (decaySteps == 0) return optimizer.lr();
            double progress = Math.min(1.0, (double) step / decaySteps);
            return optimizer.lr() * (0.1 + 0.9 * 0.5 * (1 + Math.cos(Math.PI * progress)));
        }
    }

    /** What one step did; scalars copied out of the step's arrays. */
    public record Stats(float loss, float kl, float clipFraction, float meanRatio, float meanBehaviourWeight,
                        double gradNorm, int rollouts, int tokens) {
    }

    private final Policy policy;
    private final Policy reference;
    private final Config config;
    private final AdamW optimizer;

    /** @param reference the frozen SFT policy; never updated here */
    public GrpoUpdater(Policy policy, Policy reference, Config config) {
        if (!policy.config().equals(reference.config())) {
            throw new IllegalArgumentException("reference config " + reference.config()
                    + " differs from policy config " + policy.config());
        }
        this.policy = policy;
        this.reference = reference;
        this.config = config;
        this.optimizer = new AdamW(config.optimizer(), policy.parameters(), policy.weightMatrixNames()::contains);
    }

    public Stats update(List<RlSample> batch) {
        if (batch.isEmpty()) throw new IllegalArgumentException("batch must not be empty");
        List<int[]> prompts = new ArrayList<>(batch.size());
        List<int[]> completions = new ArrayList<>(batch.size());
        int tc = 0, tokens = 0;
        for (RlSample sample : batch) {
            prompts.add(sample.promptTokens());
            completions.add(sample.completionTokens());
            tc = Math.max(tc, sample.completionTokens().length);
            tokens += sample.completionTokens().length;
        }
        float[] behaviour = new float[batch.size() * tc];   // (B, Tc), 0 past a row's end (masked)
        double[] advantages = new double[batch.size()];
        for (int b = 0; b < batch.size(); b++) {
            float[] row = batch.get(b).behaviourLogprobs();
            System.arraycopy(row, 0, behaviour, b * tc, row.length);
            advantages[b] = batch.get(b).advantage();
        }

        GrpoLoss.Result result;
        float loss;
        try (NDManager step = policy.manager().newSubManager()) {
            // no graph for the two detached forwards: they only feed the loss as constants
            NDArray refLogp = NoGrad.call(() -> LogProbs.compute(reference, step, prompts, completions).logp());
            NDArray proximalLogp = NoGrad.call(() -> LogProbs.compute(policy, step, prompts, completions).logp());
            NDArray behaviourLogp = step.create(behaviour, new Shape(batch.size(), tc));
            NDArray advantageArray = step.create(advantages);
            try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                LogProbs current = LogProbs.compute(policy, step, prompts, completions);
                result = GrpoLoss.compute(current.logp(), proximalLogp, behaviourLogp, refLogp, advantageArray,
                        current.mask(), config.loss());
                collector.backward(result.loss());
                loss = result.loss().getFloat();
            }
        }
        double gradNorm = GradientClipping.clipGlobalNorm(policy.parameters().values(), config.maxGradNorm());
        if (Double.isFinite(gradNorm)) {
            // the step count comes back with the optimiser state, so a resumed run keeps its schedule
            optimizer.step(config.learningRate(optimizer.stepCount()));
        }
        optimizer.zeroGradients();
        return new Stats(loss, result.meanKl(), result.clipFraction(), result.meanRatio(),
                result.meanBehaviourWeight(), gradNorm, batch.size(), tokens);
    }

    /** Optimiser steps taken (also after a restore). */
    public long stepCount() {
        return optimizer.stepCount();
    }

    /** The optimiser's moments and step, for a checkpoint. */
    public Map<String, Tensor> optimizerState() {
        try (NDManager scratch = policy.manager().newSubManager()) {
            Map<String, Tensor> state = new java.util.LinkedHashMap<>();
            // the step counter is an int64 scalar; checkpoints hold float32 (exact for steps below 2^24)
            optimizer.state(scratch).forEach((name, array) ->
                    state.put(name, Tensor.of(array.toType(ai.djl.ndarray.types.DataType.FLOAT32, false))));
            return state;
        }
    }

    public void loadOptimizerState(Map<String, Tensor> state) {
        try (NDManager scratch = policy.manager().newSubManager()) {
            Map<String, NDArray> arrays = new java.util.LinkedHashMap<>();
            state.forEach((name, tensor) -> {
                NDArray array = tensor.toNDArray(scratch);
                arrays.put(name, array.getShape().isScalar() ? array.toType(ai.djl.ndarray.types.DataType.INT64, false) : array);
            });
            optimizer.loadState(arrays);
        }
    }

    @Override
    public void close() {
        optimizer.close();
    }
}
