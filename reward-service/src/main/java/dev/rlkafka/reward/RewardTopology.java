package dev.rlkafka.reward;

import dev.rlkafka.reward.avro.ClosedGroup;
import dev.rlkafka.schemas.Topics;
import dev.rlkafka.schemas.serde.RlSerdes;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.state.Stores;

/**
 * The reward-service's Kafka Streams topology; {@link #build} is what production runs and what the
 * {@code TopologyTestDriver} tests drive.
 *
 * <pre>
 * rl.rollouts ─► rollouts-source ─► assemble-groups ◄── rewards-source ◄── rl.rewards
 *                                        │ stores pending-groups, closed-groups
 *                                        ├─► builtin-rewards-sink ─► rl.rewards   (when builtInScorers)
 *                                        ├─► scored-groups-sink ─► rl.scored-groups
 *                                        ├─► dead-letters-sink  ─► rl.dead-letters
 *                                        └─► metrics-sink       ─► rl.metrics
 * </pre>
 *
 * Both inputs are read as raw bytes, so a record that does not decode is dead-lettered with its
 * original bytes instead of failing the stream thread.
 */
public final class RewardTopology {
    public static final String ROLLOUTS_SOURCE = "rollouts-source";
    public static final String REWARDS_SOURCE = "rewards-source";
    public static final String BUILTIN_REWARDS_SINK = "builtin-rewards-sink";
    public static final String ASSEMBLE_GROUPS = "assemble-groups";
    public static final String SCORED_GROUPS_SINK = "scored-groups-sink";
    public static final String DEAD_LETTERS_SINK = "dead-letters-sink";
    public static final String METRICS_SINK = "metrics-sink";
    /** Pending groups by group id. */
    public static final String PENDING_GROUPS = "pending-groups";
    /** Emitted or expired group ids, remembered for {@link RewardConfig#closedRetention()}. */
    public static final String CLOSED_GROUPS = "closed-groups";
    /** {@code Metric.kind} of the counters this service writes. */
    public static final String METRIC_KIND = "reward.counters";

    private RewardTopology() {
    }

    public static Topology build(RewardConfig config) {
        Topics topics = config.topics();
        var bytes = Serdes.ByteArray().deserializer();
        var keys = Serdes.String().serializer();
        Topology topology = new Topology();
        topology.addSource(ROLLOUTS_SOURCE, bytes, bytes, topics.rollouts());
        topology.addSource(REWARDS_SOURCE, bytes, bytes, topics.rewards());
        topology.addProcessor(ASSEMBLE_GROUPS, () -> new GroupAssembler(config), ROLLOUTS_SOURCE, REWARDS_SOURCE);
        // In memory, changelogged, cached: a pending group lives well under a second and is rewritten with
        // every rollout and reward; the cache folds those writes into one changelog record per commit, and
        // the changelog alone restores the stores after a restart.
        topology.addStateStore(Stores.keyValueStoreBuilder(
                Stores.inMemoryKeyValueStore(PENDING_GROUPS), Serdes.String(), pendingGroupSerde())
                .withCachingEnabled(), ASSEMBLE_GROUPS);
        topology.addStateStore(Stores.keyValueStoreBuilder(
                Stores.inMemoryKeyValueStore(CLOSED_GROUPS), Serdes.String(), closedGroupSerde())
                .withCachingEnabled(), ASSEMBLE_GROUPS);
        if (config.builtInScorers()) {
            topology.addSink(BUILTIN_REWARDS_SINK, topics.rewards(), keys, RlSerdes.reward().serializer(), ASSEMBLE_GROUPS);
        }
        topology.addSink(SCORED_GROUPS_SINK, topics.scoredGroups(), keys, RlSerdes.scoredGroup().serializer(), ASSEMBLE_GROUPS);
        topology.addSink(DEAD_LETTERS_SINK, topics.deadLetters(), keys, RlSerdes.deadLetter().serializer(), ASSEMBLE_GROUPS);
        topology.addSink(METRICS_SINK, topics.metrics(), keys, RlSerdes.metric().serializer(), ASSEMBLE_GROUPS);
        return topology;
    }

    static Serde<GroupState> pendingGroupSerde() {
        return Serdes.serdeFrom(
                (topic, group) -> group == null ? null : GroupStateCodec.encode(group),
                (topic, bytes) -> bytes == null ? null : GroupStateCodec.decode(bytes));
    }

    static Serde<ClosedGroup> closedGroupSerde() {
        return Serdes.serdeFrom(
                (topic, group) -> group == null ? null : GroupStateCodec.encode(group),
                (topic, bytes) -> bytes == null ? null : GroupStateCodec.decodeClosed(bytes));
    }
}
