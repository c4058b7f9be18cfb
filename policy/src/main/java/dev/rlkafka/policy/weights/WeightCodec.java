package dev.rlkafka.policy.weights;

import ai.djl.Device;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import dev.rlkafka.policy.model.ModelConfig;
import dev.rlkafka.policy.model.Policy;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A policy's weights ↔ bytes, for the weights topic and checkpoints. Layout, little-endian: magic
 * "RLKW", format version (int), the ModelConfig (5 ints, in record order), then the parameters as in
 * {@link TensorCodec} (name, shape, float32 values) in {@link Policy#parameters()} order.
 */
public final class WeightCodec {

    static final int MAGIC = 0x574B4C52;   // "RLKW" read as little-endian bytes
    static final int VERSION = 1;

    private WeightCodec() {}

    public static byte[] encode(Policy policy) {
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        policy.parameters().forEach((name, p) -> tensors.put(name, Tensor.of(p.getArray())));
        ByteBuffer out = ByteBuffer.allocate(Math.toIntExact(8 + 20 + TensorCodec.bodySize(tensors)))
                .order(ByteOrder.LITTLE_ENDIAN);
        out.putInt(MAGIC).putInt(VERSION);
        ModelConfig c = policy.config();
        out.putInt(c.vocabSize()).putInt(c.contextLength()).putInt(c.width()).putInt(c.layers()).putInt(c.heads());
        TensorCodec.writeBody(out, tensors);
        return out.array();
    }

    /** The ModelConfig the bytes were written for. */
    public static ModelConfig readConfig(byte[] bytes) {
        ByteBuffer in = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        TensorCodec.readHeader(in, MAGIC, VERSION, "weight");
        return readConfig(in);
    }

    /** A new policy on {@code device} holding these weights. */
    public static Policy decode(byte[] bytes, Device device) {
        Policy policy = Policy.create(readConfig(bytes), device, 0);
        try {
            loadInto(policy, bytes);
            return policy;
        } catch (RuntimeException e) {
            policy.close();
            throw e;
        }
    }

    /**
     * Overwrites a live policy's weights in place (hot-swap): arrays, names and the model stay, so a
     * sampler holding the policy keeps working. Everything is checked before the first value is
     * written, so bad bytes leave the old weights intact. Call it between sampling batches.
     *
     * @throws IllegalArgumentException on bad magic, version or truncation, another ModelConfig, or a
     *                                  parameter whose name or shape does not match
     */
    public static void loadInto(Policy policy, byte[] bytes) {
        ByteBuffer in = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        TensorCodec.readHeader(in, MAGIC, VERSION, "weight");
        ModelConfig config = readConfig(in);
        if (!config.equals(policy.config())) {
            throw new IllegalArgumentException("weights are for " + config + " but the policy is " + policy.config());
        }
        Map<String, Tensor> tensors = TensorCodec.readBody(in, "parameter");
        if (in.hasRemaining()) throw new IllegalArgumentException(in.remaining() + " unexpected bytes after the last parameter");
        Map<String, Parameter> parameters = policy.parameters();
        for (String name : tensors.keySet()) {
            if (!parameters.containsKey(name)) throw new IllegalArgumentException("unknown parameter " + name + " in weight bytes");
        }
        for (Map.Entry<String, Parameter> e : parameters.entrySet()) {
            Tensor t = tensors.get(e.getKey());
            if (t == null) throw new IllegalArgumentException("parameter " + e.getKey() + " is missing from the weight bytes");
            Shape expected = e.getValue().getArray().getShape();
            Shape got = new Shape(t.shape());
            if (!expected.equals(got)) {
                throw new IllegalArgumentException("parameter " + e.getKey() + " has shape " + got + " in the weight bytes but "
                        + expected + " in the policy");
            }
        }
        parameters.forEach((name, p) -> p.getArray().set(FloatBuffer.wrap(tensors.get(name).dataUnsafe())));
    }

    private static ModelConfig readConfig(ByteBuffer in) {
        if (in.remaining() < 20) throw new IllegalArgumentException("truncated weight bytes: ModelConfig needs 20 bytes, " + in.remaining() + " left");
        try {
            return new ModelConfig(in.getInt(), in.getInt(), in.getInt(), in.getInt(), in.getInt());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("weight bytes hold an invalid ModelConfig: " + e.getMessage(), e);
        }
    }
}
