package dev.rlkafka.trainer;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * The trainer's counters as a checkpoint stores them (besides weights and optimiser state): steps, the
 * policy version, and the audit of every group consumed. Always taken at a version boundary.
 *
 * @param step          optimiser steps taken in total
 * @param policyVersion the version whose weights the checkpoint holds
 * @param trained       groups trained on
 * @param dropped       groups dropped as stale
 * @param deadLettered  records sent to the dead-letter topic (group id, or partition@offset when undecodable)
 * @param droppedByGenerator the groups of {@code dropped} by the id of the generator that sampled them: each
 *                      published version carries it, and a generator's admission gate counts its own as room
 */
public record TrainerState(long step, long policyVersion, Audit trained, Audit dropped, Audit deadLettered,
                           Map<String, Long> droppedByGenerator) {

    public static final TrainerState INITIAL = new TrainerState(0, 0, Audit.EMPTY, Audit.EMPTY, Audit.EMPTY, Map.of());

    static final String STEP = "trainer.step";
    static final String POLICY_VERSION = "trainer.policyVersion";
    static final String DROPPED_BY_GENERATOR = "dropped.generator.";

    public TrainerState {
        if (step < 0) throw new IllegalArgumentException("step must be >= 0, got " + step);
        if (policyVersion < 0) throw new IllegalArgumentException("policyVersion must be >= 0, got " + policyVersion);
        droppedByGenerator = Collections.unmodifiableSortedMap(new TreeMap<>(droppedByGenerator));
    }

    /** String metadata for a {@code Checkpoint}. */
    public Map<String, String> toMetadata() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put(STEP, Long.toString(step));
        m.put(POLICY_VERSION, Long.toString(policyVersion));
        put(m, "trained", trained);
        put(m, "dropped", dropped);
        put(m, "deadLettered", deadLettered);
        droppedByGenerator.forEach((generator, count) -> m.put(DROPPED_BY_GENERATOR + generator, Long.toString(count)));
        return m;
    }

    /**
     * @param source where the metadata came from, for the error message (e.g. the checkpoint path); a checkpoint
     *               written before drops were counted by generator has none, and starts them from zero
     */
    public static TrainerState fromMetadata(Map<String, String> m, String source) {
        try {
            Map<String, Long> droppedByGenerator = new TreeMap<>();
            for (String key : m.keySet()) {
                if (key.startsWith(DROPPED_BY_GENERATOR)) {
                    droppedByGenerator.put(key.substring(DROPPED_BY_GENERATOR.length()), number(m, key, source));
                }
            }
            return new TrainerState(number(m, STEP, source), number(m, POLICY_VERSION, source), audit(m, "trained", source),
                    audit(m, "dropped", source), audit(m, "deadLettered", source), droppedByGenerator);
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
