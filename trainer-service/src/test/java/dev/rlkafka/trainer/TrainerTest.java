package dev.rlkafka.trainer;

import dev.rlkafka.policy.model.Policy;
import dev.rlkafka.policy.tokenizer.ByteTokenizer;
import dev.rlkafka.policy.train.Algorithm;
import dev.rlkafka.policy.train.RlSample;
import dev.rlkafka.schemas.avro.ScoredGroup;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link Trainer} on hand-made groups and the tiny model; no broker. */
class TrainerTest {
    @TempDir
    Path dir;

    private Policy policy;
    private Policy reference;
    private final List<Trainer> trainers = new ArrayList<>();

    @BeforeEach
    void setUp() {
        policy = Fixtures.tinyPolicy(1);
        reference = Fixtures.tinyPolicy(1);
    }

    @AfterEach
    void tearDown() {
        trainers.forEach(Trainer::close);
        policy.close();
        reference.close();
    }

    private Trainer trainer(int batchGroups, int stepsPerVersion, int maxStaleness, TrainerState state) {
        return trainer(Algorithm.GRPO, batchGroups, stepsPerVersion, maxStaleness, state);
    }

    private Trainer trainer(Algorithm algorithm, int batchGroups, int stepsPerVersion, int maxStaleness, TrainerState state) {
        Trainer trainer = new Trainer(Fixtures.config(dir).withBatching(batchGroups, stepsPerVersion, maxStaleness)
                .withUpdate(TrainerConfig.defaultUpdate(algorithm)), policy, reference, state);
        trainers.add(trainer);
        return trainer;
    }

    private static TrainerState atVersion(long version) {
        return new TrainerState(0, version, Audit.EMPTY, Audit.EMPTY, Audit.EMPTY);
    }

    @Test
    void oneSamplePerRolloutWithItsTokensLogprobsAndTheGroupsAdvantage() throws Exception {
        List<RlSample> samples = Trainer.samples(Fixtures.simpleGroup("g", 0), Fixtures.TINY, 0);
        assertEquals(2, samples.size());
        assertArrayEquals(ByteTokenizer.encodePrompt("1+1="), samples.get(0).promptTokens());
        assertArrayEquals(new int[] {'2', ByteTokenizer.EOS}, samples.get(0).completionTokens());
        assertArrayEquals(new float[] {-1.5f, -2f}, samples.get(0).behaviourLogprobs());
        assertEquals(1.0, samples.get(0).advantage());
        assertArrayEquals(new int[] {'3', '3', ByteTokenizer.EOS}, samples.get(1).completionTokens());
        assertEquals(-1.0, samples.get(1).advantage());
    }

    @Test
    void staleGroupsAreDroppedAndCountedFreshOnesKept() throws Exception {
        Trainer trainer = trainer(4, 1, 1, atVersion(3));
        assertEquals(Trainer.Offer.DROPPED_STALE, trainer.offer(Fixtures.simpleGroup("old", 1)));   // staleness 2 > 1
        assertEquals(Trainer.Offer.ACCEPTED, trainer.offer(Fixtures.simpleGroup("ok", 2)));         // staleness 1
        assertEquals(Trainer.Offer.ACCEPTED, trainer.offer(Fixtures.simpleGroup("fresh", 3)));      // staleness 0
        assertEquals(Audit.of(List.of("old")), trainer.dropped());
        trainer.recordDeadLetter("scored-groups-0@7");
        StepResult result = trainer.step();
        assertEquals(2, result.groups());
        assertEquals(1, result.droppedStale());
        assertEquals(1, result.deadLetters());
        assertArrayEquals(new long[] {1, 1}, result.stalenessHistogram(), "one group at staleness 0, one at 1");
        assertEquals(Audit.of(List.of("ok", "fresh")), trainer.trained());
    }

    @ParameterizedTest
    @EnumSource(Algorithm.class)
    void everyAlgorithmDropsStaleGroupsAlikeTrainsTheRestAndReportsItsOwnNumbers(Algorithm algorithm) throws Exception {
        Trainer trainer = trainer(algorithm, 4, 1, 1, atVersion(3));
        float[] before = policy.weightsSnapshot().get("wte");
        assertEquals(Trainer.Offer.DROPPED_STALE, trainer.offer(Fixtures.simpleGroup("old", 1)));
        assertEquals(Trainer.Offer.ACCEPTED, trainer.offer(Fixtures.simpleGroup("ok", 2)));
        assertEquals(Trainer.Offer.ACCEPTED, trainer.offer(Fixtures.simpleGroup("fresh", 3)));
        StepResult result = trainer.step();
        assertEquals(2, result.groups());
        assertEquals(1, result.droppedStale());
        assertEquals(Audit.of(List.of("ok", "fresh")), trainer.trained());
        assertFalse(java.util.Arrays.equals(before, policy.weightsSnapshot().get("wte")), algorithm + " updated the weights");
        String own = switch (algorithm) {
            case GRPO -> "ratio_mean";
            case PPO -> "value_loss";
            case DPO -> "dpo_margin";
        };
        assertTrue(result.diagnostics().containsKey(own), algorithm + " diagnostics " + result.diagnostics());
        if (algorithm == Algorithm.DPO) assertEquals(2.0, result.diagnostics().get("pairs"), "rewards 1 and 0: one pair per group");
        assertTrue(result.summary().contains(own), result.summary());
    }

