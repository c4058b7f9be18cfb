package dev.rlkafka.policy.train;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import dev.rlkafka.policy.loss.Gae;
import dev.rlkafka.policy.loss.Kl;
import dev.rlkafka.policy.loss.PpoConfig;
import dev.rlkafka.policy.loss.PpoLoss;
import dev.rlkafka.policy.model.Critic;
import dev.rlkafka.policy.model.LogProbs;
import dev.rlkafka.policy.model.NoGrad;
import dev.rlkafka.policy.model.Policy;
import dev.rlkafka.policy.optim.AdamW;
import dev.rlkafka.policy.optim.AdamWConfig;
import dev.rlkafka.policy.weights.Tensor;

import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One PPO step on a batch of rollouts, in the RLHF form (Ziegler et al. 2019; Ouyang et al. 2022): per-token
 * rewards {@code −β·kl_t} plus the rollout's reward on its last token, GAE advantages from the {@link Critic},
 * the clipped policy loss with ratios against the recorded behaviour log-probs (decoupled as in GRPO), and the
 * clipped value loss for the critic. Policy and critic each have their own AdamW.
 *
 * <p>One optimiser step per batch, as GRPO's here: the proximal policy π_prox and the old values V_old are this
 * step's own forwards, detached, so neither costs a forward of its own.
 */
public final class PpoUpdater implements RlUpdater {

    static final String CRITIC_WEIGHTS = OptimizerSteps.CRITIC_PREFIX + "weights.";
    static final String CRITIC_OPTIMIZER = OptimizerSteps.CRITIC_PREFIX + "optim.";

    /**
     * @param criticOptimizer the critic's AdamW; it follows the policy's decay schedule
     * @param maxGradNorm     global gradient-norm clip, of each model
     * @param decaySteps      0 = constant learning rates, else a cosine decay (see {@link UpdaterConfig#decaySteps()})
     */
    public record Config(PpoConfig loss, AdamWConfig optimizer, AdamWConfig criticOptimizer, double maxGradNorm, int decaySteps)
            implements UpdaterConfig {
        /**
         * The critic's learning rate as a multiple of the policy's. A value head that starts at zero has to reach
         * rewards of order 1 quickly to be a baseline at all, while the policy must move slowly.
         */
        public static final double DEFAULT_CRITIC_LR_FACTOR = 3.0;

        public Config {
            UpdaterConfig.validate(optimizer, maxGradNorm, decaySteps);
            if (loss == null) throw new IllegalArgumentException("loss must be set");
            if (criticOptimizer == null) throw new IllegalArgumentException("criticOptimizer must be set");
        }

        @Override
        public Algorithm algorithm() {
            return Algorithm.PPO;
        }

        /** The critic starts as a copy of {@code reference}, the SFT policy, with a zero value head. */
        @Override
        public PpoUpdater newUpdater(Policy policy, Policy reference) {
            return new PpoUpdater(policy, reference, this);
        }
    }

    private final Policy policy;
    private final Policy reference;
    private final Critic critic;
    private final Config config;
    private final AdamW optimizer;
    private final AdamW criticOptimizer;

    /** @param reference the frozen SFT policy: the KL reference and the critic's starting trunk; never updated here */
    public PpoUpdater(Policy policy, Policy reference, Config config) {
        OptimizerSteps.requireSameModel(policy, reference);
        this.policy = policy;
        this.reference = reference;
        this.config = config;
        this.optimizer = new AdamW(config.optimizer(), policy.parameters(), policy.weightMatrixNames()::contains);
        Critic critic = Critic.initialisedFrom(reference);
        try {
            this.criticOptimizer = new AdamW(config.criticOptimizer(), critic.parameters(), critic.weightMatrixNames()::contains);
        } catch (RuntimeException e) {
            optimizer.close();
            critic.close();
            throw e;
        }
        this.critic = critic;
    }

