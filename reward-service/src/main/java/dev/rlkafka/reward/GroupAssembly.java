package dev.rlkafka.reward;

import dev.rlkafka.policy.loss.Advantages;
import dev.rlkafka.schemas.DeadLetters;
import dev.rlkafka.schemas.avro.Reward;
import dev.rlkafka.schemas.avro.Rollout;
import dev.rlkafka.schemas.avro.ScoredGroup;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;

/**
 * The group state machine: what a rollout, a reward or the passing of time does to one {@link GroupState}.
 *
 * <p>A group is <em>complete</em> when all G rollouts are there and each has a score from every required
 * scorer. It is then emitted at once when every optional scorer also scored every rollout, else after
 * {@code optionalGrace} with the silent ones in {@code missingScorers}. An optional scorer counts only when
 * it scored <em>every</em> rollout: weighting it into some rewards of a group but not others would skew the
 * group's advantages. A group not complete {@code groupTimeout} after its first record expires (or after the
 * service resumed, if it restarted since). All times are wall-clock ms passed in by the caller; nothing here
 * reads a clock.
 */
final class GroupAssembly {
    public static final String NON_FINITE_SCORE = "NON_FINITE_SCORE";
    public static final String UNKNOWN_ROLLOUT = "UNKNOWN_ROLLOUT";
    public static final String LATE_REWARD = "LATE_REWARD";
    public static final String LATE_ROLLOUT = "LATE_ROLLOUT";
    public static final String DUPLICATE_REWARD = "DUPLICATE_REWARD";
    public static final String GROUP_SIZE_MISMATCH = "GROUP_SIZE_MISMATCH";
    public static final String GROUP_TIMEOUT = DeadLetters.GROUP_TIMEOUT;
    public static final String KEY_MISMATCH = "KEY_MISMATCH";

    /** Longest list of missing items a timeout reason spells out. */
    private static final int MAX_LISTED = 20;

    /** What became of the group after a step. */
    enum Outcome {
        /** Still waiting: keep the state. */
        PENDING,
        /** Emitted as a ScoredGroup: delete the state, remember the id. */
        EMITTED,
        /** Given up on: delete the state, remember the id. */
        EXPIRED
    }

    /**
     * The result of one step.
     *
     * @param emitted    the scored group, when {@code outcome} is EMITTED
     * @param rejections inputs to dead-letter, in order
     */
    record Step(Outcome outcome, Optional<ScoredGroup> emitted, List<Rejection> rejections) {
        static Step pending(List<Rejection> rejections) {
            return new Step(Outcome.PENDING, Optional.empty(), rejections);
        }

        boolean closed() {
            return outcome != Outcome.PENDING;
        }
    }

    private final Map<String, Double> required;
    private final Map<String, Double> optional;
    private final long optionalGraceMs;
    private final long groupTimeoutMs;
    private final boolean divideByStd;
    private final double eps;

    GroupAssembly(Map<String, Double> required, Map<String, Double> optional, long optionalGraceMs,
                  long groupTimeoutMs, boolean divideByStd, double eps) {
        this.required = Map.copyOf(required);
        this.optional = Map.copyOf(optional);
        this.optionalGraceMs = optionalGraceMs;
        this.groupTimeoutMs = groupTimeoutMs;
        this.divideByStd = divideByStd;
        this.eps = eps;
    }

    static GroupAssembly of(RewardConfig config) {
        return new GroupAssembly(config.requiredScorers(), config.optionalScorers(), config.optionalGrace().toMillis(),
                config.groupTimeout().toMillis(), config.divideByStd(), config.advantageEps());
    }

    /** Adds one rollout of {@code group} (whose id the caller matched to the rollout's). */
    Step addRollout(GroupState group, Rollout rollout, Origin origin, long nowMs) {
        String id = rollout.getRolloutId();
        int size = rollout.getGroupSize();
        int index = rollout.getIndex();
        String problem = null;
        if (size < 1) {
            problem = "groupSize %d of rollout %s must be >= 1".formatted(size, id);
        } else if (group.groupSize() != 0 && size != group.groupSize()) {
            problem = "rollout %s says groupSize %d but group %s has groupSize %d from its earlier rollouts"
                    .formatted(id, size, group.groupId(), group.groupSize());
        } else if (index < 0 || index >= size) {
            problem = "index %d of rollout %s is outside [0, %d) for groupSize %d".formatted(index, id, size, size);
        } else if (group.rollouts().containsKey(index)) {
            problem = "rollout %s has index %d, already taken by rollout %s of group %s"
                    .formatted(id, index, group.rollouts().get(index).getRolloutId(), group.groupId());
        } else if (group.hasRollout(id)) {
            problem = "rollout %s arrived twice in group %s (second time with index %d)".formatted(id, group.groupId(), index);
        }
        if (problem != null) {
            return Step.pending(List.of(new Rejection(GROUP_SIZE_MISMATCH, problem + " (" + origin + ")", origin, group.groupId())));
        }
        group.putRollout(rollout);
        return afterChange(group, nowMs, new ArrayList<>());
    }

