package dev.rlkafka.policy.weights;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Named float32 tensors ↔ bytes. Layout, little-endian: magic "RLKT", format version (int), count
 * (int), then per tensor: name (int length + UTF-8), rank (int), dims (long each), values (float32).
 * Order is the map's iteration order, so equal maps in the same order give equal bytes.
 */
public final class TensorCodec {

    static final int MAGIC = 0x544B4C52;   // "RLKT" read as little-endian bytes
    static final int VERSION = 1;

    private TensorCodec() {}

    public static byte[] encode(Map<String, Tensor> tensors) {
        ByteBuffer out = ByteBuffer.allocate(Math.toIntExact(8 + bodySize(tensors))).order(ByteOrder.LITTLE_ENDIAN);
        out.putInt(MAGIC).putInt(VERSION);
        writeBody(out, tensors);
        return out.array();
    }

    /** @throws IllegalArgumentException on a bad magic, an unknown version or truncated bytes */
    public static Map<String, Tensor> decode(byte[] bytes) {
        ByteBuffer in = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        readHeader(in, MAGIC, VERSION, "tensor");
        Map<String, Tensor> tensors = readBody(in, "tensor");
        if (in.hasRemaining()) throw new IllegalArgumentException(in.remaining() + " unexpected bytes after the last tensor");
        return tensors;
    }

    static long bodySize(Map<String, Tensor> tensors) {
        long size = 4;
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            size += 4 + e.getKey().getBytes(StandardCharsets.UTF_8).length + 4 + 8L * e.getValue().shape().length
                    + 4L * e.getValue().size();
        }
        return size;
    }

    static void writeBody(ByteBuffer out, Map<String, Tensor> tensors) {
        out.putInt(tensors.size());
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            byte[] name = e.getKey().getBytes(StandardCharsets.UTF_8);
            out.putInt(name.length).put(name);
            long[] shape = e.getValue().shape();
            out.putInt(shape.length);
            for (long d : shape) out.putLong(d);
            out.asFloatBuffer().put(e.getValue().dataUnsafe());
            out.position(out.position() + 4 * e.getValue().size());
        }
    }

    static void readHeader(ByteBuffer in, int magic, int version, String what) {
        if (in.remaining() < 8) throw new IllegalArgumentException("truncated " + what + " bytes: " + in.remaining() + " bytes, header needs 8");
        int m = in.getInt();
        if (m != magic) {
            throw new IllegalArgumentException("bad magic 0x%08x in %s bytes, expected 0x%08x".formatted(m, what, magic));
        }
        int v = in.getInt();
        if (v != version) throw new IllegalArgumentException("unsupported " + what + " format version " + v + ", this build reads " + version);
    }

    static Map<String, Tensor> readBody(ByteBuffer in, String what) {
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        String current = "(count)";
        try {
            int count = in.getInt();
            if (count < 0) throw new IllegalArgumentException("negative " + what + " count " + count);
            for (int i = 0; i < count; i++) {
                current = "#" + i;
                int nameLen = in.getInt();
                if (nameLen < 0 || nameLen > in.remaining()) throw new BufferUnderflowException();
                byte[] name = new byte[nameLen];
                in.get(name);
                current = new String(name, StandardCharsets.UTF_8);
                int rank = in.getInt();
                if (rank < 0 || rank > 8) throw new IllegalArgumentException(what + " " + current + " has rank " + rank);
                long[] shape = new long[rank];
                long n = 1;
                for (int d = 0; d < rank; d++) {
                    shape[d] = in.getLong();
                    if (shape[d] < 0) throw new IllegalArgumentException(what + " " + current + " has shape " + Arrays.toString(shape));
                    n = Math.multiplyExact(n, shape[d]);
                }
                if (4 * n > in.remaining()) throw new BufferUnderflowException();
                float[] data = new float[Math.toIntExact(n)];
                in.asFloatBuffer().get(data);
                in.position(in.position() + 4 * data.length);
                if (tensors.put(current, new Tensor(shape, data)) != null) {
                    throw new IllegalArgumentException("duplicate " + what + " name " + current);
                }
            }
        } catch (BufferUnderflowException e) {
            throw new IllegalArgumentException("truncated " + what + " bytes: ran out at " + what + " " + current
                    + " (byte offset " + in.position() + " of " + in.limit() + ")");
        }
        return tensors;
    }
}