    /** Per-token advantages and value targets of a batch, (B, Tc) row-major, 0 past a row's end. */
    private record Targets(float[] advantages, float[] returns, double explainedVariance) {
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
        Shape shape = new Shape(batch.size(), tc);
        float[] behaviour = new float[batch.size() * tc];   // (B, Tc), 0 past a row's end (masked)
        for (int b = 0; b < batch.size(); b++) {
            float[] row = batch.get(b).behaviourLogprobs();
            System.arraycopy(row, 0, behaviour, b * tc, row.length);
        }

        PpoLoss.PolicyResult policyResult;
        PpoLoss.ValueResult valueResult;
        Targets targets;
        float loss, valueLoss, kl;
        try (NDManager step = policy.manager().newSubManager()) {
            NDArray refLogp = NoGrad.call(() -> LogProbs.compute(reference, step, prompts, completions).logp());
            NDArray behaviourLogp = step.create(behaviour, shape);
            try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                LogProbs.WithEntropy current = LogProbs.computeWithEntropy(policy, step, prompts, completions);
                NDArray logp = current.logProbs().logp(), mask = current.logProbs().mask();
                NDArray values = critic.values(step, prompts, completions);
                NDArray proximalLogp = logp.stopGradient();
                NDArray oldValues = values.stopGradient();
                targets = targets(batch, tc, behaviour, refLogp.toFloatArray(), oldValues.toFloatArray());

                policyResult = PpoLoss.policy(logp, proximalLogp, behaviourLogp, step.create(targets.advantages(), shape),
                        current.entropy(), mask, config.loss());
                valueResult = PpoLoss.value(values, oldValues, step.create(targets.returns(), shape), mask, config.loss());
                // the two losses touch disjoint parameters, so one backward gives each model its own loss's gradient
                collector.backward(policyResult.loss().add(valueResult.loss()));
                loss = policyResult.loss().getFloat();
                valueLoss = valueResult.loss().getFloat();
                kl = Kl.meanK3(proximalLogp, refLogp, mask);
            }
        }
        double gradNorm = OptimizerSteps.clipAndStep(optimizer, policy.parameters(), config.maxGradNorm(),
                config.learningRate(optimizer.stepCount()));
        double criticGradNorm = OptimizerSteps.clipAndStep(criticOptimizer, critic.parameters(), config.maxGradNorm(),
                UpdaterConfig.decayed(config.criticOptimizer().lr(), config.decaySteps(), criticOptimizer.stepCount()));

