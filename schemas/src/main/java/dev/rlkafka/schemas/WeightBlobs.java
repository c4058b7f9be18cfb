package dev.rlkafka.schemas;

import dev.rlkafka.schemas.WeightChunks.InvalidWeightsException;
import dev.rlkafka.schemas.avro.WeightChunk;

import java.io.IOException;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Policy versions kept in a blob store, with only a pointer on {@code rl.policy-weights} (the manifest variant of
 * {@link WeightChunk}): for weights too large to send through Kafka at every version. The store is a directory,
 * on a local disk or on a file system every generator mounts at the same path; pointers are {@code file:} URIs.
 */
public final class WeightBlobs {
    private static final Pattern FILE_NAME = Pattern.compile("policy-v(\\d+)\\.weights");

    private WeightBlobs() {
    }

    /**
     * Writes {@code weights} of {@code version} to {@code dir} and returns the pointer to publish. The file appears
     * whole or not at all (written aside, forced to disk, then renamed), so a reader never sees part of a version.
     */
    public static WeightChunk write(Path dir, long version, long step, byte[] weights, Instant at) throws IOException {
        if (version < 0) throw new IllegalArgumentException("version must be >= 0, got " + version);
        if (weights.length == 0) throw new IllegalArgumentException("weights of version " + version + " are empty");
        Files.createDirectories(dir);
        Path file = dir.resolve("policy-v" + version + ".weights").toAbsolutePath();
        Path aside = dir.resolve("policy-v" + version + ".weights.tmp");
        try (FileChannel out = FileChannel.open(aside, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer buffer = ByteBuffer.wrap(weights);
            while (buffer.hasRemaining()) out.write(buffer);
            out.force(true);
        }
        Files.move(aside, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        return WeightChunk.newBuilder()
                .setVersion(version)
                .setStep(step)
                .setChunkIndex(0)
                .setChunkCount(1)
                .setTotalBytes(weights.length)
                .setSha256(Sha256.hex(weights))
                .setBytes(null)
                .setBlobUri(file.toUri().toString())
                .setCreatedAtMs(at)
                .build();
    }

    /**
     * The weights a pointer names, checked against its size and SHA-256.
     *
     * @throws InvalidWeightsException when the pointer is malformed (a chunk count other than 1, bytes beside the
     *                                 URI, a scheme other than {@code file}), when the file cannot be read (pruned,
     *                                 not mounted here), or when it does not hold the announced bytes
     */
    public static byte[] read(WeightChunk pointer) {
        long version = pointer.getVersion();
        String uri = pointer.getBlobUri();
        if (uri == null) throw new IllegalArgumentException("version " + version + " is inline chunks, not a blob pointer");
        if (pointer.getChunkCount() != 1 || pointer.getChunkIndex() != 0 || pointer.getBytes() != null) {
            throw new InvalidWeightsException(version, "blob pointer of version " + version + " must be chunk 0 of 1 without bytes, got chunk "
                    + pointer.getChunkIndex() + " of " + pointer.getChunkCount() + (pointer.getBytes() == null ? "" : " with bytes"));
        }
        long totalBytes = pointer.getTotalBytes();
        if (totalBytes < 1 || totalBytes > WeightChunks.MAX_VERSION_BYTES) {
            throw new InvalidWeightsException(version, "totalBytes " + totalBytes + " of version " + version
                    + " is outside [1, " + WeightChunks.MAX_VERSION_BYTES + "]");
        }
        Path file;
        try {
            URI parsed = new URI(uri);
            if (!"file".equals(parsed.getScheme())) {
                throw new InvalidWeightsException(version, "version " + version + " points at " + uri
                        + "; only file: blob stores (a directory every generator mounts) are supported");
            }
            file = Path.of(parsed);
        } catch (java.net.URISyntaxException | IllegalArgumentException e) {
            throw new InvalidWeightsException(version, "version " + version + " points at '" + uri + "', not a file URI: " + e.getMessage());
        }
        byte[] weights;
        try {
            long size = Files.size(file);
            if (size != totalBytes) {
                throw new InvalidWeightsException(version, true, "version " + version + " at " + file + " holds " + size
                        + " bytes, its pointer announces " + totalBytes);
            }
            weights = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new InvalidWeightsException(version, true, "version " + version + " points at " + file
                    + ", which does not exist here (pruned by the trainer, or the store is not mounted at that path)");
        } catch (IOException e) {
            throw new InvalidWeightsException(version, true, "cannot read version " + version + " at " + file + ": " + e);
        }
        String actual = Sha256.hex(weights);
        if (!actual.equals(pointer.getSha256())) {
            throw new InvalidWeightsException(version, true, "version " + version + " at " + file + " has sha256 " + actual
                    + " but its pointer announces " + pointer.getSha256());
        }
        return weights;
    }

    /**
     * Deletes the versions in {@code dir} older than {@code keepFrom}: a generator loads the newest version it sees,
     * so only one that is far behind ever asks for an older one (and dead-letters it, keeping its weights).
     *
     * @return the versions deleted
     */
    public static List<Long> prune(Path dir, long keepFrom) throws IOException {
        List<Long> deleted = new ArrayList<>();
        if (!Files.isDirectory(dir)) return deleted;
        try (Stream<Path> files = Files.list(dir)) {
            for (Path file : files.toList()) {
                OptionalLong version = versionOf(file);
                if (version.isPresent() && version.getAsLong() < keepFrom && Files.deleteIfExists(file)) {
                    deleted.add(version.getAsLong());
                }
            }
        }
        return deleted;
    }

    private static OptionalLong versionOf(Path file) {
        Matcher m = FILE_NAME.matcher(file.getFileName().toString());
        return m.matches() ? OptionalLong.of(Long.parseLong(m.group(1))) : OptionalLong.empty();
    }
}
