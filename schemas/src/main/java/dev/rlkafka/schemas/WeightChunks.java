package dev.rlkafka.schemas;

import dev.rlkafka.schemas.avro.WeightChunk;

import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * How a policy version rides {@code rl.policy-weights}: the encoded weights cut into chunks that each
 * carry the version, index, count and the SHA-256 of the whole; and the reassembly on the other side.
 */
public final class WeightChunks {

    /**
     * The largest version, in bytes, the {@link Assembler} accepts: a version is reassembled into one
     * {@code byte[]}, and the JVM refuses arrays this close to {@code Integer.MAX_VALUE} (the JDK's own soft
     * maximum array length).
     */
    public static final int MAX_VERSION_BYTES = Integer.MAX_VALUE - 8;

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

    /** The announced size of a version, inline or in a blob store, is one a reader can hold in one array. */
    static void requireVersionSize(long version, long totalBytes) {
        if (totalBytes < 1 || totalBytes > MAX_VERSION_BYTES) {
            throw new InvalidWeightsException(version, "totalBytes " + totalBytes + " of version " + version
                    + " is outside [1, " + MAX_VERSION_BYTES + "]");
        }
    }

    /** A version whose chunks cannot make valid weights: wrong checksum, size, or inconsistent chunks. */
    public static final class InvalidWeightsException extends RuntimeException {
        private final long version;
        private final boolean whole;

        InvalidWeightsException(long version, String message) {
            this(version, false, message);
        }

        InvalidWeightsException(long version, boolean whole, String message) {
            super(message);
            this.version = version;
            this.whole = whole;
        }

        /** The version the refused chunk claims, whether or not a publisher ever wrote it. */
        public long version() {
            return version;
        }

        /**
         * Whether every announced chunk arrived and only the whole failed (size or checksum): a version a publisher
         * wrote and the topic damaged. A chunk refused on its own (impossible counts, sizes) may be anything.
         */
        public boolean whole() {
            return whole;
        }
    }

    /**
     * Reassembles versions from chunks in any order, one version at a time per key; a generator feeds it
     * every chunk it reads. Not thread-safe.
     *
     * <p>Memory stays bounded by the versions still in flight: a version that completes drops every partial
     * version at or below it (the generator only ever moves to newer weights), and a rejected version is dropped
     * and remembered, so that its remaining chunks are ignored instead of starting a partial that cannot complete.
     */
    public static final class Assembler {
        private final TreeMap<Long, Partial> partials = new TreeMap<>();
        // rejected above the newest completed version; a long per bad version, pruned as newer versions complete
        private final TreeSet<Long> rejected = new TreeSet<>();

        /**
         * @return the whole weights once the last chunk of the version arrives and the SHA-256 matches; empty
         * while chunks are missing, and for every chunk of a version rejected earlier
         * @throws InvalidWeightsException on a checksum or size mismatch, a count that its chunks cannot make, or
         *                                 chunks that disagree; the version is dropped and its later chunks ignored
         */
        public Optional<byte[]> add(WeightChunk chunk) {
            long version = chunk.getVersion();
            if (rejected.contains(version)) {
                return Optional.empty();   // dead-lettered once already; the rest of it cannot make valid weights
            }
            try {
                Optional<byte[]> whole = addChecked(chunk);
                if (whole.isPresent()) {
                    // partials at or below a complete version can only give weights older than these
                    partials.headMap(version, true).clear();
                    rejected.headSet(version, true).clear();
                }
                return whole;
            } catch (InvalidWeightsException e) {
                partials.remove(version);
                rejected.add(version);
                throw e;
            }
        }