        Map<String, Double> diagnostics = new LinkedHashMap<>();
        diagnostics.put("value_loss", (double) valueLoss);
        diagnostics.put("value_mean", (double) valueResult.meanValue());
        diagnostics.put("explained_variance", targets.explainedVariance());
        diagnostics.put("entropy", (double) policyResult.meanEntropy());
        diagnostics.put("critic_grad_norm", criticGradNorm);
        return new UpdateStats(loss, kl, policyResult.clipFraction(), gradNorm, batch.size(), tokens, diagnostics);
    }

    /** GAE per rollout over the shaped rewards, then (optionally) whitened over the batch. */
    private Targets targets(List<RlSample> batch, int tc, float[] behaviour, float[] refLogp, float[] oldValues) {
        PpoConfig c = config.loss();
        double[][] advantages = new double[batch.size()][];
        double[][] returns = new double[batch.size()][];
        double[][] values = new double[batch.size()][];
        for (int b = 0; b < batch.size(); b++) {
            int n = batch.get(b).completionTokens().length;
            double[] kl = new double[n];
            values[b] = new double[n];
            for (int t = 0; t < n; t++) {
                kl[t] = behaviour[b * tc + t] - refLogp[b * tc + t];   // k1 at the sampled token, as in the classic shaping
                values[b][t] = oldValues[b * tc + t];
            }
            Gae.Result gae = Gae.compute(Gae.shapedRewards(batch.get(b).reward(), kl, c.beta()), values[b], c.gamma(), c.lambda());
            advantages[b] = gae.advantages();
            returns[b] = gae.returns();
        }
        double[][] used = c.whitenAdvantages() ? Gae.whitened(advantages) : advantages;
        return new Targets(flatten(used, tc), flatten(returns, tc), explainedVariance(returns, values));
    }

    private static float[] flatten(double[][] rows, int tc) {
        float[] out = new float[rows.length * tc];
        for (int b = 0; b < rows.length; b++) for (int t = 0; t < rows[b].length; t++) out[b * tc + t] = (float) rows[b][t];
        return out;
    }

    /** 1 − Var(R − V)/Var(R) over every token: 1 is a perfect critic, ≤ 0 one no better than a constant. */
    static double explainedVariance(double[][] returns, double[][] values) {
        double[] r = Arrays.stream(returns).flatMapToDouble(Arrays::stream).toArray();
        double[] v = Arrays.stream(values).flatMapToDouble(Arrays::stream).toArray();
        double[] residual = new double[r.length];
        for (int i = 0; i < r.length; i++) residual[i] = r[i] - v[i];
        double varianceOfReturns = variance(r);
        return varianceOfReturns == 0 ? Double.NaN : 1 - variance(residual) / varianceOfReturns;
    }

    private static double variance(double[] x) {
        double mean = Arrays.stream(x).average().orElse(0), sum = 0;
        for (double value : x) sum += (value - mean) * (value - mean);
        return sum / Math.max(1, x.length);
    }

    @Override
    public long stepCount() {
        return optimizer.stepCount();
    }

    /** The policy's optimiser under its own keys; the critic's weights and optimiser under {@code critic.*}. */
    @Override
    public Map<String, Tensor> optimizerState() {
        Map<String, Tensor> state = new LinkedHashMap<>(OptimizerSteps.state(optimizer, policy.manager(), ""));
        critic.parameters().forEach((name, p) -> state.put(CRITIC_WEIGHTS + name, Tensor.of(p.getArray())));
        state.putAll(OptimizerSteps.state(criticOptimizer, critic.manager(), CRITIC_OPTIMIZER));
        return state;
    }

    @Override
    public void loadOptimizerState(Map<String, Tensor> state) {
        Map<String, Tensor> weights = OptimizerSteps.withPrefix(state, CRITIC_WEIGHTS);
        if (weights.isEmpty()) {
            throw new IllegalArgumentException("the optimiser state holds no PPO critic (no " + CRITIC_WEIGHTS
                    + "* keys), so it was written by a grpo or dpo run; it cannot resume as ppo");
        }
        Map<String, Parameter> parameters = critic.parameters();
        if (!weights.keySet().equals(parameters.keySet())) {
            throw new IllegalArgumentException("critic weights in the state " + weights.keySet() + " do not match the critic's "
                    + parameters.keySet());
        }
        parameters.forEach((name, p) -> {
            Shape expected = p.getArray().getShape(), got = new Shape(weights.get(name).shape());
            if (!expected.equals(got)) {
                throw new IllegalArgumentException("critic weight " + name + " has shape " + got + " in the state, expected " + expected);
            }
        });
        Map<String, Tensor> policyState = new LinkedHashMap<>(state);
        policyState.keySet().removeIf(k -> k.startsWith(OptimizerSteps.CRITIC_PREFIX));
        OptimizerSteps.load(optimizer, policyState, policy.manager());
        OptimizerSteps.load(criticOptimizer, OptimizerSteps.withPrefix(state, CRITIC_OPTIMIZER), critic.manager());
        NoGrad.run(() -> parameters.forEach((name, p) -> p.getArray().set(FloatBuffer.wrap(weights.get(name).data()))));
    }

    @Override
    public void close() {
        optimizer.close();
        criticOptimizer.close();
        critic.close();
    }
}