    @Test
    void versionAdvancesEveryKSteps() throws Exception {
        Trainer trainer = trainer(1, 2, 2, TrainerState.INITIAL);
        List<Boolean> advanced = new ArrayList<>();
        List<Long> versions = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            trainer.offer(Fixtures.simpleGroup("g" + i, trainer.policyVersion()));
            assertTrue(trainer.batchReady());
            StepResult result = trainer.step();
            advanced.add(result.versionAdvanced());
            versions.add(result.policyVersion());
        }
        assertEquals(List.of(false, true, false, true), advanced);
        assertEquals(List.of(0L, 1L, 1L, 2L), versions);
        assertEquals(4, trainer.steps());
    }

    @Test
    void stepReportsRewardAccuracyAndTrainsTheWeights() throws Exception {
        Trainer trainer = trainer(2, 1, 2, TrainerState.INITIAL);
        float[] before = policy.weightsSnapshot().get(policy.parameters().keySet().iterator().next());
        trainer.offer(Fixtures.simpleGroup("a", 0));
        assertFalse(trainer.batchReady());
        trainer.offer(Fixtures.simpleGroup("b", 0));
        StepResult result = trainer.step();
        assertEquals(0.5, result.rewardMean(), 1e-12, "rewards 1, 0, 1, 0");
        assertEquals(0.5, result.accuracy(), 1e-12, "exact-answer 1 on two of four rollouts");
        assertEquals(10, result.tokens(), "2 + 3 completion tokens per group");
        assertEquals(10, result.rolloutTokens(), "GRPO trains on every rollout of its groups");
        assertTrue(Double.isFinite(result.loss()) && result.kl() >= 0, "loss " + result.loss() + ", kl " + result.kl());
        float[] after = policy.weightsSnapshot().get(policy.parameters().keySet().iterator().next());
        assertFalse(java.util.Arrays.equals(before, after), "the step updated the weights");
    }

    @Test
    void auditTellsATwiceTrainedGroupApart() throws Exception {
        Trainer once = trainer(1, 1, 100, TrainerState.INITIAL);
        for (String id : List.of("g1", "g2")) { once.offer(Fixtures.simpleGroup(id, 0)); once.step(); }
        Trainer twice = trainer(1, 1, 100, TrainerState.INITIAL);
        for (String id : List.of("g2", "g1", "g1")) { twice.offer(Fixtures.simpleGroup(id, 0)); twice.step(); }
        assertEquals(Audit.of(List.of("g1", "g2")), once.trained());
        assertNotEquals(once.trained().hash(), twice.trained().hash());
        assertEquals(Audit.of(List.of("g1", "g2", "g1")), twice.trained());
    }

    @Test
    void stateIsOnlyTakenAtAVersionBoundary() throws Exception {
        Trainer trainer = trainer(1, 2, 2, TrainerState.INITIAL);
        trainer.offer(Fixtures.simpleGroup("g", 0));
        trainer.step();
        var e = assertThrows(IllegalStateException.class, trainer::state);
        assertTrue(e.getMessage().contains("1 steps since version 0"), e.getMessage());
        assertTrue(trainer.advanceVersion());
        TrainerState state = trainer.state();
        assertEquals(1, state.policyVersion());
        assertEquals(state, TrainerState.fromMetadata(state.toMetadata(), "test"));
    }

    @Test
    void droppedGroupsKeepTheirPlacesOnlyWhileHalfTheBatchIsLeftToTrainOn() throws Exception {
        Trainer trainer = trainer(4, 1, 0, atVersion(1));
        for (int i = 0; i < 5; i++) trainer.offer(Fixtures.simpleGroup("stale-" + i, 0));
        trainer.offer(Fixtures.simpleGroup("fresh-1", 1));
        assertFalse(trainer.batchReadyKeepingDroppedPlaces(), "1 group to train on and 5 drops: not one update on one group");
        trainer.offer(Fixtures.simpleGroup("fresh-2", 1));
        assertTrue(trainer.batchReadyKeepingDroppedPlaces(), "2 of 4 left to train on, the rest kept by drops");
        assertFalse(trainer.batchReady());
        StepResult result = trainer.step();
        assertEquals(2, result.groups());
        assertEquals(5, result.droppedStale());
        assertFalse(trainer.batchReadyKeepingDroppedPlaces(), "the next batch starts empty");
    }

    @Test
    void oldestGroupsGoFirstAcrossPartitionsAndEachPartitionKeepsItsOrder() {
        List<String> merged = Trainer.oldestFirst(List.of(List.of("p0:v2", "p0:v1"), List.of("p1:v1", "p1:v3"), List.of()),
                s -> Long.parseLong(s.substring(s.indexOf('v') + 1)));
        assertEquals(List.of("p1:v1", "p0:v2", "p0:v1", "p1:v3"), merged, "p0's v1 waits behind its v2: offsets stay a prefix");
        assertEquals(List.of("a", "b"), Trainer.oldestFirst(List.of(List.of("a"), List.of("b")), s -> 0), "ties: the earlier partition in the list");
    }

    @Test
    void readingOldestFirstTrainsAGroupThatPartitionOrderWouldDropAsStale() throws Exception {
        // maxStaleness 1, B=2, the trainer at version 1. After a stall two admissions wait at once: a and c (sampled by
        // version 0, due now) and e and f (version 1, due at version 2); e and f landed on a's partition.
        List<List<ScoredGroup>> partitions = List.of(
                List.of(Fixtures.simpleGroup("a", 0), Fixtures.simpleGroup("e", 1), Fixtures.simpleGroup("f", 1)),
                List.of(Fixtures.simpleGroup("c", 0)));
        List<ScoredGroup> partitionOrder = partitions.stream().flatMap(List::stream).toList();
        List<ScoredGroup> oldestFirst = Trainer.oldestFirst(partitions, g -> g.getRollouts().get(0).getPolicyVersion());
        assertEquals(List.of("a", "c", "e", "f"), oldestFirst.stream().map(ScoredGroup::getGroupId).toList());
        assertEquals(1, dropped(partitionOrder), "a and e fill the batch, so c is trained at version 2: 2 versions stale");
        assertEquals(0, dropped(oldestFirst));
    }

    /** B=2, maxStaleness 1, from version 1: offers the groups in order, stepping at each full batch; the groups dropped. */
    private long dropped(List<ScoredGroup> groups) throws Exception {
        try (Trainer trainer = trainer(2, 1, 1, atVersion(1))) {
            for (ScoredGroup group : groups) {
                trainer.offer(group);
                if (trainer.batchReady()) trainer.step();
            }
            return trainer.dropped().count();
        }
    }

    @Test
    void untrainableGroupsAreRejectedNamingTheRollout() {
        ScoredGroup mismatch = Fixtures.simpleGroup("g", 0);
        mismatch.setAdvantages(List.of(1.0));
        assertEquals(InvalidGroupException.GROUP_SIZE_MISMATCH,
                assertThrows(InvalidGroupException.class, () -> Trainer.samples(mismatch, Fixtures.TINY, 0)).errorType());

        int[] prompt = ByteTokenizer.encodePrompt("1+1=");
        int[] longCompletion = new int[40];
        java.util.Arrays.fill(longCompletion, 'x');
        ScoredGroup tooLong = Fixtures.group("long", List.of(
                Fixtures.rollout("long", 0, 1, prompt, longCompletion, new float[40], 0)), List.of(1.0), List.of(0.0));
        var e = assertThrows(InvalidGroupException.class, () -> Trainer.samples(tooLong, Fixtures.TINY, 0));
        assertEquals(InvalidGroupException.UNTRAINABLE_ROLLOUT, e.errorType());
        assertTrue(e.getMessage().contains("rollout long/0") && e.getMessage().contains("contextLength 32"), e.getMessage());

        ScoredGroup shortLogprobs = Fixtures.group("s", List.of(
                Fixtures.rollout("s", 0, 1, prompt, new int[] {'2', '3'}, new float[] {-1f}, 0)), List.of(1.0), List.of(0.0));
        assertTrue(assertThrows(InvalidGroupException.class, () -> Trainer.samples(shortLogprobs, Fixtures.TINY, 0))
                .getMessage().contains("1 behaviour log-probs for 2 completion tokens"));

        assertEquals(InvalidGroupException.FUTURE_POLICY_VERSION,
                assertThrows(InvalidGroupException.class, () -> Trainer.samples(Fixtures.simpleGroup("f", 5), Fixtures.TINY, 4)).errorType());
    }
}
