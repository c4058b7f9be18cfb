package dev.rlkafka.trainer;

import dev.rlkafka.policy.model.ModelConfig;
import dev.rlkafka.policy.model.Policy;
import dev.rlkafka.policy.train.RlGroup;
import dev.rlkafka.policy.train.RlSample;
import dev.rlkafka.policy.train.RlUpdater;
import dev.rlkafka.policy.train.UpdateStats;
import dev.rlkafka.policy.weights.Tensor;
import dev.rlkafka.schemas.avro.Rollout;
import dev.rlkafka.schemas.avro.ScoredGroup;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.function.ToLongFunction;

/**
 * The trainer without Kafka: scored groups in, updates of the configured algorithm (GRPO, PPO or online DPO) out.
 * {@link #offer} validates a group and either adds it to the pending batch or drops it as stale (the same rule for
 * every algorithm); once {@link #batchReady()} (B groups), {@link #step()} trains on the batch, and every K steps
 * advances the policy version. Also keeps the audit of every group consumed. Not thread-safe: one loop thread
 * drives it.
 */
public final class Trainer implements AutoCloseable {

    /** What {@link #offer} did with a valid group. */
    public enum Offer { ACCEPTED, DROPPED_STALE }

    /** A group accepted into the pending batch, already turned into samples. */
    private record Pending(String groupId, RlGroup group, List<Double> rewards, int correct, int withAnswer,
                           int staleness) {
    }

    private final TrainerConfig config;
    private final Policy policy;
    private final StalenessPolicy staleness;
    private final RlUpdater updater;
    private final List<Pending> pending = new ArrayList<>();

    private long step;
    private long policyVersion;
    private int stepsSinceVersion;
    private long droppedSinceStep;
    private Audit trained;
    private Audit dropped;
    private Audit deadLettered;

    /**
     * @param policy    the policy to train, holding the weights of {@code state.policyVersion()}
     * @param reference the frozen SFT policy (KL term); never updated
     * @param state     counters to resume from ({@link TrainerState#INITIAL} for a new run)
     */
    public Trainer(TrainerConfig config, Policy policy, Policy reference, TrainerState state) {
        this.config = config;
        this.policy = policy;
        this.staleness = config.stalenessPolicy();
        this.updater = config.update().newUpdater(policy, reference);
        this.step = state.step();
        this.policyVersion = state.policyVersion();
        this.trained = state.trained();
        this.dropped = state.dropped();
        this.deadLettered = state.deadLettered();
    }

    /**
     * Validates {@code group} and adds it to the pending batch, or drops it (counted) when its oldest rollout
     * lags the current policy version by more than maxStaleness.
     *
     * @throws IllegalStateException  when a full batch is still pending ({@link #step()} first)
     * @throws InvalidGroupException  when the group cannot be trained on; nothing is recorded (the caller
     *                                dead-letters it and calls {@link #recordDeadLetter})
     */
    public Offer offer(ScoredGroup group) throws InvalidGroupException {
        if (batchReady()) throw new IllegalStateException("a full batch of " + pending.size() + " groups is pending; call step() first");
        List<RlSample> samples = samples(group, policy.config(), policyVersion);
        long oldest = samples.stream().mapToLong(RlSample::policyVersion).min().orElseThrow();
        long groupStaleness = StalenessPolicy.staleness(policyVersion, oldest);
        if (!staleness.keep(groupStaleness)) {
            dropped = dropped.add(group.getGroupId());
            droppedSinceStep++;
            return Offer.DROPPED_STALE;
        }
        int correct = 0, withAnswer = 0;
        for (Map<String, Double> scores : group.getScores()) {
            Double exact = scores.get(StepResult.EXACT_ANSWER);
            if (exact != null) {
                withAnswer++;
                if (exact >= 1) correct++;
            }
        }
        pending.add(new Pending(group.getGroupId(), new RlGroup(samples), List.copyOf(group.getRewards()), correct, withAnswer,
                (int) groupStaleness));
        return Offer.ACCEPTED;
    }