    /** Adds one reward for a rollout of {@code group}; it may come before its rollout. */
    Step addReward(GroupState group, Reward reward, Origin origin, long nowMs) {
        String rolloutId = reward.getRolloutId();
        String scorerId = reward.getScorerId();
        double score = reward.getScore();
        if (!Double.isFinite(score)) {
            return reject(NON_FINITE_SCORE, "score %s from scorer %s for rollout %s is not finite (%s)"
                    .formatted(score, scorerId, rolloutId, origin), origin, group);
        }
        Double first = group.score(rolloutId, scorerId);
        if (first != null) {
            return reject(DUPLICATE_REWARD, "scorer %s already scored rollout %s with %s; this second score %s is dropped (%s)"
                    .formatted(scorerId, rolloutId, first, score, origin), origin, group);
        }
        boolean rolloutHere = group.hasRollout(rolloutId);
        if (!rolloutHere && group.rolloutsComplete()) {
            return reject(UNKNOWN_ROLLOUT, "reward from scorer %s names rollout %s, which is not one of the %d rollouts of group %s (%s)"
                    .formatted(scorerId, rolloutId, group.groupSize(), group.groupId(), origin), origin, group);
        }
        group.putScore(rolloutId, scorerId, score, rolloutHere ? null : origin);
        return afterChange(group, nowMs, new ArrayList<>());
    }

    /**
     * What the passing of time does: ends the optional grace, or expires the group. Both clocks start no earlier
     * than {@code resumedAtMs}, when this service last started work on the group (a restart restores it): the
     * time the service was down is not time the scorers had to answer, and their answers may be waiting unread
     * on the topic.
     */
    Step tick(GroupState group, long nowMs, long resumedAtMs) {
        if (group.requiredCompleteMs() >= 0 && nowMs - Math.max(group.requiredCompleteMs(), resumedAtMs) >= optionalGraceMs) {
            return emit(group, new ArrayList<>());
        }
        if (nowMs - Math.max(group.firstSeenMs(), resumedAtMs) < groupTimeoutMs) {
            return Step.pending(List.of());
        }
        if (group.requiredCompleteMs() >= 0) {
            return emit(group, new ArrayList<>());  // grace longer than what was left of the timeout
        }
        List<Rejection> rejections = new ArrayList<>();
        if (!group.rollouts().isEmpty()) {
            String resumed = resumedAtMs > group.firstSeenMs() ? " and %d ms after this service resumed".formatted(nowMs - resumedAtMs) : "";
            rejections.add(new Rejection(GROUP_TIMEOUT, "group %s expired %d ms after its first record%s (groupTimeout) without every required score: %s"
                    .formatted(group.groupId(), nowMs - group.firstSeenMs(), resumed, describeMissing(group)), null, group.groupId()));
        }
        for (GroupState.HeldReward h : group.removeHeld()) {
            rejections.add(new Rejection(UNKNOWN_ROLLOUT, "reward from scorer %s names rollout %s, which did not arrive in group %s within groupTimeout %d ms (%s)"
                    .formatted(h.scorerId(), h.rolloutId(), group.groupId(), groupTimeoutMs, h.origin()), h.origin(), group.groupId()));
        }
        return new Step(Outcome.EXPIRED, Optional.empty(), rejections);
    }

    /** The ScoredGroup of a complete group, now; optional scorers that did not score every rollout are missing. */
    ScoredGroup scoredGroup(GroupState group) {
        if (!requiredComplete(group)) {
            throw new IllegalStateException("group " + group.groupId() + " is not complete: " + describeMissing(group));
        }
        List<Rollout> rollouts = new ArrayList<>(group.rollouts().values());
        Map<String, Double> weights = new LinkedHashMap<>(required);
        TreeSet<String> missing = new TreeSet<>();
        for (var e : optional.entrySet()) {
            boolean answered = rollouts.stream().allMatch(r -> group.score(r.getRolloutId(), e.getKey()) != null);
            if (answered) weights.put(e.getKey(), e.getValue());
            else missing.add(e.getKey());
        }
        double[] rewards = new double[rollouts.size()];
        List<Map<String, Double>> scores = new ArrayList<>();
        for (int i = 0; i < rollouts.size(); i++) {
            String rolloutId = rollouts.get(i).getRolloutId();
            for (var w : weights.entrySet()) rewards[i] += w.getValue() * group.score(rolloutId, w.getKey());
            scores.add(new LinkedHashMap<>(group.scoresOf(rolloutId)));  // unconfigured scorers too, unweighted
        }
        double[] advantages = Advantages.groupNormalised(rewards, divideByStd, eps);
        Rollout first = rollouts.get(0);
        return ScoredGroup.newBuilder()
                .setGroupId(group.groupId())
                .setPromptId(first.getPromptId())
                .setTask(first.getTask())
                .setRollouts(rollouts)
                .setRewards(boxed(rewards))
                .setAdvantages(boxed(advantages))
                .setScores(scores)
                .setMissingScorers(new ArrayList<>(missing))
                .setCompletedAtMs(Instant.ofEpochMilli(group.requiredCompleteMs()))
                .build();
    }

