package dev.rlkafka.policy.optim;

import dev.rlkafka.policy.model.NoGrad;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Predicate;

/**
 * Adam with decoupled weight decay (Loshchilov &amp; Hutter 2019), updating DJL parameters in place.
 *
 * <p>Call {@link #step()} after the {@code GradientCollector} has closed (grad mode off, so in-place updates
 * are not recorded), then {@link #zeroGradients()}: DJL's PyTorch engine accumulates gradients across
 * backward passes like PyTorch does. The moments live in a sub-manager of the first parameter's manager;
 * {@link #close()} frees them.
 */
public final class AdamW implements AutoCloseable {

    static final String STEP = "step";

    private final AdamWConfig config;
    private final Map<String, Parameter> params;
    private final Set<String> decayed;
    private final NDManager manager;
    private final Map<String, NDArray> m = new HashMap<>();
    private final Map<String, NDArray> v = new HashMap<>();
    private long stepCount;

    /** Decays weight matrices only (arrays with ≥ 2 dims), not biases, norm gains or other vectors. */
    public AdamW(AdamWConfig config, Map<String, Parameter> params) {
        this(config, params, name -> params.get(name).getArray().getShape().dimension() >= 2);
    }

    /**
     * @param params parameters by name; their arrays must be initialised
     * @param decay  which parameter names get weight decay; decaying a LayerNorm gain or a bias pulls it to 0
     *               and buys no regularisation, hence not "all"
     */
    public AdamW(AdamWConfig config, Map<String, Parameter> params, Predicate<String> decay) {
        if (params.isEmpty()) throw new IllegalArgumentException("params must not be empty");
        this.config = config;
        this.params = Collections.unmodifiableMap(new LinkedHashMap<>(params));
        Set<String> decayed = new TreeSet<>();
        NDManager manager = null;
        for (Map.Entry<String, Parameter> e : this.params.entrySet()) {
            if (!e.getValue().isInitialized()) throw new IllegalArgumentException("parameter " + e.getKey() + " has no array");
            NDArray theta = e.getValue().getArray();
            if (manager == null) manager = NDManager.subManagerOf(theta);
            if (decay.test(e.getKey())) decayed.add(e.getKey());
            m.put(e.getKey(), zerosLike(theta, manager));
            v.put(e.getKey(), zerosLike(theta, manager));
        }
        this.decayed = Collections.unmodifiableSet(decayed);
        this.manager = manager;
    }

    private static NDArray zerosLike(NDArray theta, NDManager manager) {
        return manager.zeros(theta.getShape(), theta.getDataType(), theta.getDevice());
    }

    /** One update at the configured learning rate. */
    public void step() {
        step(config.lr());
    }

    /**
     * One update at learning rate {@code lr} (for warm-up or decay schedules). Parameters whose arrays do not
     * require a gradient are frozen and skipped; their moments stay put.
     */
    public void step(double lr) {
        // in-place updates of leaves that require grad are refused while autograd records (any non-engine thread)
        NoGrad.run(() -> update(lr));
    }

    private void update(double lr) {
        AdamWConfig.checkLr(lr, config.weightDecay());
        stepCount++;
        double beta1 = config.beta1(), beta2 = config.beta2(), eps = config.eps();
        double bias1 = 1 - Math.pow(beta1, stepCount), bias2 = 1 - Math.pow(beta2, stepCount);
        for (Map.Entry<String, Parameter> e : params.entrySet()) {
            NDArray theta = e.getValue().getArray();
            if (!theta.hasGradient()) continue;
            NDArray m = this.m.get(e.getKey()), v = this.v.get(e.getKey());
            // every temporary, the gradient wrapper included, lands in and dies with the scratch manager;
            // theta, m and v go back to their own managers when it closes
            try (NDManager scratch = manager.newSubManager()) {
                scratch.tempAttachAll(theta, m, v);
                NDArray g = theta.getGradient();
                m.muli(beta1).addi(g.mul(1 - beta1));                       // m ← β1·m + (1−β1)·g
                v.muli(beta2).addi(g.square().mul(1 - beta2));              // v ← β2·v + (1−β2)·g²
                if (decayed.contains(e.getKey())) {
                    theta.muli(1 - lr * config.weightDecay());             // θ ← θ − lr·λ·θ, outside m and v
                }
                theta.subi(m.div(bias1).div(v.div(bias2).sqrt().add(eps)).mul(lr));   // θ ← θ − lr·m̂/(√v̂ + ε)
            }
        }
    }

    /** Sets every parameter's gradient to zero in place, ready for the next backward pass. */
    public void zeroGradients() {
        for (Parameter param : params.values()) {
            NDArray theta = param.getArray();
            if (!theta.hasGradient()) continue;
            try (NDArray g = theta.getGradient()) {
                g.subi(g);   // in place on the gradient tensor itself; the wrapper is ours to close
            }
        }
    }

    /** Updates taken so far; bias correction depends on it, so it is part of {@link #state}. */
    public long stepCount() {
        return stepCount;
    }

    /** Names of the parameters that get weight decay. */
    public Set<String> decayed() {
        return decayed;
    }

    /**
     * Copies of the optimiser state, attached to {@code target} (the caller closes them): {@code "m.<name>"} and
     * {@code "v.<name>"} per parameter, and {@code "step"} as an int64 scalar.
     */
    public Map<String, NDArray> state(NDManager target) {
        Map<String, NDArray> state = new LinkedHashMap<>();
        for (String name : params.keySet()) {
            state.put("m." + name, copy(m.get(name), target));
            state.put("v." + name, copy(v.get(name), target));
        }
        state.put(STEP, target.create(stepCount));
        return state;
    }

    private static NDArray copy(NDArray x, NDManager target) {
        NDArray copy = x.duplicate();
        copy.attach(target);
        return copy;
    }

    /** Restores a {@link #state} taken from an optimiser over the same parameter names and shapes; copies values in. */
    public void loadState(Map<String, NDArray> state) {
        Set<String> expected = new TreeSet<>();
        for (String name : params.keySet()) expected.addAll(Set.of("m." + name, "v." + name));
        expected.add(STEP);
        if (!expected.equals(new TreeSet<>(state.keySet()))) {
            throw new IllegalArgumentException("optimiser state keys " + new TreeSet<>(state.keySet())
                    + " do not match this optimiser's " + expected);
        }
        for (String name : params.keySet()) {
            load(state, "m." + name, m.get(name));
            load(state, "v." + name, v.get(name));
        }
        long step = state.get(STEP).getLong();
        if (step < 0) throw new IllegalArgumentException("optimiser state step must be >= 0, got " + step);
        stepCount = step;
    }

    private static void load(Map<String, NDArray> state, String key, NDArray into) {
        NDArray from = state.get(key);
        if (!from.getShape().equals(into.getShape())) {
            throw new IllegalArgumentException("optimiser state " + key + " has shape " + from.getShape() + ", expected " + into.getShape());
        }
        from.copyTo(into);
    }

    @Override
    public void close() {
        manager.close();
    }
}
