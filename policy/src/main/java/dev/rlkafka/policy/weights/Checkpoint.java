package dev.rlkafka.policy.weights;

import dev.rlkafka.policy.model.Policy;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * Everything needed to resume training: model weights ({@link WeightCodec} bytes), optimiser state
 * as named tensors the optimiser defines, the training step, and string metadata (policy version,
 * Kafka offsets, ...). File layout, little-endian: magic "RLKC", version, step (long), metadata
 * (count, then length-prefixed UTF-8 key and value), weights (int length + bytes), optimiser state
 * (int length + {@link TensorCodec} bytes).
 */
public record Checkpoint(long step, byte[] weights, Map<String, Tensor> optimizerState, Map<String, String> metadata) {

    static final int MAGIC = 0x434B4C52;   // "RLKC" read as little-endian bytes
    static final int VERSION = 1;

    public Checkpoint {
        if (step < 0) throw new IllegalArgumentException("step must be >= 0, got " + step);
        weights = weights.clone();
        WeightCodec.readConfig(weights);   // fail now, not at restore, if these are not weight bytes
        optimizerState = Collections.unmodifiableMap(new LinkedHashMap<>(optimizerState));
        metadata = Collections.unmodifiableMap(new LinkedHashMap<>(metadata));
        metadata.forEach((k, v) -> Objects.requireNonNull(v, "metadata value for " + k));
    }

    /** A checkpoint of {@code policy}'s current weights. */
    public static Checkpoint of(Policy policy, long step, Map<String, Tensor> optimizerState, Map<String, String> metadata) {
        return new Checkpoint(step, WeightCodec.encode(policy), optimizerState, metadata);
    }

    @Override
    public byte[] weights() {
        return weights.clone();
    }

    /** Loads the weights into a live policy of the same config. */
    public void restoreInto(Policy policy) {
        WeightCodec.loadInto(policy, weights);
    }

    /**
     * Writes to {@code <path>.tmp}, forces it to disk, renames it over {@code path} atomically and forces the
     * directory: a crash leaves either the old checkpoint or the new one, never half of one, and once this returns
     * the new one survives a power loss (the trainer commits a version only after that). One fixed temp name, so
     * a process killed mid-write leaves at most one stale temp file, which the next write replaces.
     */
    public void write(Path path) throws IOException {
        byte[] bytes = toBytes();
        Path dir = path.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = dir.resolve(path.getFileName() + ".tmp");
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.TRUNCATE_EXISTING)) {
                ByteBuffer buf = ByteBuffer.wrap(bytes);
                while (buf.hasRemaining()) ch.write(buf);
                ch.force(true);
            }
            Files.move(tmp, path, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            forceDirectory(dir);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** The rename is an entry in the directory: without this it can be lost on power loss after the file's own force. */
    private static void forceDirectory(Path dir) throws IOException {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (UnsupportedOperationException | java.nio.file.AccessDeniedException e) {
            // Windows cannot open a directory as a channel; NTFS journals the rename itself
        }
    }

    /** @throws IllegalArgumentException naming the file when its bytes are not a valid checkpoint */
    public static Checkpoint read(Path path) throws IOException {
        try {
            return fromBytes(Files.readAllBytes(path));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("checkpoint " + path + ": " + e.getMessage(), e);
        }
    }

    public byte[] toBytes() {
        byte[] state = TensorCodec.encode(optimizerState);
        Map<byte[], byte[]> meta = new LinkedHashMap<>();
        long metaSize = 4;
        for (Map.Entry<String, String> e : metadata.entrySet()) {
            byte[] k = e.getKey().getBytes(StandardCharsets.UTF_8), v = e.getValue().getBytes(StandardCharsets.UTF_8);
            meta.put(k, v);
            metaSize += 8 + k.length + v.length;
        }
        ByteBuffer out = ByteBuffer.allocate(Math.toIntExact(8 + 8 + metaSize + 4 + weights.length + 4 + state.length))
                .order(ByteOrder.LITTLE_ENDIAN);
        out.putInt(MAGIC).putInt(VERSION).putLong(step);
        out.putInt(meta.size());
        meta.forEach((k, v) -> out.putInt(k.length).put(k).putInt(v.length).put(v));
        out.putInt(weights.length).put(weights);
        out.putInt(state.length).put(state);
        return out.array();
    }

    public static Checkpoint fromBytes(byte[] bytes) {
        ByteBuffer in = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        TensorCodec.readHeader(in, MAGIC, VERSION, "checkpoint");
        try {
            long step = in.getLong();
            int n = in.getInt();
            if (n < 0) throw new IllegalArgumentException("negative metadata count " + n);
            Map<String, String> metadata = new LinkedHashMap<>();
            for (int i = 0; i < n; i++) metadata.put(readString(in), readString(in));
            byte[] weights = readBlock(in);
            Map<String, Tensor> state = TensorCodec.decode(readBlock(in));
            if (in.hasRemaining()) throw new IllegalArgumentException(in.remaining() + " unexpected bytes after the optimiser state");
            return new Checkpoint(step, weights, state, metadata);
        } catch (java.nio.BufferUnderflowException e) {
            throw new IllegalArgumentException("truncated checkpoint bytes at byte offset " + in.position() + " of " + in.limit());
        }
    }

    private static String readString(ByteBuffer in) {
        return new String(readBlock(in), StandardCharsets.UTF_8);
    }

    private static byte[] readBlock(ByteBuffer in) {
        int len = in.getInt();
        if (len < 0 || len > in.remaining()) throw new java.nio.BufferUnderflowException();
        byte[] b = new byte[len];
        in.get(b);
        return b;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Checkpoint c && step == c.step && java.util.Arrays.equals(weights, c.weights)
                && optimizerState.equals(c.optimizerState) && metadata.equals(c.metadata);
    }

    @Override
    public int hashCode() {
        return Objects.hash(step, java.util.Arrays.hashCode(weights), optimizerState, metadata);
    }

    @Override
    public String toString() {
        return "Checkpoint[step=" + step + ", weights=" + weights.length + " bytes, optimizerState=" + optimizerState.keySet()
                + ", metadata=" + metadata + "]";
    }
}
