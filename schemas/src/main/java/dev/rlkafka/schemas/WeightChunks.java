package dev.rlkafka.schemas;

import dev.rlkafka.schemas.avro.WeightChunk;

import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.TreeMap;

/**
 * How a policy version rides {@code rl.policy-weights}: the encoded weights cut into chunks that each
 * carry the version, index, count and the SHA-256 of the whole; and the reassembly on the other side.
 */
public final class WeightChunks {

    private WeightChunks() {
    }

    /** Cuts {@code weights} into chunks of at most {@code chunkBytes}, in order. */
    public static List<WeightChunk> split(long version, long step, byte[] weights, int chunkBytes, Instant at) {
        if (version < 0) throw new IllegalArgumentException("version must be >= 0, got " + version);
        if (chunkBytes < 1) throw new IllegalArgumentException("chunkBytes must be >= 1, got " + chunkBytes);
        if (weights.length == 0) throw new IllegalArgumentException("weights of version " + version + " are empty");
        String sha256 = Sha256.hex(weights);
        int count = (weights.length + chunkBytes - 1) / chunkBytes;
        List<WeightChunk> chunks = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            int from = i * chunkBytes;
            int to = Math.min(weights.length, from + chunkBytes);
            chunks.add(WeightChunk.newBuilder()
                    .setVersion(version)
                    .setStep(step)
                    .setChunkIndex(i)
                    .setChunkCount(count)
                    .setTotalBytes(weights.length)
                    .setSha256(sha256)
                    .setBytes(ByteBuffer.wrap(weights, from, to - from).slice())
                    .setBlobUri(null)
                    .setCreatedAtMs(at)
                    .build());
        }
        return chunks;
    }

    /** A version whose chunks cannot make valid weights: wrong checksum, size, or inconsistent chunks. */
    public static final class InvalidWeightsException extends RuntimeException {
        private final long version;

        InvalidWeightsException(long version, String message) {
            super(message);
            this.version = version;
        }

        public long version() {
            return version;
        }
    }

    /**
     * Reassembles versions from chunks in any order, one version at a time per key; a generator feeds it
     * every chunk it reads. Not thread-safe.
     */
    public static final class Assembler {
        private final TreeMap<Long, Partial> partials = new TreeMap<>();

        /**
         * @return the whole weights once the last chunk of the version arrives and the SHA-256 matches
         * @throws InvalidWeightsException on a checksum or size mismatch, or chunks that disagree;
         *                                 the version is dropped
         */
        public Optional<byte[]> add(WeightChunk chunk) {
            long version = chunk.getVersion();
            if (chunk.getBlobUri() != null) {
                throw new InvalidWeightsException(version, "version " + version + " points at blob store "
                        + chunk.getBlobUri() + "; this generator reads inline chunks only");
            }
            if (chunk.getBytes() == null) {
                throw new InvalidWeightsException(version, "chunk " + chunk.getChunkIndex() + " of version "
                        + version + " has neither bytes nor a blobUri");
            }
            if (chunk.getChunkCount() < 1 || chunk.getChunkIndex() < 0 || chunk.getChunkIndex() >= chunk.getChunkCount()) {
                throw new InvalidWeightsException(version, "chunk index " + chunk.getChunkIndex() + " of "
                        + chunk.getChunkCount() + " is out of range for version " + version);
            }
            Partial partial = partials.computeIfAbsent(version, v -> new Partial(chunk));
            if (partial.count != chunk.getChunkCount() || !partial.sha256.equals(chunk.getSha256())
                    || partial.totalBytes != chunk.getTotalBytes()) {
                partials.remove(version);
                throw new InvalidWeightsException(version, "chunks of version " + version
                        + " disagree on count, size or sha256 (" + partial.count + "/" + partial.totalBytes + "/"
                        + partial.sha256 + " vs " + chunk.getChunkCount() + "/" + chunk.getTotalBytes() + "/"
                        + chunk.getSha256() + ")");
            }
            ByteBuffer bytes = chunk.getBytes().duplicate();
            byte[] data = new byte[bytes.remaining()];
            bytes.get(data);
            partial.chunks[chunk.getChunkIndex()] = data;   // a re-sent chunk replaces its earlier copy
            if (!partial.complete()) {
                return Optional.empty();
            }
            partials.remove(version);
            byte[] whole = partial.concat();
            if (whole.length != partial.totalBytes) {
                throw new InvalidWeightsException(version, "version " + version + " reassembled to "
                        + whole.length + " bytes, its chunks announce " + partial.totalBytes);
            }
            String actual = Sha256.hex(whole);
            if (!actual.equals(partial.sha256)) {
                throw new InvalidWeightsException(version, "version " + version + " has sha256 " + actual
                        + " but its chunks announce " + partial.sha256);
            }
            return Optional.of(whole);
        }

        /** Versions with some but not all chunks. */
        public int pending() {
            return partials.size();
        }

        private static final class Partial {
            final int count;
            final long totalBytes;
            final String sha256;
            final byte[][] chunks;

            Partial(WeightChunk first) {
                this.count = first.getChunkCount();
                this.totalBytes = first.getTotalBytes();
                this.sha256 = first.getSha256();
                this.chunks = new byte[count][];
            }

            boolean complete() {
                for (byte[] c : chunks) if (c == null) return false;
                return true;
            }

            byte[] concat() {
                int size = 0;
                for (byte[] c : chunks) size += c.length;
                byte[] out = new byte[size];
                int at = 0;
                for (byte[] c : chunks) {
                    System.arraycopy(c, 0, out, at, c.length);
                    at += c.length;
                }
                return out;
            }
        }
    }
}
