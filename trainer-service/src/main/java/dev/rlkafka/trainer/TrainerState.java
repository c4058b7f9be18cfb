package dev.rlkafka.trainer;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The trainer's counters as a checkpoint stores them (besides weights and optimiser state): steps, the
 * policy version, and the audit of every group consumed. Always taken at a version boundary.
 *
 * @param step          optimiser steps taken in total
 * @param policyVersion the version whose weights the checkpoint holds
 * @param trained       groups trained on
 * @param dropped       groups dropped as stale
 * @param deadLettered  records sent to the dead-letter topic (group id, or partition@offset when undecodable)
 */
public record TrainerState(long step, long policyVersion, Audit trained, Audit dropped, Audit deadLettered) {

    public static final TrainerState INITIAL = new TrainerState(0, 0, Audit.EMPTY, Audit.EMPTY, Audit.EMPTY);

    static final String STEP = "trainer.step";
    static final String POLICY_VERSION = "trainer.policyVersion";

    public TrainerState {
        if (step < 0) throw new IllegalArgumentException("step must be >= 0, got " + step);
        if (policyVersion < 0) throw new IllegalArgumentException("policyVersion must be >= 0, got " + policyVersion);
    }

    /** String metadata for a {@code Checkpoint}. */
    public Map<String, String> toMetadata() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put(STEP, Long.toString(step));
        m.put(POLICY_VERSION, Long.toString(policyVersion));
        put(m, "trained", trained);
        put(m, "dropped", dropped);
        put(m, "deadLettered", deadLettered);
        return m;
    }

    /** @param source where the metadata came from, for the error message (e.g. the checkpoint path) */
    public static TrainerState fromMetadata(Map<String, String> m, String source) {
        try {
            return new TrainerState(number(m, STEP, source), number(m, POLICY_VERSION, source), audit(m, "trained", source),
                    audit(m, "dropped", source), audit(m, "deadLettered", source));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(source + ": " + e.getMessage(), e);
        }
    }

    private static void put(Map<String, String> m, String name, Audit audit) {
        m.put("audit." + name + ".count", Long.toString(audit.count()));
        m.put("audit." + name + ".hash", Long.toString(audit.hash()));
    }

    private static Audit audit(Map<String, String> m, String name, String source) {
        return new Audit(number(m, "audit." + name + ".count", source), number(m, "audit." + name + ".hash", source));
    }

    private static long number(Map<String, String> m, String key, String source) {
        String value = m.get(key);
        if (value == null) throw new IllegalArgumentException("metadata key " + key + " is missing in " + source);
        try {
            return Long.parseLong(value);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("metadata " + key + " = '" + value + "' is not a long in " + source);
        }
    }
}