        private Optional<byte[]> addChecked(WeightChunk chunk) {
            long version = chunk.getVersion();
            if (chunk.getBlobUri() != null) {
                throw new InvalidWeightsException(version, "version " + version + " points at blob store "
                        + chunk.getBlobUri() + ": a pointer is read with WeightBlobs.read, not reassembled from chunks");
            }
            if (chunk.getBytes() == null) {
                throw new InvalidWeightsException(version, "chunk " + chunk.getChunkIndex() + " of version "
                        + version + " has neither bytes nor a blobUri");
            }
            int index = chunk.getChunkIndex();
            int count = chunk.getChunkCount();
            long totalBytes = chunk.getTotalBytes();
            int size = chunk.getBytes().remaining();
            requireVersionSize(version, totalBytes);
            if (size < 1 || size > totalBytes) {
                throw new InvalidWeightsException(version, "chunk " + index + " of version " + version + " has "
                        + size + " bytes, outside [1, totalBytes " + totalBytes + "]");
            }
            if (count < 1 || index < 0 || index >= count) {
                throw new InvalidWeightsException(version, "chunk index " + index + " of " + count
                        + " is out of range for version " + version);
            }
            // split() cuts every chunk but the last at one size and never an empty one: this chunk's size bounds
            // the count before anything is kept for it
            if (count > totalBytes - size + 1) {
                throw new InvalidWeightsException(version, "chunkCount " + count + " of version " + version
                        + " is more than its " + totalBytes + " totalBytes allow when chunk " + index + " holds "
                        + size + " of them (at most " + (totalBytes - size + 1) + ")");
            }
            long fullChunks = (totalBytes + size - 1) / size;
            if (index < count - 1 && count != fullChunks) {
                throw new InvalidWeightsException(version, "chunkCount " + count + " of version " + version
                        + " does not match chunk " + index + ": " + totalBytes + " totalBytes in chunks of " + size
                        + " bytes make " + fullChunks);
            }
            Partial partial = partials.computeIfAbsent(version, v -> new Partial(chunk));
            if (partial.count != count || !partial.sha256.equals(chunk.getSha256()) || partial.totalBytes != totalBytes) {
                throw new InvalidWeightsException(version, "chunks of version " + version
                        + " disagree on count, size or sha256 (" + partial.count + "/" + partial.totalBytes + "/"
                        + partial.sha256 + " vs " + count + "/" + totalBytes + "/" + chunk.getSha256() + ")");
            }
            byte[] data = new byte[size];
            chunk.getBytes().duplicate().get(data);
            partial.put(index, data);   // a re-sent chunk replaces its earlier copy
            if (partial.receivedBytes > partial.totalBytes) {
                throw new InvalidWeightsException(version, "chunks of version " + version + " hold "
                        + partial.receivedBytes + " bytes, more than its totalBytes " + partial.totalBytes);
            }
            if (partial.chunks.size() < partial.count) {
                return Optional.empty();
            }
            partials.remove(version);
            if (partial.receivedBytes != partial.totalBytes) {
                throw new InvalidWeightsException(version, true, "version " + version + " reassembled to "
                        + partial.receivedBytes + " bytes, its chunks announce " + partial.totalBytes);
            }
            byte[] whole = partial.concat();
            String actual = Sha256.hex(whole);
            if (!actual.equals(partial.sha256)) {
                throw new InvalidWeightsException(version, true, "version " + version + " has sha256 " + actual
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
            // by index; a map, not an array of count, so memory follows the bytes received, not a claimed count
            final Map<Integer, byte[]> chunks = new HashMap<>();
            long receivedBytes;

            Partial(WeightChunk first) {
                this.count = first.getChunkCount();
                this.totalBytes = first.getTotalBytes();
                this.sha256 = first.getSha256();
            }

            void put(int index, byte[] data) {
                byte[] earlier = chunks.put(index, data);
                receivedBytes += data.length - (earlier == null ? 0 : earlier.length);
            }

            /** Only once all {@code count} chunks holding exactly {@code totalBytes} have arrived. */
            byte[] concat() {
                byte[] out = new byte[Math.toIntExact(totalBytes)];
                int at = 0;
                for (int i = 0; i < count; i++) {
                    byte[] c = chunks.get(i);
                    System.arraycopy(c, 0, out, at, c.length);
                    at += c.length;
                }
                return out;
            }
        }
    }
}
