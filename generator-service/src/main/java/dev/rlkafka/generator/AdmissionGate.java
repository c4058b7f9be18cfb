package dev.rlkafka.generator;

import dev.rlkafka.schemas.DeadLetters;
import dev.rlkafka.schemas.avro.DeadLetter;

import java.util.Collection;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.Optional;

/**
 * Bounded staleness at admission (AReaL, Fu et al. 2025, §5): a new prompt is admitted only while
 * {@code admittedGroups < (latestVersion − startVersion + maxStaleness + 1) · groupsPerVersion}.
 *
 * <p>The trainer turns {@code groupsPerVersion} groups into one new policy version, so the group admitted
 * as number {@code n} (0-based, counted from {@code startVersion}) is trained on at version
 * {@code startVersion + n / groupsPerVersion}; the rule keeps that within {@code maxStaleness} of the newest
 * version the trainer has published. {@code maxStaleness} 0 is synchronous: one version's worth of groups,
 * then wait for the next version. Not thread-safe: the sampling thread owns it.
 *
 * <p>A group that will never be trained (expired at the reward-service, dead-lettered by the trainer) never takes
 * its place in a batch, so the trainer fills that place with a group admitted later. Counted as admitted, each such
 * group would shrink the generator's lead for good, and once {@code maxStaleness · groupsPerVersion} of them were
 * lost no batch could fill and the loop would stop (a scorer started a group timeout after the generator expires
 * the whole first lead). {@link #lost} gives such a group's place back. Only this gate's own groups count: a
 * generator restarted under its old id starts a fresh count, and its earlier groups are not in it.
 */
final class AdmissionGate {
    private final int maxStaleness;
    private final int groupsPerVersion;
    private final long startVersion;
    /** Group ids this gate admitted that may still be lost, oldest first, at most {@link #REMEMBERED}. */
    private final LinkedHashSet<String> unresolved = new LinkedHashSet<>();
    private long latestVersion;
    private long admittedGroups;
    private long lostGroups;

    /**
     * Admitted group ids kept for {@link #lost}. A group is lost within the reward-service's group timeout of its
     * rollouts (60 s by default) or when the trainer reads it; by then a generator has admitted far fewer.
     */
    static final int REMEMBERED = 65_536;

    /**
     * @param startVersion the policy version the generator starts with; groups are counted from it
     */
    AdmissionGate(int maxStaleness, int groupsPerVersion, long startVersion) {
        if (maxStaleness < 0) throw new IllegalArgumentException("maxStaleness must be >= 0, got " + maxStaleness);
        if (groupsPerVersion < 1) throw new IllegalArgumentException("groupsPerVersion must be >= 1, got " + groupsPerVersion);
        if (startVersion < 0) throw new IllegalArgumentException("startVersion must be >= 0, got " + startVersion);
        this.maxStaleness = maxStaleness;
        this.groupsPerVersion = groupsPerVersion;
        this.startVersion = startVersion;
        this.latestVersion = startVersion;
    }

    /** The trainer published {@code version}; older or repeated versions change nothing. */
    void versionPublished(long version) {
        latestVersion = Math.max(latestVersion, version);
    }

    /**
     * The latest published version once {@code version} arrived whole but could not be loaded: one past
     * {@code latest} at most. The trainer publishes versions in order, so a real version that fails here is the next
     * one; a damaged or forged record claiming a far version must not open admission that far.
     */
    static long afterUnloadable(long latest, long version) {
        return Math.max(latest, Math.min(version, latest + 1));
    }

    /** Groups admitted so far may grow to this before the gate closes. */
    long capacity() {
        return (latestVersion - startVersion + maxStaleness + 1) * groupsPerVersion;
    }

    /** How many more groups may be admitted now; 0 when the gate is closed. */
    long remaining() {
        return Math.max(0, capacity() - (admittedGroups - lostGroups));
    }

    boolean isOpen() {
        return remaining() > 0;
    }

    /** Counts the groups of {@code groupIds} as admitted (after they were written). */
    void admitted(Collection<String> groupIds) {
        for (String id : groupIds) {
            admittedGroups++;
            unresolved.add(id);
            if (unresolved.size() > REMEMBERED) {
                Iterator<String> oldest = unresolved.iterator();
                oldest.next();
                oldest.remove();
            }
        }
    }

    /**
     * Group {@code groupId} will never be trained: when this gate admitted it, its place is free again.
     *
     * @return whether it was one of this gate's groups not already given back
     */
    boolean lost(String groupId) {
        if (!unresolved.remove(groupId)) return false;
        lostGroups++;
        return true;
    }

    /**
     * The group a dead letter says will never be trained, if it says so: one about a whole group rather than one of
     * its records ({@link DeadLetters#aboutGroup}: the reward-service expired the group or could not score it), or any
     * dead letter of a scored group (the trainer could not train it). Other dead letters (a duplicate or late reward,
     * a bad prompt) leave their group, if any, to be trained.
     */
    static Optional<String> neverTrained(DeadLetter letter, String rolloutsTopic, String scoredGroupsTopic) {
        boolean lost = DeadLetters.isAboutGroup(letter, rolloutsTopic) || scoredGroupsTopic.equals(letter.getSourceTopic());
        return lost ? Optional.ofNullable(DeadLetters.groupId(letter)) : Optional.empty();
    }

    long admittedGroups() {
        return admittedGroups;
    }

    /** Admitted groups given back by {@link #lost}. */
    long lostGroups() {
        return lostGroups;
    }

    long latestVersion() {
        return latestVersion;
    }
}