    /**
     * One rollout → one sample: its prompt and completion tokens, behaviour log-probs, the group's reward and
     * advantage for that rollout, and the policy version that sampled it.
     *
     * @param currentVersion the trainer's version; a rollout from a later one is invalid
     */
    static List<RlSample> samples(ScoredGroup group, ModelConfig model, long currentVersion) throws InvalidGroupException {
        String id = group.getGroupId();
        List<Rollout> rollouts = group.getRollouts();
        int n = rollouts.size();
        if (n == 0) throw new InvalidGroupException(InvalidGroupException.GROUP_SIZE_MISMATCH, "group " + id + " has no rollouts");
        if (group.getRewards().size() != n || group.getAdvantages().size() != n || group.getScores().size() != n) {
            throw new InvalidGroupException(InvalidGroupException.GROUP_SIZE_MISMATCH, "group %s has %d rollouts but %d rewards, %d advantages, %d score maps"
                    .formatted(id, n, group.getRewards().size(), group.getAdvantages().size(), group.getScores().size()));
        }
        List<RlSample> samples = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            Rollout r = rollouts.get(i);
            String where = "rollout " + r.getRolloutId() + " (index " + i + ") of group " + id;
            int[] prompt = ints(r.getPromptTokenIds());
            int[] completion = ints(r.getCompletionTokenIds());
            float[] behaviour = new float[r.getBehaviourLogprobs().size()];
            for (int t = 0; t < behaviour.length; t++) {
                behaviour[t] = r.getBehaviourLogprobs().get(t);
                if (!Float.isFinite(behaviour[t])) {
                    throw new InvalidGroupException(InvalidGroupException.UNTRAINABLE_ROLLOUT,
                            where + " has behaviour log-prob " + behaviour[t] + " at token " + t);
                }
            }
            if (prompt.length == 0 || completion.length == 0) {
                throw new InvalidGroupException(InvalidGroupException.UNTRAINABLE_ROLLOUT, where + " has " + prompt.length
                        + " prompt and " + completion.length + " completion tokens; both must be non-empty");
            }
            if (behaviour.length != completion.length) {
                throw new InvalidGroupException(InvalidGroupException.UNTRAINABLE_ROLLOUT, where + " has " + behaviour.length
                        + " behaviour log-probs for " + completion.length + " completion tokens");
            }
            if (prompt.length + completion.length > model.contextLength()) {
                throw new InvalidGroupException(InvalidGroupException.UNTRAINABLE_ROLLOUT, where + " has " + prompt.length + " + "
                        + completion.length + " tokens, more than the model's contextLength " + model.contextLength());
            }
            checkVocabulary(prompt, model, where, "prompt");
            checkVocabulary(completion, model, where, "completion");
            double advantage = group.getAdvantages().get(i);
            if (!Double.isFinite(advantage)) {
                throw new InvalidGroupException(InvalidGroupException.NON_FINITE_ADVANTAGE, where + " has advantage " + advantage);
            }
            double reward = group.getRewards().get(i);
            if (!Double.isFinite(reward)) {
                throw new InvalidGroupException(InvalidGroupException.NON_FINITE_REWARD, where + " has reward " + reward);
            }
            long version = r.getPolicyVersion();
            if (version < 0 || version > currentVersion) {
                throw new InvalidGroupException(InvalidGroupException.FUTURE_POLICY_VERSION, where + " has policy version "
                        + version + " but the trainer's latest version is " + currentVersion);
            }
            samples.add(new RlSample(prompt, completion, behaviour, reward, advantage, version));
        }
        return samples;
    }

    /**
     * The groups of one read, in the order to offer them: of the partitions' next groups, the one with the oldest
     * policy version first (ties: the earlier partition in the list), each partition's own order kept, so that what
     * was offered of a partition is always a prefix of it (the caller's offsets). A generator at the staleness bound
     * samples groups that are exactly maxStaleness stale when trained, so a group of an older admission read after a
     * newer one's had filled the batch would be trained a version late and dropped; after a stall, when several
     * admissions wait at once, reading partition after partition does just that.
     *
     * @param partitions    per partition, its groups in the order read
     * @param oldestVersion the oldest policy version of a group's rollouts (e.g. {@link Long#MIN_VALUE} for a record
     *                      that cannot be read, which then goes as soon as it heads its partition)
     */
    static <T> List<T> oldestFirst(List<List<T>> partitions, ToLongFunction<T> oldestVersion) {
        record Head(int partition, int index, long version) {
        }
        Comparator<Head> order = Comparator.comparingLong(Head::version).thenComparingInt(Head::partition);
        PriorityQueue<Head> heads = new PriorityQueue<>(order);
        for (int p = 0; p < partitions.size(); p++) {
            if (!partitions.get(p).isEmpty()) heads.add(new Head(p, 0, oldestVersion.applyAsLong(partitions.get(p).get(0))));
        }
        List<T> merged = new ArrayList<>();
        while (!heads.isEmpty()) {
            Head head = heads.poll();
            List<T> partition = partitions.get(head.partition());
            merged.add(partition.get(head.index()));
            int next = head.index() + 1;
            if (next < partition.size()) heads.add(new Head(head.partition(), next, oldestVersion.applyAsLong(partition.get(next))));
        }
        return merged;
    }

    /** Groups dropped as stale since the last step (the next step's {@link StepResult#droppedStale()}). */
    public long droppedSinceStep() {
        return droppedSinceStep;
    }

    /** B groups are pending. */
    public boolean batchReady() {
        return pending.size() >= config.batchGroups();
    }

    /**
     * A batch whose groups dropped as stale keep their places: the pending groups and the drops since the last step
     * make B, and at least half of B are groups to train on. The loop trains it only when no other group is waiting
     * (see {@code TrainerService}); a batch mostly dropped, as behind a generator restarted with its earlier groups
     * still in flight, waits for groups to fill it.
     */
    public boolean batchReadyKeepingDroppedPlaces() {
        int b = config.batchGroups();
        return 2 * pending.size() >= b && pending.size() + droppedSinceStep >= b;
    }

    /** Groups accepted but not trained yet. */
    public int pendingGroups() {
        return pending.size();
    }

    /**
     * One update on the pending groups (B, or fewer for a last batch); advances the policy version when this
     * step completes K steps since the last version. A DPO batch without a single preference pair takes no
     * optimiser step but counts as a step all the same: its groups were consumed.
     *
     * @throws IllegalStateException when nothing is pending
     */
    public StepResult step() {
        if (pending.isEmpty()) throw new IllegalStateException("no pending groups to train on");
        List<RlGroup> batch = new ArrayList<>();
        // sized to the largest staleness seen, not maxStaleness: a bound of 10^6 must not mean 10^6 buckets per step
        long[] histogram = new long[pending.stream().mapToInt(Pending::staleness).max().orElseThrow() + 1];
        double rewardSum = 0;
        int rewards = 0, correct = 0, withAnswer = 0;
        long rolloutTokens = 0;
        for (Pending p : pending) {
            batch.add(p.group());
            for (RlSample r : p.group().rollouts()) rolloutTokens += r.completionTokens().length;
            histogram[p.staleness()]++;
            for (double r : p.rewards()) { rewardSum += r; rewards++; }
            correct += p.correct();
            withAnswer += p.withAnswer();
        }
        long start = System.nanoTime();
        UpdateStats stats = updater.update(batch);
        double seconds = Math.max((System.nanoTime() - start) / 1e9, 1e-9);

        for (Pending p : pending) trained = trained.add(p.groupId());
        int groups = pending.size();
        pending.clear();
        step++;
        stepsSinceVersion++;
        boolean advanced = stepsSinceVersion >= config.stepsPerVersion() && advanceVersion();
        long droppedStale = droppedSinceStep;
        droppedSinceStep = 0;
        return new StepResult(step, policyVersion, advanced, groups, droppedStale, deadLettered.count(), rewardSum / rewards,
                withAnswer == 0 ? Double.NaN : (double) correct / withAnswer, stats.kl(), stats.loss(), stats.clipFraction(),
                histogram, stats.tokens(), rolloutTokens, stats.tokens() / seconds, stats.diagnostics());
    }

    /**
     * Starts a new policy version now if any step was taken since the last one (used when stopping between
     * K-step boundaries, so the last steps are not lost).
     *
     * @return whether the version advanced
     */
    public boolean advanceVersion() {
        if (stepsSinceVersion == 0) return false;
        policyVersion++;
        stepsSinceVersion = 0;
        return true;
    }

    /** Counts a record that went to the dead-letter topic (by group id, or partition@offset when undecodable). */
    public void recordDeadLetter(String id) {
        deadLettered = deadLettered.add(id);
    }

    /**
     * The counters for a checkpoint. Only taken at a version boundary with nothing pending, so a checkpoint's
     * weights are exactly its version's and every group it counts is reflected in them.
     *
     * @throws IllegalStateException when steps were taken since the last version or groups are pending
     */
    public TrainerState state() {
        if (stepsSinceVersion != 0 || !pending.isEmpty()) {
            throw new IllegalStateException("state is only checkpointed at a version boundary with nothing pending; "
                    + stepsSinceVersion + " steps since version " + policyVersion + ", " + pending.size() + " groups pending");
        }
        return new TrainerState(step, policyVersion, trained, dropped, deadLettered);
    }

    /** Optimiser steps taken in total. */
    public long steps() {
        return step;
    }

    public long policyVersion() {
        return policyVersion;
    }

    public int stepsSinceVersion() {
        return stepsSinceVersion;
    }

    public Audit trained() {
        return trained;
    }

    public Audit dropped() {
        return dropped;
    }

    public Audit deadLettered() {
        return deadLettered;
    }

    public Policy policy() {
        return policy;
    }

    /** What a checkpoint keeps besides the weights: the optimiser state, and PPO's critic (see {@link RlUpdater#optimizerState()}). */
    public Map<String, Tensor> optimizerState() {
        return updater.optimizerState();
    }

    public void loadOptimizerState(Map<String, Tensor> state) {
        updater.loadOptimizerState(state);
    }

    private static void checkVocabulary(int[] ids, ModelConfig model, String where, String part) throws InvalidGroupException {
        for (int t = 0; t < ids.length; t++) {
            if (ids[t] < 0 || ids[t] >= model.vocabSize()) {
                throw new InvalidGroupException(InvalidGroupException.UNTRAINABLE_ROLLOUT, where + " has " + part + " token id "
                        + ids[t] + " at " + t + ", outside the vocabulary [0, " + model.vocabSize() + ")");
            }
        }
    }

    private static int[] ints(List<Integer> values) {
        int[] out = new int[values.size()];
        for (int i = 0; i < out.length; i++) out[i] = values.get(i);
        return out;
    }

    /** Closes the optimiser; the policies belong to the caller. */
    @Override
    public void close() {
        updater.close();
    }
}
