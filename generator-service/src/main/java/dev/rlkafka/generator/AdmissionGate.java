package dev.rlkafka.generator;

/**
 * Bounded staleness at admission (AReaL, Fu et al. 2025, §5): a new prompt is admitted only while
 * {@code admittedGroups < (latestVersion − startVersion + maxStaleness + 1) · groupsPerVersion}.
 *
 * <p>The trainer turns {@code groupsPerVersion} groups into one new policy version, so the group admitted
 * as number {@code n} (0-based, counted from {@code startVersion}) is trained on at version
 * {@code startVersion + n / groupsPerVersion}; the rule keeps that within {@code maxStaleness} of the newest
 * version the trainer has published. {@code maxStaleness} 0 is synchronous: one version's worth of groups,
 * then wait for the next version. Not thread-safe: the sampling thread owns it.
 */
final class AdmissionGate {
    private final int maxStaleness;
    private final int groupsPerVersion;
    private final long startVersion;
    private long latestVersion;
    private long admittedGroups;

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
        return Math.max(0, capacity() - admittedGroups);
    }

    boolean isOpen() {
        return remaining() > 0;
    }

    /** Counts {@code groups} more admitted groups (after they were written). */
    void admitted(int groups) {
        if (groups < 0) throw new IllegalArgumentException("groups must be >= 0, got " + groups);
        admittedGroups += groups;
    }

    long admittedGroups() {
        return admittedGroups;
    }

    long latestVersion() {
        return latestVersion;
    }
}
