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
public final class GrpoUpdater implements RlUpdater {

    /**
     * @param maxGradNorm global gradient-norm clip
     * @param decaySteps  0 = constant learning rate, else a cosine decay (see {@link UpdaterConfig#decaySteps()})
     */
    public record Config(GrpoConfig loss, AdamWConfig optimizer, double maxGradNorm, int decaySteps) implements UpdaterConfig {
        public static final Config DEFAULT = new Config(GrpoConfig.DEFAULT, AdamWConfig.DEFAULT.withLr(1e-4), 1.0);

        public Config {
            UpdaterConfig.validate(optimizer, maxGradNorm, decaySteps);
            if (loss == null) throw new IllegalArgumentException("loss must be set");
        }

        /** A constant learning rate. */
        public Config(GrpoConfig loss, AdamWConfig optimizer, double maxGradNorm) {
            this(loss, optimizer, maxGradNorm, 0);
        }

        public Config withDecaySteps(int decaySteps) {
            return new Config(loss, optimizer, maxGradNorm, decaySteps);
        }

        @Override
        public Algorithm algorithm() {
            return Algorithm.GRPO;
        }

        @Override
        public GrpoUpdater newUpdater(Policy policy, Policy reference) {
            return new GrpoUpdater(policy, reference, this);
        }
    }

    private final Policy policy;
    private final Policy reference;
    private final Config config;
    private final AdamW optimizer;

    /** @param reference the frozen SFT policy; never updated here */
    public GrpoUpdater(Policy policy, Policy reference, Config config) {
        OptimizerSteps.requireSameModel(policy, reference);
        this.policy = policy;
        this.reference = reference;
        this.config = config;
        this.optimizer = new AdamW(config.optimizer(), policy.parameters(), policy.weightMatrixNames()::contains);
    }

    @Override
    public UpdateStats update(List<RlGroup> groups) {
        List<RlSample> batch = RlGroup.rollouts(groups);
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
            // no graph for the reference's forward: it only feeds the loss as a constant
            NDArray refLogp = NoGrad.call(() -> LogProbs.compute(reference, step, prompts, completions).logp());
            NDArray behaviourLogp = step.create(behaviour, new Shape(batch.size(), tc));
            NDArray advantageArray = step.create(advantages);
            try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                LogProbs current = LogProbs.compute(policy, step, prompts, completions);
                // one optimiser step per batch, so π_prox (this policy before the step) is π_θ itself, detached:
                // a second forward pass for it would compute the same numbers
                NDArray proximalLogp = current.logp().stopGradient();
                result = GrpoLoss.compute(current.logp(), proximalLogp, behaviourLogp, refLogp, advantageArray,
                        current.mask(), config.loss());
                collector.backward(result.loss());
                loss = result.loss().getFloat();
            }
        }
        // the step count comes back with the optimiser state, so a resumed run keeps its schedule
        double gradNorm = OptimizerSteps.clipAndStep(optimizer, policy.parameters(), config.maxGradNorm(),
                config.learningRate(optimizer.stepCount()));
        return new UpdateStats(loss, result.meanKl(), result.clipFraction(), gradNorm, batch.size(), tokens,
                Map.of("ratio_mean", (double) result.meanRatio(), "behaviour_weight_mean", (double) result.meanBehaviourWeight()));
    }

    @Override
    public long stepCount() {
        return optimizer.stepCount();
    }

    @Override
    public Map<String, Tensor> optimizerState() {
        return OptimizerSteps.state(optimizer, policy.manager(), "");
    }

    @Override
    public void loadOptimizerState(Map<String, Tensor> state) {
        OptimizerSteps.requireNoCritic(state, Algorithm.GRPO);
        OptimizerSteps.load(optimizer, state, policy.manager());
    }

    @Override
    public void close() {
        optimizer.close();
    }
}
