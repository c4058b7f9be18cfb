package dev.rlkafka.cli.observe;

import dev.rlkafka.schemas.avro.Metric;
import dev.rlkafka.schemas.avro.Reward;
import dev.rlkafka.schemas.avro.Rollout;
import dev.rlkafka.schemas.avro.ScoredGroup;
import dev.rlkafka.schemas.avro.WeightChunk;
import org.apache.avro.specific.SpecificRecord;

import java.util.EnumSet;
import java.util.Set;

/**
 * Which records {@code tail} shows: by group id, policy version and scorer id; an unset filter lets every
 * record through. Each filter applies only to the kinds of record that carry the value, and asking for it on
 * another kind is an error ({@link #checkAppliesTo}) rather than a tail that silently shows nothing.
 *
 * @param groupId       group id, or null for any
 * @param policyVersion policy version, or null for any (a scored group matches when any of its rollouts does)
 * @param scorerId      scorer id, or null for any (a scored group matches when any rollout has its score)
 */
public record RecordFilter(String groupId, Long policyVersion, String scorerId) {
    public static final RecordFilter NONE = new RecordFilter(null, null, null);

    private static final Set<TopicKind> WITH_GROUP = EnumSet.of(TopicKind.ROLLOUTS, TopicKind.REWARDS, TopicKind.SCORED_GROUPS);
    private static final Set<TopicKind> WITH_VERSION = EnumSet.of(TopicKind.ROLLOUTS, TopicKind.SCORED_GROUPS,
            TopicKind.POLICY_WEIGHTS, TopicKind.METRICS);
    private static final Set<TopicKind> WITH_SCORER = EnumSet.of(TopicKind.REWARDS, TopicKind.SCORED_GROUPS);

    /** @throws IllegalArgumentException naming the option when a set filter cannot apply to {@code kind}'s records */
    public void checkAppliesTo(TopicKind kind) {
        check("--group", groupId != null, WITH_GROUP, kind);
        check("--version", policyVersion != null, WITH_VERSION, kind);
        check("--scorer", scorerId != null, WITH_SCORER, kind);
    }

    private static void check(String option, boolean set, Set<TopicKind> kinds, TopicKind kind) {
        if (set && !kinds.contains(kind)) {
            throw new IllegalArgumentException(option + " applies to " + kinds.stream().map(TopicKind::shortName).toList()
                    + " records, not to " + kind.shortName());
        }
    }

    public boolean matches(SpecificRecord value) {
        return (groupId == null || groupId.equals(groupOf(value)))
                && (policyVersion == null || hasVersion(value, policyVersion))
                && (scorerId == null || hasScorer(value, scorerId));
    }

    private static String groupOf(SpecificRecord value) {
        if (value instanceof Rollout r) return r.getGroupId();
        if (value instanceof Reward r) return r.getGroupId();
        if (value instanceof ScoredGroup g) return g.getGroupId();
        return null;
    }

    private static boolean hasVersion(SpecificRecord value, long version) {
        if (value instanceof Rollout r) return r.getPolicyVersion() == version;
        if (value instanceof ScoredGroup g) return g.getRollouts().stream().anyMatch(r -> r.getPolicyVersion() == version);
        if (value instanceof WeightChunk c) return c.getVersion() == version;
        if (value instanceof Metric m) return m.getPolicyVersion() == version;
        return false;
    }

    private static boolean hasScorer(SpecificRecord value, String scorer) {
        if (value instanceof Reward r) return scorer.equals(r.getScorerId());
        if (value instanceof ScoredGroup g) return g.getScores().stream().anyMatch(scores -> scores.containsKey(scorer));
        return false;
    }
}
