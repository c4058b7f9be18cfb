package dev.rlkafka.policy.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Linear;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * PPO's critic: V(s_i), the expected return from the state before each completion token, as a separate small
 * model — a copy of the SFT policy's transformer trunk with a scalar value head on its final hidden states.
 *
 * <p>Separate, not a value head on the policy's own trunk: the policy's parameters, the weight codec and the
 * {@code rl.policy-weights} records stay exactly what generators load, and the critic lives only in the
 * trainer and its checkpoint. It costs a second forward and backward per step; the trunk is the small
 * default model, and a shared trunk would let the value loss's gradients move the policy too (the
 * value-coefficient trade-off that PPO with a shared trunk has to tune). Starting from the SFT trunk, not
 * from random weights, gives the critic the policy's features of the prompt and answer from step one
 * (as InstructGPT initialises its value model from the reward model).
 */
public final class Critic implements AutoCloseable {

    public static final String HEAD_WEIGHT = "value.weight";
    public static final String HEAD_BIAS = "value.bias";

    private final Policy trunk;
    private final Parameter headWeight;   // (1, C)
    private final Parameter headBias;     // (1)
    private final Map<String, Parameter> parameters;

    private Critic(Policy trunk) {
        this.trunk = trunk;
        NDManager manager = trunk.manager();
        this.headWeight = headParameter(HEAD_WEIGHT, manager.zeros(new Shape(1, trunk.config().width())));
        this.headBias = headParameter(HEAD_BIAS, manager.zeros(new Shape(1)));
        Map<String, Parameter> all = new LinkedHashMap<>(trunk.parameters());
        all.put(HEAD_WEIGHT, headWeight);
        all.put(HEAD_BIAS, headBias);
        this.parameters = Collections.unmodifiableMap(all);
    }

    private static Parameter headParameter(String name, NDArray zeros) {
        Parameter p = Parameter.builder().setName(name).setType(Parameter.Type.WEIGHT).build();
        zeros.setRequiresGradient(true);
        p.setArray(zeros);
        return p;
    }

    /**
     * A critic on {@code policy}'s device whose trunk is a copy of {@code policy}'s weights and whose value head
     * is zero, so V ≡ 0 until it has been trained.
     */
    public static Critic initialisedFrom(Policy policy) {
        Policy trunk = Policy.create(policy.config(), policy.device(), 0);
        try {
            NoGrad.run(() -> policy.parameters().forEach((name, p) ->
                    p.getArray().copyTo(trunk.parameters().get(name).getArray())));
            return new Critic(trunk);
        } catch (RuntimeException e) {
            trunk.close();
            throw e;
        }
    }

    /**
     * V(s_i) for every completion token i of every row, from one forward; differentiable.
     *
     * @param step per-step sub-manager (see {@link LogProbs#compute})
     * @return (B, Tc) values, 0 past a row's end
     */
    public NDArray values(NDManager step, List<int[]> prompts, List<int[]> completions) {
        PaddedRows rows = PaddedRows.of(step, prompts, completions, trunk.config().contextLength());
        NDArray hidden = trunk.hidden(rows.inputs());                                            // (B, T, C)
        NDArray values = Linear.linear(hidden, headWeight.getArray(), headBias.getArray()).singletonOrThrow();   // (B, T, 1)
        return rows.atCompletion(values.squeeze(2));                                             // (B, Tc)
    }

    /** Trunk parameters under the policy's names, then {@value #HEAD_WEIGHT} and {@value #HEAD_BIAS}; fixed order. */
    public Map<String, Parameter> parameters() {
        return parameters;
    }

    /** The 2-D parameters (AdamW decays these): the trunk's matrices and embeddings and the head's weight. */
    public Set<String> weightMatrixNames() {
        Set<String> names = new LinkedHashSet<>(trunk.weightMatrixNames());
        names.add(HEAD_WEIGHT);
        return names;
    }

    public ModelConfig config() {
        return trunk.config();
    }

    /** Owns the critic's weights; make per-step work in {@code manager().newSubManager()}. */
    public NDManager manager() {
        return trunk.manager();
    }

    @Override
    public void close() {
        trunk.close();   // the head's arrays live in the trunk's manager
    }
}
