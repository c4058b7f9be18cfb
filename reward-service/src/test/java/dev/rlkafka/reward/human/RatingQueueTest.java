package dev.rlkafka.reward.human;

import dev.rlkafka.reward.human.RatingRefusedException.Reason;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RatingQueueTest {
    private static final Duration LEASE = Duration.ofMinutes(5);

    /** A clock the test moves by hand: lease expiry without sleeping. */
    static final class ManualClock extends Clock {
        private volatile Instant now = Instant.parse("2026-01-01T00:00:00Z");

        void advance(Duration by) {
            now = now.plus(by);
        }

        @Override
        public Instant instant() {
            return now;
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            throw new UnsupportedOperationException();
        }
    }

    private final ManualClock clock = new ManualClock();

    static WaitingRollout rollout(String groupId, int index) {
        return new WaitingRollout(groupId + "/" + index, groupId, "p-" + groupId, index, 4, "arithmetic", "12+30=", "42",
                "42", 3, "EOS", "generator-1", Instant.EPOCH);
    }

    private RatingQueue queue(int rollouts) {
        RatingQueue queue = new RatingQueue(LEASE, 10_000, clock);
        for (int i = 0; i < rollouts; i++) {
            assertTrue(queue.offer(rollout("g" + i / 4, i % 4)));
        }
        return queue;
    }

    private static String idOf(Optional<Lease> lease) {
        return lease.orElseThrow(() -> new AssertionError("expected a rollout, got none")).rollout().rolloutId();
    }

    @Test
    void twoRatersAreOfferedDifferentRolloutsAndAReloadShowsTheSameOne() {
        RatingQueue queue = queue(2);
        String alice = idOf(queue.next("alice"));
        String bob = idOf(queue.next("bob"));
        assertEquals("g0/0", alice, "oldest first");
        assertEquals("g0/1", bob);
        assertEquals(alice, idOf(queue.next("alice")), "asking again returns the rollout already leased");
        assertTrue(queue.next("carol").isEmpty(), "both rollouts are leased");
        assertEquals(2, queue.stats().leased());
    }

    @Test
    void aSecondRatingOfARatedRolloutIsRefused() throws Exception {
        RatingQueue queue = queue(1);
        String id = idOf(queue.next("alice"));
        queue.beginRating(id, "alice");
        var duringWrite = assertThrows(RatingRefusedException.class, () -> queue.beginRating(id, "alice"));
        assertEquals(Reason.ALREADY_RATED, duringWrite.reason(), "a double click while the reward is written");
        queue.finishRating(id, "alice");
        var again = assertThrows(RatingRefusedException.class, () -> queue.beginRating(id, "bob"));
        assertEquals(Reason.ALREADY_RATED, again.reason());
        assertTrue(queue.next("bob").isEmpty());
        assertFalse(queue.offer(rollout("g0", 0)), "a rated rollout read again (restart, duplicate) is not queued");
        assertEquals(new RatingQueue.Stats(0, 0, 1, 1, Map.of("alice", 1L), 0), queue.stats());
    }

    @Test
    void aRolloutLeasedToAnotherRaterCannotBeRatedOrSkipped() {
        RatingQueue queue = queue(1);
        String id = idOf(queue.next("alice"));
        var rate = assertThrows(RatingRefusedException.class, () -> queue.beginRating(id, "bob"));
        assertEquals(Reason.LEASED_TO_ANOTHER_RATER, rate.reason());
        assertTrue(rate.getMessage().contains("alice") && rate.getMessage().contains(id), rate.getMessage());
        var skip = assertThrows(RatingRefusedException.class, () -> queue.skip(id, "bob"));
        assertEquals(Reason.LEASED_TO_ANOTHER_RATER, skip.reason());
    }

    @Test
    void anUnknownRolloutIsRefusedAsUnknown() {
        RatingQueue queue = queue(1);
        var e = assertThrows(RatingRefusedException.class, () -> queue.beginRating("nope/9", "alice"));
        assertEquals(Reason.UNKNOWN_ROLLOUT, e.reason());
        assertTrue(e.getMessage().contains("nope/9"), e.getMessage());
    }

    @Test
    void anAbandonedLeaseExpiresAndGoesToTheNextRater() throws Exception {
        RatingQueue queue = queue(1);
        String id = idOf(queue.next("alice"));
        clock.advance(LEASE.minusSeconds(1));
        assertTrue(queue.next("bob").isEmpty(), "still alice's");
        clock.advance(Duration.ofSeconds(2));
        assertEquals(id, idOf(queue.next("bob")), "alice's lease ran out");
        var late = assertThrows(RatingRefusedException.class, () -> queue.beginRating(id, "alice"));
        assertEquals(Reason.LEASED_TO_ANOTHER_RATER, late.reason(), "alice came back too late: bob holds it now");
        queue.beginRating(id, "bob");
        queue.finishRating(id, "bob");
        assertEquals(Reason.ALREADY_RATED, assertThrows(RatingRefusedException.class, () -> queue.beginRating(id, "alice")).reason());
    }

    @Test
    void anExpiredLeaseNobodyTookMayStillBeRatedByItsRater() throws Exception {
        RatingQueue queue = queue(1);
        String id = idOf(queue.next("alice"));
        clock.advance(LEASE.plusMinutes(1));
        assertEquals(id, queue.beginRating(id, "alice").rolloutId());
    }

    @Test
    void aSkippedRolloutGoesToOthersButNotBackToTheRaterWhoSkippedIt() throws Exception {
        RatingQueue queue = queue(2);
        String first = idOf(queue.next("alice"));
        queue.skip(first, "alice");
        assertEquals("g0/1", idOf(queue.next("alice")), "alice moves on");
        assertEquals(first, idOf(queue.next("bob")), "bob gets the skipped one");
    }

    @Test
    void aFailedWriteLeavesTheRolloutWithItsRaterToRetry() throws Exception {
        RatingQueue queue = queue(1);
        String id = idOf(queue.next("alice"));
        queue.beginRating(id, "alice");
        queue.abandonRating(id, "alice");
        assertTrue(queue.next("bob").isEmpty(), "still leased to alice");
        assertEquals(id, queue.beginRating(id, "alice").rolloutId(), "alice retries");
    }

    @Test
    void ratingsSeenOnTheRewardsTopicRemoveRolloutsAndOtherScoresAreShown() {
        RatingQueue queue = queue(2);
        queue.markRated("g0/0");   // e.g. rated before a restart
        queue.addOtherScore("g0/1", "exact-answer", 1.0);
        queue.addOtherScore("g0/1", "format", 0.5);
        Lease lease = queue.next("alice").orElseThrow();
        assertEquals("g0/1", lease.rollout().rolloutId());
        assertEquals(Map.of("exact-answer", 1.0, "format", 0.5), lease.otherScores());
        queue.markRated("g0/1");   // another page with the same scorer id rated it
        var e = assertThrows(RatingRefusedException.class, () -> queue.beginRating("g0/1", "alice"));
        assertEquals(Reason.ALREADY_RATED, e.reason());
    }

    @Test
    void aFullQueueDropsTheOldestRolloutNobodyHolds() {
        RatingQueue queue = new RatingQueue(LEASE, 2, clock);
        queue.offer(rollout("g0", 0));
        queue.offer(rollout("g0", 1));
        assertEquals("g0/0", idOf(queue.next("alice")));
        queue.offer(rollout("g0", 2));
        RatingQueue.Stats stats = queue.stats();
        assertEquals(2, stats.waiting());
        assertEquals(1, stats.dropped());
        assertEquals("g0/2", idOf(queue.next("bob")), "g0/1 was dropped; alice's leased g0/0 was kept");
    }

    @Test
    void concurrentRatersNeverRateOneRolloutTwice() throws Exception {
        int rollouts = 400;
        int raters = 8;
        RatingQueue queue = queue(rollouts);
        Map<String, String> ratedBy = new ConcurrentHashMap<>();
        Map<String, String> leasedTo = new ConcurrentHashMap<>();
        AtomicInteger doubles = new AtomicInteger();
        AtomicInteger refusals = new AtomicInteger();
        CyclicBarrier start = new CyclicBarrier(raters);
        ExecutorService pool = Executors.newFixedThreadPool(raters);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < raters; t++) {
                String rater = "rater-" + t;
                int seed = t;
                done.add(pool.submit(() -> {
                    start.await();
                    int step = 0;
                    for (Optional<Lease> lease = queue.next(rater); lease.isPresent(); lease = queue.next(rater)) {
                        String id = lease.get().rollout().rolloutId();
                        String holder = leasedTo.putIfAbsent(id, rater);
                        if (holder != null && !holder.equals(rater)) doubles.incrementAndGet();
                        // also try to grab some rollout by id, as a stale or malicious page would
                        String other = "g" + ((seed * 31 + step++ * 7) % rollouts) / 4 + "/" + (step % 4);
                        try {
                            queue.beginRating(other, rater);
                            record(ratedBy, other, rater, doubles);
                            queue.finishRating(other, rater);
                        } catch (RatingRefusedException e) {
                            refusals.incrementAndGet();
                        }
                        try {
                            queue.beginRating(id, rater);
                            record(ratedBy, id, rater, doubles);
                            queue.finishRating(id, rater);
                        } catch (RatingRefusedException e) {
                            // only possible when this rater's own grab above just rated it
                            if (e.reason() != Reason.ALREADY_RATED || !rater.equals(ratedBy.get(id))) throw e;
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) f.get(60, TimeUnit.SECONDS);
        } finally {
            pool.shutdownNow();
        }
        assertEquals(0, doubles.get(), "a rollout was leased to or rated by two raters");
        assertEquals(rollouts, ratedBy.size(), "every rollout rated once");
        assertTrue(refusals.get() > 0, "the grabs were refused at least sometimes: " + refusals.get());
        RatingQueue.Stats stats = queue.stats();
        assertEquals(0, stats.waiting());
        assertEquals(rollouts, stats.rated());
        assertEquals(rollouts, stats.ratedHere());
        assertEquals(rollouts, stats.ratedByRater().values().stream().mapToLong(Long::longValue).sum());
    }

    private static void record(Map<String, String> ratedBy, String id, String rater, AtomicInteger doubles) {
        if (ratedBy.putIfAbsent(id, rater) != null) doubles.incrementAndGet();
    }

    @Test
    void ofManyRatersRacingForOneRolloutExactlyOneWins() throws Exception {
        int raters = 16;
        RatingQueue queue = queue(1);   // nobody holds a lease: anyone may try
        CyclicBarrier start = new CyclicBarrier(raters);
        Set<String> winners = new TreeSet<>();
        ExecutorService pool = Executors.newFixedThreadPool(raters);
        try {
            List<Future<Boolean>> results = new ArrayList<>();
            for (int t = 0; t < raters; t++) {
                String rater = "rater-" + t;
                results.add(pool.submit(() -> {
                    start.await();
                    try {
                        queue.beginRating("g0/0", rater);
                        synchronized (winners) {
                            winners.add(rater);
                        }
                        queue.finishRating("g0/0", rater);
                        return true;
                    } catch (RatingRefusedException e) {
                        assertEquals(Reason.ALREADY_RATED, e.reason());
                        return false;
                    }
                }));
            }
            int wins = 0;
            for (Future<Boolean> r : results) wins += r.get(30, TimeUnit.SECONDS) ? 1 : 0;
            assertEquals(1, wins);
        } finally {
            pool.shutdownNow();
        }
        assertEquals(1, winners.size());
        assertNotEquals(0, queue.stats().rated());
    }
}
