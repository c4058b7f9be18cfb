package dev.rlkafka.policy.train;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import dev.rlkafka.policy.loss.DpoConfig;
import dev.rlkafka.policy.loss.DpoLoss;
import dev.rlkafka.policy.loss.Kl;
import dev.rlkafka.policy.model.LogProbs;
import dev.rlkafka.policy.model.NoGrad;
import dev.rlkafka.policy.model.Policy;
import dev.rlkafka.policy.optim.AdamW;
import dev.rlkafka.policy.optim.AdamWConfig;
import dev.rlkafka.policy.weights.Tensor;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One online-DPO step: each group of the batch gives its best and worst rollout by reward as a preference pair
 * (groups whose rewards all tie give none), and the DPO loss against the frozen reference is minimised on the
 * pairs. A batch without a single pair takes no optimiser step.
 */
public final class DpoUpdater implements RlUpdater {

    /**
     * @param maxGradNorm global gradient-norm clip
     * @param decaySteps  0 = constant learning rate, else a cosine decay (see {@link UpdaterConfig#decaySteps()})
     */
    public record Config(DpoConfig loss, AdamWConfig optimizer, double maxGradNorm, int decaySteps) implements UpdaterConfig {
        public Config {
            UpdaterConfig.validate(optimizer, maxGradNorm, decaySteps);
            if (loss == null) throw new IllegalArgumentException("loss must be set");
        }

        @Override
        public Algorithm algorithm() {
            return Algorithm.DPO;
        }

        @Override
        public DpoUpdater newUpdater(Policy policy, Policy reference) {
            return new DpoUpdater(policy, reference, this);
        }
    }

    private final Policy policy;
    private final Policy reference;
    private final Config config;
    private final AdamW optimizer;

    /** @param reference the frozen SFT policy of the DPO loss; never updated here */
    public DpoUpdater(Policy policy, Policy reference, Config config) {
        OptimizerSteps.requireSameModel(policy, reference);
        this.policy = policy;
        this.reference = reference;
        this.config = config;
        this.optimizer = new AdamW(config.optimizer(), policy.parameters(), policy.weightMatrixNames()::contains);
    }

    @Override
    public UpdateStats update(List<RlGroup> groups) {
        if (groups.isEmpty()) throw new IllegalArgumentException("batch must not be empty");
        List<RlGroup.PreferencePair> pairs = groups.stream().map(RlGroup::preferencePair).flatMap(Optional::stream).toList();
        if (pairs.isEmpty()) {
            // nothing is preferred to anything: no loss, no step (the learning-rate schedule waits too)
            return new UpdateStats(Float.NaN, Float.NaN, 0, Double.NaN, 0, 0, Map.of("pairs", 0.0));
        }
        int p = pairs.size();
        // rows 0..P−1 the chosen completions, P..2P−1 the rejected ones: one forward for both
        List<int[]> prompts = new ArrayList<>(2 * p);
        List<int[]> completions = new ArrayList<>(2 * p);
        int tokens = 0;
        for (boolean chosen : new boolean[] {true, false}) {
            for (RlGroup.PreferencePair pair : pairs) {
                RlSample sample = chosen ? pair.chosen() : pair.rejected();
                prompts.add(sample.promptTokens());
                completions.add(sample.completionTokens());
                tokens += sample.completionTokens().length;
            }
        }

        DpoLoss.Result result;
        float loss, kl;
        try (NDManager step = policy.manager().newSubManager()) {
            LogProbs ref = NoGrad.call(() -> LogProbs.compute(reference, step, prompts, completions));
            NDArray refSequence = ref.logp().sum(new int[] {1});   // (2P): log π_ref(y|x), padding is 0
            try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                LogProbs current = LogProbs.compute(policy, step, prompts, completions);
                NDArray sequence = current.logp().sum(new int[] {1});   // (2P): log π_θ(y|x)
                result = DpoLoss.compute(sequence.get("0:" + p), sequence.get(p + ":"), refSequence.get("0:" + p),
                        refSequence.get(p + ":"), config.loss());
                collector.backward(result.loss());
                loss = result.loss().getFloat();
                kl = Kl.meanK3(current.logp().stopGradient(), ref.logp(), current.mask());
            }
        }
        double gradNorm = OptimizerSteps.clipAndStep(optimizer, policy.parameters(), config.maxGradNorm(),
                config.learningRate(optimizer.stepCount()));
        Map<String, Double> diagnostics = new LinkedHashMap<>();
        diagnostics.put("pairs", (double) p);
        diagnostics.put("dpo_margin", (double) result.meanMargin());
        diagnostics.put("dpo_accuracy", (double) result.accuracy());
        diagnostics.put("chosen_reward", (double) result.chosenReward());
        diagnostics.put("rejected_reward", (double) result.rejectedReward());
        return new UpdateStats(loss, kl, 0, gradNorm, 2 * p, tokens, diagnostics);
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
        OptimizerSteps.requireNoCritic(state, Algorithm.DPO);
        OptimizerSteps.load(optimizer, state, policy.manager());
    }

    @Override
    public void close() {
        optimizer.close();
    }
}
