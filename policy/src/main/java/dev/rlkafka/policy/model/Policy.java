package dev.rlkafka.policy.model;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import java.nio.FloatBuffer;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** A {@link Gpt} with its weights, the {@link NDManager} that owns them, and its config. */
public final class Policy implements AutoCloseable {

    static {
        // libtorch comes from the native jar on the class path; never download it at run time
        if (System.getProperty("ai.djl.offline") == null) System.setProperty("ai.djl.offline", "true");
    }

    private static final Logger log = LoggerFactory.getLogger(Policy.class);
    private static final double INIT_STD = 0.02;   // GPT-2 / nanoGPT

    private final ModelConfig config;
    private final NDManager manager;
    private final Gpt gpt;
    private final Map<String, Parameter> parameters;

    private Policy(ModelConfig config, NDManager manager, Gpt gpt) {
        this.config = config;
        this.manager = manager;
        this.gpt = gpt;
        this.parameters = Collections.unmodifiableMap(gpt.namedParameters());
    }

    /**
     * A freshly initialised policy on {@code device}; the same seed gives the same weights on any
     * machine, because values are drawn in Java, not from the engine's RNG.
     */
    public static Policy create(ModelConfig config, Device device, long seed) {
        NDManager manager = NDManager.newBaseManager(device, "PyTorch");
        try {
            Gpt gpt = new Gpt(config);
            gpt.initialize(manager, DataType.FLOAT32, new Shape(1, config.contextLength()));
            Policy policy = new Policy(config, manager, gpt);
            policy.initialiseWeights(seed);
            log.info("created policy {} ({} parameters) on {}", config, policy.parameterCount(), device);
            return policy;
        } catch (RuntimeException e) {
            manager.close();
            throw e;
        }
    }

    // nanoGPT's init: N(0, 0.02) for matrices and embeddings, N(0, 0.02/√(2L)) for the projections
    // that write into the residual stream (GPT-2 §2.3), zero biases, unit LayerNorm gains
    private void initialiseWeights(long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        double residualStd = INIT_STD / Math.sqrt(2.0 * config.layers());
        for (Map.Entry<String, Parameter> e : parameters.entrySet()) {
            String name = e.getKey();
            NDArray array = e.getValue().getArray();
            float[] values = new float[Math.toIntExact(array.size())];
            if (name.endsWith(".gamma")) {
                java.util.Arrays.fill(values, 1f);
            } else if (name.endsWith(".beta") || name.endsWith(".bias")) {
                // zeros
            } else {
                double std = name.endsWith("attn.proj.weight") || name.endsWith("mlp.down.weight") ? residualStd : INIT_STD;
                for (int i = 0; i < values.length; i++) values[i] = (float) (random.nextGaussian() * std);
            }
            array.set(FloatBuffer.wrap(values));
        }
    }

    /**
     * Logits for whole sequences from position 0: (B, T) int64 → (B, T, V), causal attention only.
     * Inputs and result live in {@code tokens}' manager (a per-step sub-manager).
     */
    public NDArray logits(NDArray tokens) {
        NDManager m = tokens.getManager();
        return gpt.forward(tokens, positions(tokens), Gpt.causalMask(m, tokens.getShape().get(1)), null);
    }

    /** Like {@link #logits} but the final hidden states (B, T, C) before the LM head. */
    public NDArray hidden(NDArray tokens) {
        NDManager m = tokens.getManager();
        return gpt.hidden(tokens, positions(tokens), Gpt.causalMask(m, tokens.getShape().get(1)), null);
    }

    private NDArray positions(NDArray tokens) {
        long b = tokens.getShape().get(0), t = tokens.getShape().get(1);
        if (t > config.contextLength()) {
            throw new IllegalArgumentException("sequence length " + t + " exceeds contextLength " + config.contextLength());
        }
        return tokens.getManager().arange(0, Math.toIntExact(t), 1, ai.djl.ndarray.types.DataType.INT64).reshape(1, t).broadcast(new Shape(b, t));
    }

    /** The full forward (see {@link Gpt#forward}), for the sampler's left-padded, cached steps. */
    public NDArray forward(NDArray tokens, NDArray positions, NDArray mask, KvCache cache) {
        return gpt.forward(tokens, positions, mask, cache);
    }

    /** Parameters by stable name, in a fixed order (codec, optimiser, checkpoints rely on both). */
    public Map<String, Parameter> parameters() {
        return parameters;
    }

    /** Names of the weight matrices and embeddings (2-D): the ones AdamW decays; biases and LayerNorm are not. */
    public Set<String> weightMatrixNames() {
        Set<String> names = new LinkedHashSet<>();
        parameters.forEach((name, p) -> {
            if (p.getArray().getShape().dimension() >= 2) names.add(name);
        });
        return names;
    }

    /** Copies of the weights as Java arrays, by name, e.g. to compare two policies. */
    public Map<String, float[]> weightsSnapshot() {
        Map<String, float[]> copy = new LinkedHashMap<>();
        parameters.forEach((name, p) -> copy.put(name, p.getArray().toFloatArray()));
        return copy;
    }

    /**
     * Zeroes every parameter's gradient. Needed before each backward: DJL's PyTorch GradientCollector
     * accumulates into .grad like torch does and does not reset it (its own zeroGradients() walks every
     * array of the engine and leaks a gradient handle per array).
     */
    public void zeroGradients() {
        for (Parameter p : parameters.values()) {
            ai.djl.pytorch.jni.JniUtils.zeroGrad((ai.djl.pytorch.engine.PtNDArray) p.getArray());
        }
    }

    public long parameterCount() {
        return parameters.values().stream().mapToLong(p -> p.getArray().size()).sum();
    }

    public ModelConfig config() {
        return config;
    }

    public Device device() {
        return manager.getDevice();
    }

    /** Owns the weights; make per-step work in {@code manager().newSubManager()}. */
    public NDManager manager() {
        return manager;
    }

    public Gpt gpt() {
        return gpt;
    }

    /**
     * Intra-op threads of libtorch. On 2 idle cores 2 threads trained fastest and 1 sampled fastest;
     * on a busy machine 2 threads were ~40× slower than 1 (OpenMP threads spin-wait for a core), so
     * services should default to 1 and let the operator raise it.
     *
     * <p>The count belongs to the calling OS thread, and a thread that never set one takes whatever any thread
     * set last ({@code IntraOpThreadsTest}). In the one-JVM bench a trainer that set 2 once at start was seen
     * running without its second OpenMP thread (jstack against /proc) until it set the count before each step,
     * so a service sets it on its own thread before each unit of work (a batch, a step).
     */
    public static void setIntraOpThreads(int threads) {
        if (threads < 1) throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        ai.djl.engine.Engine.getEngine("PyTorch");   // loads libtorch; before that the JNI symbol is unbound
        ai.djl.pytorch.jni.JniUtils.setNumThreads(threads);
    }

    @Override
    public void close() {
        manager.close();
    }
}
