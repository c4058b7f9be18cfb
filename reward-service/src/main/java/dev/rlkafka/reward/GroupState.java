package dev.rlkafka.reward;

import dev.rlkafka.schemas.avro.Rollout;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * One group being assembled: the rollouts and scores that arrived so far. Mutable and not thread-safe;
 * {@link GroupAssembly} decides what a new record does to it. Times are wall-clock ms.
 */
final class GroupState {
    /** A score whose rollout had not arrived when it came, with its record for a possible dead letter. */
    record HeldReward(String rolloutId, String scorerId, Origin origin) {
    }

    private final String groupId;
    private final long firstSeenMs;
    private int groupSize;
    private long requiredCompleteMs;
    private final NavigableMap<Integer, Rollout> rolloutsByIndex = new TreeMap<>();
    private final Map<String, Integer> indexByRolloutId = new LinkedHashMap<>();
    /**
     * Rollouts in the store's encoding, by index, made once each: the group is written to its store after
     * every record, and encoding all its rollouts each time made assembly quadratic in G.
     */
    private final Map<Integer, byte[]> encodedByIndex = new HashMap<>();
    /** rolloutId → scorerId → first score, in arrival order. */
    private final Map<String, Map<String, Double>> scores = new LinkedHashMap<>();
    private final List<HeldReward> held = new ArrayList<>();

    /** A new group, first seen at {@code firstSeenMs}, with nothing in it. */
    GroupState(String groupId, long firstSeenMs) {
        this(groupId, firstSeenMs, 0, -1);
    }

    /** For the store codec: a group with these settings and no records yet. */
    GroupState(String groupId, long firstSeenMs, int groupSize, long requiredCompleteMs) {
        if (groupId == null) throw new IllegalArgumentException("groupId must not be null");
        if (groupSize < 0) throw new IllegalArgumentException("groupSize of group " + groupId + " must be >= 0, got " + groupSize);
        this.groupId = groupId;
        this.firstSeenMs = firstSeenMs;
        this.groupSize = groupSize;
        this.requiredCompleteMs = requiredCompleteMs;
    }

    String groupId() {
        return groupId;
    }

    long firstSeenMs() {
        return firstSeenMs;
    }

    /** G, taken from the group's first rollout; 0 while none has arrived. */
    int groupSize() {
        return groupSize;
    }

    /** When every rollout first had every required score; -1 until then. */
    long requiredCompleteMs() {
        return requiredCompleteMs;
    }

    void markRequiredComplete(long nowMs) {
        if (requiredCompleteMs < 0) requiredCompleteMs = nowMs;
    }

    /** Rollouts by index, ascending. */
    NavigableMap<Integer, Rollout> rollouts() {
        return Collections.unmodifiableNavigableMap(rolloutsByIndex);
    }

    /** The rollout at {@code index} as {@code encoder} encodes it, encoded on the first call only. */
    byte[] encodedRollout(int index, Function<Rollout, byte[]> encoder) {
        Rollout rollout = rolloutsByIndex.get(index);
        if (rollout == null) throw new IllegalArgumentException("group " + groupId + " has no rollout at index " + index);
        return encodedByIndex.computeIfAbsent(index, i -> encoder.apply(rollout));
    }

    boolean hasRollout(String rolloutId) {
        return indexByRolloutId.containsKey(rolloutId);
    }

    /** Whether all G rollouts are here. */
    boolean rolloutsComplete() {
        return groupSize > 0 && rolloutsByIndex.size() == groupSize;
    }

    /** Adds a rollout already checked by {@link GroupAssembly}. */
    void putRollout(Rollout rollout) {
        if (groupSize == 0) groupSize = rollout.getGroupSize();
        if (rollout.getGroupSize() != groupSize || rolloutsByIndex.containsKey(rollout.getIndex())) {
            throw new IllegalStateException("rollout " + rollout.getRolloutId() + " was not checked against group " + groupId);
        }
        rolloutsByIndex.put(rollout.getIndex(), rollout);
        indexByRolloutId.put(rollout.getRolloutId(), rollout.getIndex());
        held.removeIf(h -> h.rolloutId().equals(rollout.getRolloutId()));
    }

    /** The first score of {@code scorerId} for {@code rolloutId}, or null. */
    Double score(String rolloutId, String scorerId) {
        Map<String, Double> byScorer = scores.get(rolloutId);
        return byScorer == null ? null : byScorer.get(scorerId);
    }

    /** Scores by scorer of one rollout (empty when none). */
    Map<String, Double> scoresOf(String rolloutId) {
        return Collections.unmodifiableMap(scores.getOrDefault(rolloutId, Map.of()));
    }

    /** Every score: rolloutId → scorerId → score. */
    Map<String, Map<String, Double>> scores() {
        return Collections.unmodifiableMap(scores);
    }

    /** Records a first score; {@code heldOrigin} non-null when its rollout has not arrived yet. */
    void putScore(String rolloutId, String scorerId, double score, Origin heldOrigin) {
        Map<String, Double> byScorer = scores.computeIfAbsent(rolloutId, id -> new LinkedHashMap<>());
        if (byScorer.putIfAbsent(scorerId, score) != null) {
            throw new IllegalStateException("duplicate score of " + scorerId + " for " + rolloutId + " was not checked");
        }
        if (heldOrigin != null) held.add(new HeldReward(rolloutId, scorerId, heldOrigin));
    }

    /** Scores of rewards whose rollout has not arrived. */
    List<HeldReward> held() {
        return Collections.unmodifiableList(held);
    }

    /** Drops the held rewards and their scores (they have been rejected). */
    List<HeldReward> removeHeld() {
        List<HeldReward> removed = List.copyOf(held);
        for (HeldReward h : removed) {
            Map<String, Double> byScorer = scores.get(h.rolloutId());
            if (byScorer != null) {
                byScorer.remove(h.scorerId());
                if (byScorer.isEmpty()) scores.remove(h.rolloutId());
            }
        }
        held.clear();
        return removed;
    }
}
