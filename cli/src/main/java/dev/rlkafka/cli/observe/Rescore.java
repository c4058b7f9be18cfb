package dev.rlkafka.cli.observe;

import dev.rlkafka.cli.observe.RescoreScorers.RescoreScorer;
import dev.rlkafka.schemas.avro.Reward;
import dev.rlkafka.schemas.avro.Rollout;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.TreeMap;

/**
 * The core of {@code rlkafka rescore}: scores every rollout of a run with a new scorer and measures how the new
 * scores agree with each old scorer's, rollout by rollout. Feed it rollouts ({@link #score}) and the run's old
 * rewards ({@link #oldReward}) in any order, then take the {@link #report()}.
 *
 * <p>Two scores of one rollout disagree when their signs differ (0 counts as its own sign: a 0/1 scorer that
 * says 1 where the other said 0 disagrees) or they are more than {@code threshold} apart.
 */
public final class Rescore {
    public static final double DEFAULT_THRESHOLD = 0.5;
    public static final int DEFAULT_EXAMPLES = 5;
    public static final String METADATA_SOURCE = "rescore";

    /** One rollout where old and new scores disagree. */
    public record Example(String rolloutId, String prompt, String completion, double oldScore, double newScore) {
    }

    /**
     * How the new scorer agrees with one old scorer over the rollouts both scored.
     *
     * @param pearson     correlation of old and new scores; NaN when either is constant (nothing to correlate)
     * @param examples    the first disagreements in the order the rollouts were read
     */
    public record Agreement(String oldScorer, long count, double oldMean, double newMean, double pearson,
                            double meanAbsDiff, long disagreements, List<Example> examples) {
        public Agreement {
            examples = List.copyOf(examples);
        }
    }

    /**
     * @param rollouts          distinct rollouts read
     * @param scored            rollouts the new scorer scored (a Reward written for each)
     * @param notApplicable     rollouts it has nothing to say about (another task's scorer, no reference answer)
     * @param duplicateRollouts rollout ids read again and skipped
     */
    public record Report(String scorer, double threshold, long rollouts, long scored, long notApplicable,
                         long duplicateRollouts, double newMean, List<Agreement> agreements) {
        public Report {
            agreements = List.copyOf(agreements);
        }
    }

    private record NewScore(String prompt, String completion, double score) {
    }

    private final RescoreScorer scorer;
    private final double threshold;
    private final int maxExamples;
    private final Map<String, NewScore> newScores = new LinkedHashMap<>();
    /** old scorer id -> rollout id -> its first score (the one the reward-service used; later ones are duplicates) */
    private final Map<String, Map<String, Double>> oldScores = new TreeMap<>();
    private long notApplicable, duplicateRollouts;

    public Rescore(RescoreScorer scorer, double threshold, int maxExamples) {
        if (!(threshold >= 0 && Double.isFinite(threshold))) {
            throw new IllegalArgumentException("disagreement threshold must be finite and >= 0, got " + threshold);
        }
        if (maxExamples < 0) throw new IllegalArgumentException("examples must be >= 0, got " + maxExamples);
        this.scorer = scorer;
        this.threshold = threshold;
        this.maxExamples = maxExamples;
    }

    /** The new scorer's reward for {@code rollout}; empty when it does not apply or the rollout was seen already. */
    public Optional<Reward> score(Rollout rollout, Instant now) {
        if (newScores.containsKey(rollout.getRolloutId())) {
            duplicateRollouts++;
            return Optional.empty();
        }
        OptionalDouble score = scorer.score(rollout);
        if (score.isEmpty()) {
            notApplicable++;
            newScores.put(rollout.getRolloutId(), null);   // still a rollout read; a duplicate is still one
            return Optional.empty();
        }
        newScores.put(rollout.getRolloutId(), new NewScore(rollout.getPromptText(), rollout.getCompletionText(), score.getAsDouble()));
        return Optional.of(Reward.newBuilder()
                .setRolloutId(rollout.getRolloutId())
                .setGroupId(rollout.getGroupId())
                .setScorerId(scorer.id())
                .setScore(score.getAsDouble())
                .setRationale(null)
                .setMetadata(Map.of("source", METADATA_SOURCE))
                .setCreatedAtMs(now)
                .build());
    }

    /** A reward of the run as it was; the first per (rollout, scorer) counts. */
    public void oldReward(Reward reward) {
        oldScores.computeIfAbsent(reward.getScorerId(), id -> new HashMap<>()).putIfAbsent(reward.getRolloutId(), reward.getScore());
    }

    public Report report() {
        List<Agreement> agreements = new ArrayList<>();
        oldScores.forEach((oldScorer, old) -> agreements.add(agreement(oldScorer, old)));
        double sum = 0;
        long scored = 0;
        for (NewScore s : newScores.values()) {
            if (s == null) continue;
            sum += s.score();
            scored++;
        }
        return new Report(scorer.id(), threshold, newScores.size(), scored, notApplicable, duplicateRollouts,
                scored == 0 ? Double.NaN : sum / scored, agreements);
    }

    private Agreement agreement(String oldScorer, Map<String, Double> old) {
        List<double[]> pairs = new ArrayList<>();
        List<Example> examples = new ArrayList<>();
        long disagreements = 0;
        for (var e : newScores.entrySet()) {
            Double before = old.get(e.getKey());
            NewScore now = e.getValue();
            if (before == null || now == null) continue;
            pairs.add(new double[]{before, now.score()});
            if (disagree(before, now.score())) {
                disagreements++;
                if (examples.size() < maxExamples) {
                    examples.add(new Example(e.getKey(), now.prompt(), now.completion(), before, now.score()));
                }
            }
        }
        int n = pairs.size();
        double oldSum = 0, newSum = 0, absDiffSum = 0;
        for (double[] p : pairs) {
            oldSum += p[0];
            newSum += p[1];
            absDiffSum += Math.abs(p[0] - p[1]);
        }
        double oldMean = oldSum / n, newMean = newSum / n, absDiff = absDiffSum / n;
        return new Agreement(oldScorer, n, n == 0 ? Double.NaN : oldMean, n == 0 ? Double.NaN : newMean,
                pearson(pairs, oldMean, newMean), n == 0 ? Double.NaN : absDiff, disagreements, examples);
    }

    boolean disagree(double oldScore, double newScore) {
        return Math.signum(oldScore) != Math.signum(newScore) || Math.abs(oldScore - newScore) > threshold;
    }

    /** r = Σ(x−x̄)(y−ȳ) / √(Σ(x−x̄)² Σ(y−ȳ)²); NaN for fewer than two pairs or a constant side. */
    static double pearson(List<double[]> pairs, double meanX, double meanY) {
        double sxy = 0, sxx = 0, syy = 0;
        for (double[] p : pairs) {
            double dx = p[0] - meanX, dy = p[1] - meanY;
            sxy += dx * dy;
            sxx += dx * dx;
            syy += dy * dy;
        }
        if (pairs.size() < 2 || sxx == 0 || syy == 0) return Double.NaN;
        return sxy / Math.sqrt(sxx * syy);
    }
}
