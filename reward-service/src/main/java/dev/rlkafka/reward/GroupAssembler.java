package dev.rlkafka.reward;

import dev.rlkafka.reward.avro.ClosedGroup;
import dev.rlkafka.schemas.DeadLetters;
import dev.rlkafka.schemas.Topics;
import dev.rlkafka.schemas.avro.DeadLetter;
import dev.rlkafka.schemas.avro.Metric;
import dev.rlkafka.schemas.avro.Reward;
import dev.rlkafka.schemas.avro.Rollout;
import dev.rlkafka.schemas.avro.ScoredGroup;
import dev.rlkafka.schemas.serde.RecordCodec;
import dev.rlkafka.schemas.serde.RecordDecodingException;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessingContext;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Kafka adapter of {@link GroupAssembly}: decodes raw rollouts and rewards, keeps each pending group in
 * the {@value RewardTopology#PENDING_GROUPS} store, and forwards scored groups, dead letters and counters
 * to their sinks.
 *
 * <p>The pending groups are worked on decoded, in {@link #groups}; the store is written through on every
 * change, for the changelog, and read once, when the task starts (after a restore). Reading a group back
 * from the store and encoding it again for each of its 2G records was half of this service's CPU.
 */
final class GroupAssembler implements Processor<byte[], byte[], String, SpecificRecord> {
    private static final Logger log = LoggerFactory.getLogger(GroupAssembler.class);
    private static final RecordCodec<Rollout> ROLLOUTS = RecordCodec.of(Rollout.class);
    private static final RecordCodec<Reward> REWARDS = RecordCodec.of(Reward.class);
    static final String EMITTED = "emitted";
    static final String TIMED_OUT = "timed out";

    private final RewardConfig config;
    private final Topics topics;
    private final GroupAssembly assembly;
    private final RewardCounters counters = new RewardCounters();
    /** Null when the built-in scorers are off. */
    private final BuiltInScorers builtIn;
    private ProcessorContext<String, SpecificRecord> context;
    private KeyValueStore<String, GroupState> pending;
    /** Exactly the groups in {@link #pending}, decoded, in the store's key order. */
    private final Map<String, GroupState> groups = new TreeMap<>();
    private KeyValueStore<String, ClosedGroup> closed;
    /**
     * Wall-clock ms of the last {@link #init}: restored groups' grace and timeout count from here, not from before a
     * restart. init also runs when a rebalance moves the task or an aborted transaction revives it: each gives the
     * groups in the store one more timeout, which a healthy cluster's rare rebalances keep small.
     */
    private long resumedAtMs;

    GroupAssembler(RewardConfig config) {
        this.config = config;
        this.topics = config.topics();
        this.assembly = GroupAssembly.of(config);
        this.builtIn = config.builtInScorers() ? new BuiltInScorers(config.serviceId()) : null;
    }

    @Override
    public void init(ProcessorContext<String, SpecificRecord> context) {
        this.context = context;
        this.pending = context.getStateStore(RewardTopology.PENDING_GROUPS);
        this.closed = context.getStateStore(RewardTopology.CLOSED_GROUPS);
        // init runs again when a task is revived after an aborted transaction: the store is then the truth
        groups.clear();
        resumedAtMs = context.currentSystemTimeMs();
        try (KeyValueIterator<String, GroupState> all = pending.all()) {
            all.forEachRemaining(kv -> groups.put(kv.key, kv.value));
        }
        // wall-clock time: graces and timeouts must end even when no new record advances stream time
        context.schedule(config.punctuationInterval(), PunctuationType.WALL_CLOCK_TIME, this::checkGroups);
        // wall-clock time: counters are reported on a quiet topic too
        context.schedule(config.metricsInterval(), PunctuationType.WALL_CLOCK_TIME, this::reportCounters);
    }

    @Override
    public void process(Record<byte[], byte[]> rec) {
        Origin origin = origin(context, rec);
        long nowMs = context.currentSystemTimeMs();
        if (origin.topic().equals(topics.rollouts())) {
            onRollout(rec, origin, nowMs);
        } else if (origin.topic().equals(topics.rewards())) {
            onReward(rec, origin, nowMs);
        } else {
            throw new IllegalStateException("assemble-groups wired to unexpected topic " + origin
                    + "; expected " + topics.rollouts() + " or " + topics.rewards());
        }
    }

    private void onRollout(Record<byte[], byte[]> rec, Origin origin, long nowMs) {
        Rollout rollout;
        try {
            rollout = ROLLOUTS.decode(origin.topic(), origin.partition(), origin.offset(), rec.value());
        } catch (RecordDecodingException e) {
            deadLetter(DeadLetters.undecodable(e, rec.key(), config.serviceId()), e.getMessage(), rec.timestamp());
            return;
        }
        String groupId = rollout.getGroupId();
        if (!keyMatches(origin, groupId, "rollout " + rollout.getRolloutId(), rec.timestamp())) return;
        ClosedGroup done = closed.get(groupId);
        if (done != null) {
            reject(new Rejection(GroupAssembly.LATE_ROLLOUT, "rollout %s arrived after its group %s was %s at %s (%s)"
                    .formatted(rollout.getRolloutId(), groupId, done.getOutcome(), Instant.ofEpochMilli(done.getClosedAtMs()), origin),
                    origin, groupId), rec.timestamp());
            return;
        }
        GroupState group = groupFor(groupId, nowMs);
        GroupAssembly.Step step = assembly.addRollout(group, rollout, origin, nowMs);
        boolean accepted = group.rollouts().get(rollout.getIndex()) == rollout;
        // a rejected rollout's scores would land on the id it collided with
        List<Reward> scores = builtIn == null || !accepted ? List.of() : builtIn.score(rollout, nowMs);
        // a pending group is stored once per record: with its built-in scores when it gets some
        apply(group, step, nowMs, rec.timestamp(), scores.isEmpty());
        for (int i = 0; i < scores.size(); i++) {
            Reward reward = scores.get(i);
            context.forward(new Record<String, SpecificRecord>(groupId, reward, rec.timestamp()),
                    RewardTopology.BUILTIN_REWARDS_SINK);
            // Applied here as well, in the same transaction as the write: waiting for it to come back from
            // rl.rewards would add a commit interval to every group. onReward drops that echo.
            if (step.closed()) continue;   // complete without the built-in scores (they are not required)
            step = assembly.addReward(group, reward, origin, nowMs);
            apply(group, step, nowMs, rec.timestamp(), i == scores.size() - 1);
        }
    }

    private void onReward(Record<byte[], byte[]> rec, Origin origin, long nowMs) {
        Reward reward;
        try {
            reward = REWARDS.decode(origin.topic(), origin.partition(), origin.offset(), rec.value());
        } catch (RecordDecodingException e) {
            deadLetter(DeadLetters.undecodable(e, rec.key(), config.serviceId()), e.getMessage(), rec.timestamp());
            return;
        }
        if (builtIn != null && BuiltInScorers.isBuiltIn(reward)) {
            counters.builtInEcho();   // applied when its rollout was scored (onRollout)
            return;
        }
        String groupId = reward.getGroupId();
        String what = "reward from scorer " + reward.getScorerId() + " for rollout " + reward.getRolloutId();
        if (!keyMatches(origin, groupId, what, rec.timestamp())) return;
        ClosedGroup done = closed.get(groupId);
        if (done != null) {
            reject(new Rejection(GroupAssembly.LATE_REWARD, "%s (score %s) arrived after group %s was %s at %s (%s)"
                    .formatted(what, reward.getScore(), groupId, done.getOutcome(), Instant.ofEpochMilli(done.getClosedAtMs()), origin),
                    origin, groupId), rec.timestamp());
            return;
        }
        GroupState group = groupFor(groupId, nowMs);
        apply(group, assembly.addReward(group, reward, origin, nowMs), nowMs, rec.timestamp());
    }

    /** Records are keyed by group id so a group's rollouts and rewards meet in one task; anything else is rejected. */
    private boolean keyMatches(Origin origin, String groupId, String what, long timestamp) {
        String key = origin.key() == null ? null : new String(origin.key(), StandardCharsets.UTF_8);
        if (groupId.equals(key)) return true;
        reject(new Rejection(GroupAssembly.KEY_MISMATCH, "%s has key '%s' but groupId '%s'; records must be keyed by group id (%s)"
                .formatted(what, key, groupId, origin), origin, groupId), timestamp);
        return false;
    }

    private GroupState groupFor(String groupId, long nowMs) {
        GroupState group = groups.get(groupId);
        return group != null ? group : new GroupState(groupId, nowMs);
    }

    private void apply(GroupState group, GroupAssembly.Step step, long nowMs, long timestamp) {
        apply(group, step, nowMs, timestamp, true);
    }

    /**
     * @param store whether a group that stays pending is written to its store now; false when a later step of the
     *              same record writes it, or when nothing changed it (a check of its timeout): each write encodes the
     *              whole group
     */
    private void apply(GroupState group, GroupAssembly.Step step, long nowMs, long timestamp, boolean store) {
        step.rejections().forEach(r -> reject(r, timestamp));
        switch (step.outcome()) {
            case PENDING -> {
                if (group.rollouts().isEmpty() && group.scores().isEmpty()) {
                    forget(group.groupId());
                } else {
                    groups.put(group.groupId(), group);
                    if (store) pending.put(group.groupId(), group);
                }
            }
            case EMITTED -> {
                ScoredGroup scored = step.emitted().orElseThrow();
                long waitMs = nowMs - group.firstSeenMs();
                counters.emitted(waitMs);
                log.debug("group {} emitted after {} ms: rewards {} missing {}", group.groupId(), waitMs,
                        scored.getRewards(), scored.getMissingScorers());
                context.forward(new Record<String, SpecificRecord>(group.groupId(), scored, timestamp),
                        RewardTopology.SCORED_GROUPS_SINK);
                close(group.groupId(), EMITTED, nowMs);
            }
            case EXPIRED -> {
                counters.expired();
                close(group.groupId(), TIMED_OUT, nowMs);
            }
        }
    }

    private void close(String groupId, String outcome, long nowMs) {
        forget(groupId);
        closed.put(groupId, new ClosedGroup(nowMs, outcome));
    }

    private void forget(String groupId) {
        groups.remove(groupId);
        pending.put(groupId, null);   // a delete, without delete()'s decoding of the old value only to drop it
    }

    private void checkGroups(long nowMs) {
        for (GroupState group : List.copyOf(groups.values())) {
            // a tick that leaves a group pending did not change it: storing it again would only rewrite the changelog
            apply(group, assembly.tick(group, nowMs, resumedAtMs), nowMs, nowMs, false);
        }
        List<String> forgotten = new ArrayList<>();
        try (KeyValueIterator<String, ClosedGroup> all = closed.all()) {
            all.forEachRemaining(kv -> {
                if (nowMs - kv.value.getClosedAtMs() >= config.closedRetention().toMillis()) forgotten.add(kv.key);
            });
        }
        forgotten.forEach(closed::delete);
    }

    private void reportCounters(long nowMs) {
        var values = counters.values();
        values.put("pending_groups", (double) groups.size());
        values.put("partition", (double) context.taskId().partition());
        Metric metric = Metric.newBuilder()
                .setServiceId(config.serviceId())
                .setKind(RewardTopology.METRIC_KIND)
                .setValues(values)
                .setTimestampMs(Instant.ofEpochMilli(nowMs))
                .build();
        context.forward(new Record<String, SpecificRecord>(config.serviceId(), metric, nowMs), RewardTopology.METRICS_SINK);
    }

    private void reject(Rejection rejection, long timestamp) {
        Origin o = rejection.origin();
        var builder = o != null
                ? DeadLetters.builder().source(o.topic(), o.partition(), o.offset()).key(o.key()).value(o.value())
                : DeadLetters.aboutGroup(topics.rollouts(), rejection.groupId());   // a timeout: no one record to return
        builder.errorType(rejection.errorType())
                .reason(rejection.reason())
                .serviceId(config.serviceId())
                .at(Instant.ofEpochMilli(context.currentSystemTimeMs()));
        deadLetter(builder.build(), rejection.reason(), timestamp);
    }

    private void deadLetter(DeadLetter letter, String reason, long timestamp) {
        counters.deadLetter(letter.getErrorType());
        log.warn("dead letter {}: {}", letter.getErrorType(), reason);
        context.forward(new Record<String, SpecificRecord>(config.serviceId(), letter, timestamp), RewardTopology.DEAD_LETTERS_SINK);
    }

    /** Topic, partition, offset and bytes of the record being processed. */
    static Origin origin(ProcessingContext context, Record<byte[], byte[]> rec) {
        RecordMetadata meta = context.recordMetadata().orElseThrow(
                () -> new IllegalStateException("no record metadata while processing a source record"));
        return new Origin(meta.topic(), meta.partition(), meta.offset(), rec.key(), rec.value());
    }
}
