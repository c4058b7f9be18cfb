package dev.rlkafka.policy.train;

import dev.rlkafka.policy.weights.Tensor;

import java.util.List;
import java.util.Map;

/** One optimiser step per batch of scored groups: what the trainer and {@link RlLoop} need of GRPO, PPO and DPO alike. */
public interface RlUpdater extends AutoCloseable {

    /** Trains on {@code batch} (at least one group) and returns what the step did. */
    UpdateStats update(List<RlGroup> batch);

    /** Optimiser steps taken (also after a restore); drives the learning-rate schedule. */
    long stepCount();

    /**
     * Everything besides the policy's weights that a resumed run needs to take the identical next step: the
     * optimiser's moments and step count, and for PPO the critic's weights and optimiser, which are trained
     * here and published nowhere.
     */
    Map<String, Tensor> optimizerState();

    /** Restores an {@link #optimizerState()} of an updater of the same algorithm and model shape. */
    void loadOptimizerState(Map<String, Tensor> state);

    @Override
    void close();
}
