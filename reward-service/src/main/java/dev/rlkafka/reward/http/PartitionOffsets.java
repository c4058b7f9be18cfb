package dev.rlkafka.reward.http;

import java.util.OptionalLong;
import java.util.TreeSet;

/**
 * The offsets of one partition's rollouts between poll and resolution (reward written or dead-lettered), and
 * how far the consumer may commit: up to, not past, the oldest one still unresolved. Rollouts finish out of
 * order (a slow one among fast ones); committing past an unresolved one would lose it in a crash.
 * Not thread-safe (the poll thread owns it).
 */
final class PartitionOffsets {
    private final TreeSet<Long> unresolved = new TreeSet<>();
    /** One past the newest offset tracked; -1 before the first. */
    private long next = -1;
    /** The offset last committed; -1 before the first commit. */
    private long committed = -1;

    /** A polled record's offset; offsets of a partition arrive in increasing order. */
    void track(long offset) {
        if (offset < next) {
            throw new IllegalStateException("offset " + offset + " tracked after " + (next - 1) + "; records of a partition come in order");
        }
        unresolved.add(offset);
        next = offset + 1;
    }

    /** The record at {@code offset} has its output written; an offset not tracked (any more) is ignored. */
    void resolve(long offset) {
        unresolved.remove(offset);
    }

    int unresolvedCount() {
        return unresolved.size();
    }

    /**
     * The offset to commit (Kafka's "next record to read"), when it is past the last commit: the oldest
     * unresolved offset, or one past the newest when all are resolved.
     */
    OptionalLong toCommit() {
        if (next < 0) return OptionalLong.empty();
        long upTo = unresolved.isEmpty() ? next : unresolved.first();
        return upTo > committed ? OptionalLong.of(upTo) : OptionalLong.empty();
    }

    /** {@link #toCommit()}'s offset was committed. */
    void committed(long offset) {
        committed = Math.max(committed, offset);
    }
}
