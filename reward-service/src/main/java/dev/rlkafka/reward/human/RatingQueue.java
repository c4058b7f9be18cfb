package dev.rlkafka.reward.human;

import dev.rlkafka.reward.human.RatingRefusedException.Reason;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Collections;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * The rollouts waiting for a human score and who is looking at which: the rule that several people at once
 * never score one rollout twice lives here, in plain Java. Thread-safe (every method holds the queue's lock;
 * the HTTP threads and the Kafka thread share one instance).
 *
 * <p>A rater asks for {@link #next}: the oldest waiting rollout nobody holds becomes theirs for the lease
 * duration (asking again returns the same one). Rating goes in two steps around the write to Kafka:
 * {@link #beginRating} reserves the rollout for good, so a second rating is refused from then on, and
 * {@link #finishRating} (written) or {@link #abandonRating} (the write failed; the rater may try again)
 * ends it. A lease nobody uses expires and the rollout goes to the next rater who asks; its first rater
 * may still rate it as long as nobody else has taken it since.
 */
public final class RatingQueue {
    private static final Logger log = LoggerFactory.getLogger(RatingQueue.class);
    /** Other scorers' scores are kept for at most this many rollouts (they may arrive before the rollout). */
    static final int MAX_SCORED_ROLLOUTS_REMEMBERED = 100_000;

    private final Duration leaseDuration;
    private final int maxWaiting;
    private final Clock clock;

    /** Waiting rollouts by id, oldest first. */
    private final LinkedHashMap<String, Entry> waiting = new LinkedHashMap<>();
    /** Rollouts this scorer id has rated (seen on the rewards topic or rated here). */
    private final Set<String> rated = new HashSet<>();
    /** Rollout id → scorer id → score, for the rollouts not yet rated here. */
    private final Map<String, Map<String, Double>> otherScores = new LinkedHashMap<>() {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Map<String, Double>> eldest) {
            return size() > MAX_SCORED_ROLLOUTS_REMEMBERED;
        }
    };
    private final Map<String, Long> ratedByRater = new TreeMap<>();
    private long ratedHere;
    private long dropped;

    private static final class Entry {
        final WaitingRollout rollout;
        final Set<String> skippedBy = new HashSet<>();
        String leasedTo;
        Instant leaseExpiresAt;
        /** Between beginRating and finish/abandon: its reward is being written. */
        boolean rating;

        Entry(WaitingRollout rollout) {
            this.rollout = rollout;
        }

        boolean leasedAt(Instant now) {
            return leasedTo != null && now.isBefore(leaseExpiresAt);
        }
    }

    /**
     * @param leaseDuration how long a rollout stays reserved for the rater it was offered to; &gt; 0
     * @param maxWaiting    most rollouts held; beyond it the oldest one nobody holds is dropped; &gt; 0
     * @param clock         lease time (tests pass a clock they move by hand)
     */
    public RatingQueue(Duration leaseDuration, int maxWaiting, Clock clock) {
        if (leaseDuration == null || leaseDuration.isNegative() || leaseDuration.isZero()) {
            throw new IllegalArgumentException("lease duration must be > 0, got " + leaseDuration);
        }
        if (maxWaiting < 1) {
            throw new IllegalArgumentException("maxWaiting must be >= 1, got " + maxWaiting);
        }
        this.leaseDuration = leaseDuration;
        this.maxWaiting = maxWaiting;
        this.clock = clock;
    }

    /**
     * Adds a rollout to wait for a rating; ignored when it is already waiting or already rated.
     *
     * @return whether it was added
     */
    public synchronized boolean offer(WaitingRollout rollout) {
        String id = rollout.rolloutId();
        if (rated.contains(id) || waiting.containsKey(id)) {
            return false;
        }
        waiting.put(id, new Entry(rollout));
        if (waiting.size() > maxWaiting) {
            dropOldestFree();
        }
        return true;
    }

    private void dropOldestFree() {
        Instant now = clock.instant();
        for (Iterator<Entry> it = waiting.values().iterator(); it.hasNext(); ) {
            Entry e = it.next();
            if (!e.rating && !e.leasedAt(now)) {
                it.remove();
                otherScores.remove(e.rollout.rolloutId());
                if (dropped++ == 0) {
                    log.warn("more than {} rollouts wait for a human score; dropping the oldest ones (first: {})",
                            maxWaiting, e.rollout.rolloutId());
                }
                return;
            }
        }
        // every held rollout is leased or being rated: keep them all, the surplus is at most one per rater
    }

    /** The rollout has this scorer's reward (seen on the rewards topic): never offer or accept it again. */
    public synchronized void markRated(String rolloutId) {
        rated.add(rolloutId);
        waiting.remove(rolloutId);
        otherScores.remove(rolloutId);
    }

    /** Another scorer's reward for a rollout, shown to the rater next to it. */
    public synchronized void addOtherScore(String rolloutId, String scorerId, double score) {
        if (!rated.contains(rolloutId)) {
            otherScores.computeIfAbsent(rolloutId, id -> new TreeMap<>()).put(scorerId, score);
        }
    }

    /**
     * The rollout {@code rater} should score now: the one they already hold, else the oldest one nobody
     * holds that they have not skipped, leased to them from now on. Empty when there is none.
     */
    public synchronized Optional<Lease> next(String rater) {
        Instant now = clock.instant();
        for (Entry e : waiting.values()) {
            // one rollout per rater at a time: reloading the page shows the same one
            if (!e.rating && rater.equals(e.leasedTo) && e.leasedAt(now)) {
                return Optional.of(lease(e));
            }
        }
        for (Entry e : waiting.values()) {
            if (e.rating || e.leasedAt(now) || e.skippedBy.contains(rater)) {
                continue;
            }
            if (e.leasedTo != null && !e.leasedTo.equals(rater)) {
                log.info("lease of rollout {} by {} expired unused after {}; offering it to {}",
                        e.rollout.rolloutId(), e.leasedTo, leaseDuration, rater);
            }
            e.leasedTo = rater;
            e.leaseExpiresAt = now.plus(leaseDuration);
            return Optional.of(lease(e));
        }
        return Optional.empty();
    }

    private Lease lease(Entry e) {
        return new Lease(e.rollout, e.leasedTo, e.leaseExpiresAt,
                otherScores.getOrDefault(e.rollout.rolloutId(), Map.of()));
    }

    /**
     * Reserves {@code rolloutId} for {@code rater}'s rating: from here on any other rating of it is refused.
     * Allowed when the rater holds its lease, or when nobody holds one (an expired lease nobody took over).
     *
     * @return the rollout, to build the reward from
     * @throws RatingRefusedException when it is unknown, already rated (or being rated), or leased to another rater
     */
    public synchronized WaitingRollout beginRating(String rolloutId, String rater) throws RatingRefusedException {
        Entry e = held(rolloutId, rater, "rate");
        e.rating = true;
        e.leasedTo = rater;
        return e.rollout;
    }

    /** The rating begun by {@code rater} is written: the rollout is rated and leaves the queue. */
    public synchronized void finishRating(String rolloutId, String rater) {
        Entry e = waiting.get(rolloutId);
        if (e != null && !e.rating) {
            throw new IllegalStateException("finishRating of rollout " + rolloutId + " by " + rater + " without beginRating");
        }
        // e is null when the rewards topic already echoed this very reward back (markRated came first)
        markRated(rolloutId);
        ratedHere++;
        ratedByRater.merge(rater, 1L, Long::sum);
    }

    /** The rating begun by {@code rater} could not be written: the rollout waits again, still leased to them. */
    public synchronized void abandonRating(String rolloutId, String rater) {
        Entry e = waiting.get(rolloutId);
        if (e != null && e.rating) {
            e.rating = false;
            e.leasedTo = rater;
            e.leaseExpiresAt = clock.instant().plus(leaseDuration);
        }
    }

    /**
     * {@code rater} passes on {@code rolloutId}: their lease ends and the rollout is never offered to them again
     * (others still get it).
     *
     * @throws RatingRefusedException when it is unknown, already rated, or leased to another rater
     */
    public synchronized void skip(String rolloutId, String rater) throws RatingRefusedException {
        Entry e = held(rolloutId, rater, "skip");
        e.skippedBy.add(rater);
        e.leasedTo = null;
        e.leaseExpiresAt = null;
    }

    /** The waiting entry of {@code rolloutId} if {@code rater} may act on it now. */
    private Entry held(String rolloutId, String rater, String action) throws RatingRefusedException {
        if (rated.contains(rolloutId)) {
            throw new RatingRefusedException(Reason.ALREADY_RATED,
                    "rollout " + rolloutId + " is already rated; " + rater + " cannot " + action + " it");
        }
        Entry e = waiting.get(rolloutId);
        if (e == null) {
            throw new RatingRefusedException(Reason.UNKNOWN_ROLLOUT,
                    "no rollout '" + rolloutId + "' is waiting for a human score (never seen, or dropped from a full queue)");
        }
        if (e.rating) {
            throw new RatingRefusedException(Reason.ALREADY_RATED,
                    "rollout " + rolloutId + " is being rated by " + e.leasedTo + "; " + rater + " cannot " + action + " it");
        }
        if (e.leasedAt(clock.instant()) && !rater.equals(e.leasedTo)) {
            throw new RatingRefusedException(Reason.LEASED_TO_ANOTHER_RATER,
                    "rollout " + rolloutId + " is leased to " + e.leasedTo + " until " + e.leaseExpiresAt + "; "
                            + rater + " cannot " + action + " it");
        }
        return e;
    }

    /** Counts for the page and the logs. */
    public synchronized Stats stats() {
        Instant now = clock.instant();
        int leased = (int) waiting.values().stream().filter(e -> e.rating || e.leasedAt(now)).count();
        return new Stats(waiting.size(), leased, rated.size(), ratedHere,
                Collections.unmodifiableMap(new TreeMap<>(ratedByRater)), dropped);
    }

    /**
     * @param waiting     rollouts not yet rated by this scorer, leased ones included
     * @param leased      of those, the ones a rater holds now
     * @param rated       rollouts known to be rated by this scorer id (from the rewards topic and here)
     * @param ratedHere   ratings written by this process
     * @param ratedByRater rater → ratings written by this process
     * @param dropped     rollouts dropped because the queue was full
     */
    public record Stats(int waiting, int leased, long rated, long ratedHere, Map<String, Long> ratedByRater, long dropped) {
    }
}
