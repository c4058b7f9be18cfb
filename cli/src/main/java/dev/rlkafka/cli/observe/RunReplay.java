package dev.rlkafka.cli.observe;

import dev.rlkafka.schemas.avro.DeadLetter;
import dev.rlkafka.schemas.avro.Metric;
import dev.rlkafka.schemas.avro.Reward;
import dev.rlkafka.schemas.avro.Rollout;
import dev.rlkafka.schemas.avro.ScoredGroup;
import dev.rlkafka.trainer.StepResult;
import dev.rlkafka.trainer.TrainerService;
import org.apache.avro.specific.SpecificRecord;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Rebuilds a run's story from its records, read once from the beginning: per policy version the reward and
 * accuracy of the rollouts it sampled (from the scored groups), per trainer step what the trainer reported
 * live (its {@code trainer.step} metrics), the staleness of trained groups, what each scorer gave, and why
 * records were dead-lettered. Feed it every record ({@link #accept}), in any order across topics, then take
 * the {@link #result()}.
 *
 * <p>Records the services may write more than once are counted once: a rollout by its id, a scored group by
 * its group id, a reward by (rollout, scorer), keeping the first as the reward-service did. A trainer step's
 * metric repeats when a restarted trainer re-trains the steps after its last checkpoint (at least once,
 * see {@code TrainerService}); the last one wins, since its weights are the ones later versions build on.
 */
public final class RunReplay {
    /** Trainer metric names {@code staleness_<k>}: groups of the step that were k versions stale. */
    static final String STALENESS = "staleness_";
    /** How many messages of undecodable records the result keeps. */
    static final int UNDECODABLE_EXAMPLES = 5;

    /**
     * The rollouts one policy version sampled.
     *
     * @param rollouts       on the rollouts topic
     * @param scoredRollouts in scored groups (each group counted once)
     * @param rewardMean     mean final reward of the scored rollouts; NaN when none
     * @param accuracy       fraction of the scored rollouts with an exact-answer score that have it >= 1, as the
     *                       trainer counts accuracy; NaN when none has one
     * @param scorerMeans    per scorer id, the mean of its raw scores over the scored rollouts
     */
    public record VersionStats(long policyVersion, long rollouts, long scoredGroups, long scoredRollouts,
                               double rewardMean, double accuracy, Map<String, Double> scorerMeans) {
        public VersionStats {
            scorerMeans = Collections.unmodifiableMap(new TreeMap<>(scorerMeans));
        }
    }

    /** What the trainer reported for one step (metric names as in {@code TrainerService}: reward_mean, kl, ...). */
    public record StepStats(long step, long policyVersion, String serviceId, Map<String, Double> values) {
        public StepStats {
            values = Collections.unmodifiableMap(new TreeMap<>(values));
        }

        /** A value, NaN when the step did not report it (accuracy without exact-answer scores). */
        public double value(String name) {
            return values.getOrDefault(name, Double.NaN);
        }
    }

    /** One scorer's rewards on the rewards topic; duplicates (same rollout again) are counted, not averaged. */
    public record ScorerStats(String scorerId, long count, double mean, double min, double max, long duplicates) {
    }

    /** Dead letters of one error type, with the first one's reason as an example. */
    public record DeadLetterStats(String errorType, long count, String exampleReason) {
    }

    /**
     * A run's story.
     *
     * @param stalenessHistogram trained groups by staleness 0, 1, ... summed over the steps
     * @param repeatedSteps      trainer step metrics seen more than once (re-trained after a restart)
     * @param metricsByKind      every metric event by {@code serviceId/kind}
     * @param undecodableExamples messages of the first records that did not decode
     */
    public record Replay(long rollouts, long rewards, long scoredGroups, long metrics, long deadLetters, long undecodable,
                         List<VersionStats> versions, List<StepStats> steps, long repeatedSteps,
                         List<Long> stalenessHistogram, long droppedStale, List<ScorerStats> scorers,
                         List<DeadLetterStats> deadLetterTypes, Map<String, Long> metricsByKind,
                         List<String> undecodableExamples) {
        public Replay {
            versions = List.copyOf(versions);
            steps = List.copyOf(steps);
            stalenessHistogram = List.copyOf(stalenessHistogram);
            scorers = List.copyOf(scorers);
            deadLetterTypes = List.copyOf(deadLetterTypes);
            metricsByKind = Collections.unmodifiableMap(new TreeMap<>(metricsByKind));
            undecodableExamples = List.copyOf(undecodableExamples);
        }
    }

    private static final class VersionSums {
        long rollouts, scoredGroups, scoredRollouts, withAnswer, correct;
        double rewardSum;
        final Map<String, double[]> scorerSums = new TreeMap<>();   // id -> {sum, count}
    }

    private static final class ScorerSums {
        long count, duplicates;
        double sum, min = Double.POSITIVE_INFINITY, max = Double.NEGATIVE_INFINITY;
    }

    private final Set<String> rolloutIds = new HashSet<>();
    private final Set<String> groupIds = new HashSet<>();
    private final Set<String> scoredPairs = new HashSet<>();
    private final TreeMap<Long, VersionSums> versions = new TreeMap<>();
    private final TreeMap<Long, StepStats> steps = new TreeMap<>();
    private final Map<String, ScorerSums> scorers = new TreeMap<>();
    private final Map<String, DeadLetterStats> deadLetterTypes = new TreeMap<>();
    private final Map<String, Long> metricsByKind = new TreeMap<>();
    private final List<String> undecodableExamples = new ArrayList<>();
    private long rewards, metrics, deadLetters, undecodable, repeatedSteps;

    /** Takes one decoded record of any of the run's topics; prompts and weight chunks are not part of the story. */
    public void accept(SpecificRecord value) {
        if (value instanceof Rollout r) rollout(r);
        else if (value instanceof Reward r) reward(r);
        else if (value instanceof ScoredGroup g) scoredGroup(g);
        else if (value instanceof Metric m) metric(m);
        else if (value instanceof DeadLetter d) deadLetter(d);
    }

    /** Counts a record that could not be decoded; {@code message} names where it was and why. */
    public void undecodable(String message) {
        undecodable++;
        if (undecodableExamples.size() < UNDECODABLE_EXAMPLES) undecodableExamples.add(message);
    }

    private void rollout(Rollout r) {
        if (rolloutIds.add(r.getRolloutId())) version(r.getPolicyVersion()).rollouts++;
    }

    private void reward(Reward r) {
        rewards++;
        ScorerSums sums = scorers.computeIfAbsent(r.getScorerId(), id -> new ScorerSums());
        if (!scoredPairs.add(r.getRolloutId() + "\u0000" + r.getScorerId())) {
            sums.duplicates++;
            return;
        }
        sums.count++;
        sums.sum += r.getScore();
        sums.min = Math.min(sums.min, r.getScore());
        sums.max = Math.max(sums.max, r.getScore());
    }

    private void scoredGroup(ScoredGroup g) {
        if (!groupIds.add(g.getGroupId())) return;
        Set<Long> versionsOfGroup = new HashSet<>();
        for (int i = 0; i < g.getRollouts().size(); i++) {
            long v = g.getRollouts().get(i).getPolicyVersion();
            VersionSums sums = version(v);
            if (versionsOfGroup.add(v)) sums.scoredGroups++;
            sums.scoredRollouts++;
            sums.rewardSum += g.getRewards().get(i);
            Map<String, Double> scores = g.getScores().get(i);
            Double exact = scores.get(StepResult.EXACT_ANSWER);
            if (exact != null) {
                sums.withAnswer++;
                if (exact >= 1) sums.correct++;
            }
            scores.forEach((scorer, score) -> {
                double[] s = sums.scorerSums.computeIfAbsent(scorer, id -> new double[2]);
                s[0] += score;
                s[1]++;
            });
        }
    }

    private void metric(Metric m) {
        metrics++;
        metricsByKind.merge(m.getServiceId() + "/" + m.getKind(), 1L, Long::sum);
        if (!TrainerService.METRIC_KIND.equals(m.getKind()) || m.getStep() < 0) return;
        StepStats previous = steps.put(m.getStep(), new StepStats(m.getStep(), m.getPolicyVersion(), m.getServiceId(), m.getValues()));
        if (previous != null) repeatedSteps++;
    }

    private void deadLetter(DeadLetter d) {
        deadLetters++;
        deadLetterTypes.merge(d.getErrorType(), new DeadLetterStats(d.getErrorType(), 1, d.getReason()),
                (old, one) -> new DeadLetterStats(old.errorType(), old.count() + 1, old.exampleReason()));
    }

    private VersionSums version(long policyVersion) {
        return versions.computeIfAbsent(policyVersion, v -> new VersionSums());
    }

    /** The story so far. */
    public Replay result() {
        List<VersionStats> byVersion = new ArrayList<>();
        versions.forEach((v, s) -> {
            Map<String, Double> scorerMeans = new LinkedHashMap<>();
            s.scorerSums.forEach((id, sum) -> scorerMeans.put(id, sum[0] / sum[1]));
            byVersion.add(new VersionStats(v, s.rollouts, s.scoredGroups, s.scoredRollouts,
                    s.scoredRollouts == 0 ? Double.NaN : s.rewardSum / s.scoredRollouts,
                    s.withAnswer == 0 ? Double.NaN : (double) s.correct / s.withAnswer, scorerMeans));
        });
        List<Long> staleness = new ArrayList<>();
        long dropped = 0;
        for (StepStats step : steps.values()) {
            dropped += (long) step.values().getOrDefault("dropped_stale", 0.0).doubleValue();
            step.values().forEach((name, count) -> {
                if (!name.startsWith(STALENESS)) return;
                int k = Integer.parseInt(name.substring(STALENESS.length()));
                while (staleness.size() <= k) staleness.add(0L);
                staleness.set(k, staleness.get(k) + count.longValue());
            });
        }
        List<ScorerStats> byScorer = new ArrayList<>();
        scorers.forEach((id, s) -> byScorer.add(new ScorerStats(id, s.count, s.count == 0 ? Double.NaN : s.sum / s.count,
                s.count == 0 ? Double.NaN : s.min, s.count == 0 ? Double.NaN : s.max, s.duplicates)));
        return new Replay(rolloutIds.size(), rewards, groupIds.size(), metrics, deadLetters, undecodable, byVersion,
                new ArrayList<>(steps.values()), repeatedSteps, staleness, dropped, byScorer,
                new ArrayList<>(deadLetterTypes.values()), metricsByKind, undecodableExamples);
    }
}