    /** All G rollouts here, each with a score from every required scorer. */
    boolean requiredComplete(GroupState group) {
        if (!group.rolloutsComplete()) return false;
        for (Rollout r : group.rollouts().values()) {
            if (!group.scoresOf(r.getRolloutId()).keySet().containsAll(required.keySet())) return false;
        }
        return true;
    }

    private boolean optionalComplete(GroupState group) {
        for (Rollout r : group.rollouts().values()) {
            if (!group.scoresOf(r.getRolloutId()).keySet().containsAll(optional.keySet())) return false;
        }
        return true;
    }

    private Step afterChange(GroupState group, long nowMs, List<Rejection> rejections) {
        if (group.rolloutsComplete()) {
            // every rollout is here: a reward still held names a rollout the group does not have
            for (GroupState.HeldReward h : group.removeHeld()) {
                rejections.add(new Rejection(UNKNOWN_ROLLOUT, "reward from scorer %s names rollout %s, which is not one of the %d rollouts of group %s (%s)"
                        .formatted(h.scorerId(), h.rolloutId(), group.groupSize(), group.groupId(), h.origin()), h.origin(), group.groupId()));
            }
        }
        if (!requiredComplete(group)) return Step.pending(rejections);
        group.markRequiredComplete(nowMs);
        if (optionalComplete(group) || nowMs - group.requiredCompleteMs() >= optionalGraceMs) {
            return emit(group, rejections);
        }
        return Step.pending(rejections);
    }

    private Step emit(GroupState group, List<Rejection> rejections) {
        ScoredGroup scored;
        try {
            scored = scoredGroup(group);
        } catch (IllegalArgumentException e) {
            // finite scores times finite weights can still overflow to ±∞ in the sum
            rejections.add(new Rejection(NON_FINITE_SCORE, "group %s cannot be scored: %s (scores %s, weights required %s optional %s)"
                    .formatted(group.groupId(), e.getMessage(), group.scores(), required, optional), null, group.groupId()));
            return new Step(Outcome.EXPIRED, Optional.empty(), rejections);
        }
        return new Step(Outcome.EMITTED, Optional.of(scored), rejections);
    }

    private static Step reject(String errorType, String reason, Origin origin, GroupState group) {
        return Step.pending(List.of(new Rejection(errorType, reason, origin, group.groupId())));
    }

    /** "rollouts 2/4 arrived (missing indices [1, 3]); missing required scores: g/0 [format], ..." */
    private String describeMissing(GroupState group) {
        StringBuilder out = new StringBuilder();
        if (group.groupSize() == 0) {
            out.append("no rollout arrived");
        } else {
            List<Integer> missingIndices = new ArrayList<>();
            for (int i = 0; i < group.groupSize() && missingIndices.size() < MAX_LISTED; i++) {
                if (!group.rollouts().containsKey(i)) missingIndices.add(i);
            }
            out.append("rollouts %d/%d arrived".formatted(group.rollouts().size(), group.groupSize()));
            if (!missingIndices.isEmpty()) out.append(" (missing indices ").append(missingIndices).append(')');
        }
        List<String> missingScores = new ArrayList<>();
        for (Rollout r : group.rollouts().values()) {
            TreeSet<String> lacking = new TreeSet<>(required.keySet());
            lacking.removeAll(group.scoresOf(r.getRolloutId()).keySet());
            if (!lacking.isEmpty() && missingScores.size() < MAX_LISTED) missingScores.add(r.getRolloutId() + " " + lacking);
        }
        if (!missingScores.isEmpty()) out.append("; missing required scores: ").append(String.join(", ", missingScores));
        return out.toString();
    }

    private static List<Double> boxed(double[] values) {
        List<Double> out = new ArrayList<>(values.length);
        for (double v : values) out.add(v);
        return out;
    }

    @Override
    public String toString() {
        return "GroupAssembly[required=" + required + ", optional=" + optional + ", grace=" + optionalGraceMs
                + " ms, timeout=" + groupTimeoutMs + " ms, divideByStd=" + divideByStd + ", eps=" + eps + "]";
    }
}
