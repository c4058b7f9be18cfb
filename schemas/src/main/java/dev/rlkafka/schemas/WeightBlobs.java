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
 * {@link WeightChunk}): the broker then carries and keeps a few hundred bytes a version instead of the weights. The
 * store is a directory, on a local disk or on a file system every generator mounts at the same path; pointers are
 * {@code file:} URIs. A reader still holds a whole version in memory, so the size limit is the inline one,
 * {@link WeightChunks#MAX_VERSION_BYTES}.
 *
 * <p>File names carry the version and the start of the SHA-256, so a trainer that was replaced but has not noticed yet
 * never overwrites the weights a committed pointer names; give each run a directory of its own, as pruning goes by
 * version number.
 */
public final class WeightBlobs {
    private static final Pattern FILE_NAME = Pattern.compile("policy-v(\\d+)-.+\\.(weights|tmp)");

    private WeightBlobs() {
    }

    /**
     * Writes {@code weights} of {@code version} to {@code dir} and returns the pointer to publish. The file appears
     * whole or not at all and survives a crash of the machine (written aside, forced to disk, renamed, the directory
     * forced), since a committed pointer to a lost file would leave generators without that version.
     */
    public static WeightChunk write(Path dir, long version, long step, byte[] weights, Instant at) throws IOException {
        if (version < 0) throw new IllegalArgumentException("version must be >= 0, got " + version);
        if (weights.length == 0) throw new IllegalArgumentException("weights of version " + version + " are empty");
        String sha256 = Sha256.hex(weights);
        Files.createDirectories(dir);
        Path file = dir.resolve("policy-v" + version + "-" + sha256.substring(0, 16) + ".weights").toAbsolutePath();
        // a name of its own, so no writer truncates another's; not createTempFile, whose owner-only permissions would
        // keep generators running as other users out
        Path aside = dir.resolve("policy-v" + version + "-" + java.util.UUID.randomUUID() + ".tmp");
        try {
            try (FileChannel out = FileChannel.open(aside, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                ByteBuffer buffer = ByteBuffer.wrap(weights);
                while (buffer.hasRemaining()) out.write(buffer);
                out.force(true);
            }
            Files.move(aside, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(aside);
        }
        try (FileChannel directory = FileChannel.open(dir, StandardOpenOption.READ)) {
            directory.force(true);
        }
        return WeightChunk.newBuilder()
                .setVersion(version)
                .setStep(step)
                .setChunkIndex(0)
                .setChunkCount(1)
                .setTotalBytes(weights.length)
                .setSha256(sha256)
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
        WeightChunks.requireVersionSize(version, totalBytes);
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
        try (FileChannel in = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = in.size();
            if (size != totalBytes) {
                throw new InvalidWeightsException(version, true, "version " + version + " at " + file + " holds " + size
                        + " bytes, its pointer announces " + totalBytes);
            }
            ByteBuffer buffer = ByteBuffer.allocate(Math.toIntExact(size));
            while (buffer.hasRemaining()) {
                if (in.read(buffer) < 0) break;   // the file shrank while read: the checksum below refuses it
            }
            weights = buffer.array();
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
     * Deletes the versions in {@code dir} older than {@code keepFrom}, and files a crashed writer left aside for them:
     * a generator loads the newest version it has seen, so only one that is far behind ever asks for an older one (and
     * dead-letters it, keeping its weights).
     *
     * @return the versions whose weights were deleted
     */
    public static List<Long> prune(Path dir, long keepFrom) throws IOException {
        List<Long> deleted = new ArrayList<>();
        if (!Files.isDirectory(dir)) return deleted;
        try (Stream<Path> files = Files.list(dir)) {
            for (Path file : files.toList()) {
                OptionalLong version = versionOf(file);
                if (version.isPresent() && version.getAsLong() < keepFrom && Files.deleteIfExists(file)
                        && file.getFileName().toString().endsWith(".weights")) {
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
