package dev.rlkafka.trainer;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * An order-independent fingerprint of a set of consumed groups: how many, and the sum mod 2^64 of a
 * 64-bit hash of each group id. Two audits are equal iff (with overwhelming probability) the same
 * multiset of ids went in: a group trained twice adds its hash twice, a skipped group is missing.
 *
 * @param count ids added
 * @param hash  Σ {@link #hashOf(String)} over the ids, wrapping at 2^64
 */
public record Audit(long count, long hash) {

    public static final Audit EMPTY = new Audit(0, 0);

    public Audit {
        if (count < 0) throw new IllegalArgumentException("count must be >= 0, got " + count);
    }

    public Audit add(String id) {
        return new Audit(count + 1, hash + hashOf(id));   // long addition wraps: the sum is mod 2^64
    }

    /** The first 8 bytes of SHA-256 of the id's UTF-8 bytes, big-endian. */
    public static long hashOf(String id) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(id.getBytes(StandardCharsets.UTF_8));
            return ByteBuffer.wrap(digest, 0, 8).getLong();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JVM has SHA-256", e);
        }
    }

    /** The audit of exactly these ids. */
    public static Audit of(Iterable<String> ids) {
        Audit audit = EMPTY;
        for (String id : ids) audit = audit.add(id);
        return audit;
    }
}
