package dev.rlkafka.schemas;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;

/** The one place that creates a run's topics with their configs, and reports what exists. */
public final class TopicAdmin {
    private static final Logger log = LoggerFactory.getLogger(TopicAdmin.class);
    private static final Duration VISIBILITY_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration VISIBILITY_POLL = Duration.ofMillis(50);
    private static final int LEADER_PROBE_TIMEOUT_MS = 1000;

    private TopicAdmin() {
    }

    /**
     * The partitions of {@code topic} in partition order, as {@code consumer} sees them.
     *
     * @param bootstrapServers for the message only
     * @throws IllegalStateException naming the topic when it does not exist (the broker does not create topics on demand)
     */
    public static List<TopicPartition> partitions(Consumer<?, ?> consumer, String topic, String bootstrapServers) {
        List<PartitionInfo> infos = consumer.partitionsFor(topic);
        if (infos == null || infos.isEmpty()) {
            throw new IllegalStateException("topic " + topic + " does not exist on " + bootstrapServers
                    + "; create the run's topics first (rlkafka topics create, or TopicAdmin.ensureTopics)");
        }
        return infos.stream().map(i -> new TopicPartition(topic, i.partition()))
                .sorted(Comparator.comparingInt(TopicPartition::partition)).toList();
    }

    /** {@link #ensureTopics(Admin, Topics, int, short)} with a short-lived admin client on {@code bootstrapServers}. */
    public static List<TopicSpec> ensureTopics(String bootstrapServers, Topics topics, int partitions, short replicationFactor) {
        return ensureTopics(bootstrapServers, KafkaClientConfig.NONE, topics, partitions, replicationFactor);
    }

    /** {@link #ensureTopics(Admin, Topics, int, short)} with a short-lived admin client with the cluster's client settings. */
    public static List<TopicSpec> ensureTopics(String bootstrapServers, KafkaClientConfig client, Topics topics, int partitions,
                                               short replicationFactor) {
        try (Admin admin = Admin.create(client.with(bootstrapServers))) {
            return ensureTopics(admin, topics, partitions, replicationFactor);
        }
    }

    /**
     * Creates every missing topic of the run with its {@link TopicSpec}, and returns once every partition's leader
     * serves it (see {@link #awaitLeadersServe}); idempotent.
     *
     * <p>An existing topic with another partition count is an error (co-partitioning and key
     * routing depend on it; adding partitions later would move keys). Existing topics whose managed
     * configs differ are left as they are, with a WARN: an operator may have tuned them.
     *
     * @return the specs of all topics of the run
     * @throws IllegalStateException when a topic exists with a different partition count
     */
    public static List<TopicSpec> ensureTopics(Admin admin, Topics topics, int partitions, short replicationFactor) {
        if (replicationFactor < 1) {
            throw new IllegalArgumentException("replicationFactor must be >= 1, got " + replicationFactor);
        }
        List<TopicSpec> specs = TopicSpec.forRun(topics, partitions);
        Set<String> existing = await(admin.listTopics().names(), "list topics");

        List<NewTopic> missing = new ArrayList<>();
        for (TopicSpec spec : specs) {
            if (!existing.contains(spec.name())) {
                missing.add(new NewTopic(spec.name(), spec.partitions(), replicationFactor).configs(spec.configs()));
            }
        }
        if (!missing.isEmpty()) {
            var results = admin.createTopics(missing).values();
            for (var entry : results.entrySet()) {
                try {
                    entry.getValue().get();
                    log.info("created topic {}", entry.getKey());
                } catch (ExecutionException e) {
                    if (!(e.getCause() instanceof TopicExistsException)) {
                        throw new KafkaException("cannot create topic " + entry.getKey() + ": " + e.getCause(), e.getCause());
                    }
                    // created concurrently by another process: checked below like any existing topic
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new KafkaException("interrupted while creating topic " + entry.getKey(), e);
                }
            }
        }

        Map<String, TopicState> states = awaitAllExist(admin, topics);
        List<TopicPartition> created = new ArrayList<>();
        for (TopicState state : states.values()) {
            for (int p = 0; p < state.partitions(); p++) created.add(new TopicPartition(state.name(), p));
        }
        awaitLeadersServe(admin, created);
        for (TopicSpec spec : specs) {
            TopicState state = states.get(spec.name());
            if (state.partitions() != spec.partitions()) {
                throw new IllegalStateException(("topic %s exists with %d partitions, expected %d; prompts, rollouts,"
                        + " rewards and scored-groups must share one count. Delete the run's topics or use its partition count")
                        .formatted(spec.name(), state.partitions(), spec.partitions()));
            }
            spec.configs().forEach((key, wanted) -> {
                String actual = state.configs().get(key);
                if (!wanted.equals(actual)) {
                    log.warn("topic {} has {}={}, the spec says {}; leaving it", spec.name(), key, actual, wanted);
                }
            });
        }
        return specs;
    }

    /**
     * Describes the run's topics once every one is visible. A created topic reaches the broker's
     * metadata cache a moment after createTopics returns, so an immediate list can still miss it.
     */
    private static Map<String, TopicState> awaitAllExist(Admin admin, Topics topics) {
        long deadline = System.nanoTime() + VISIBILITY_TIMEOUT.toNanos();
        while (true) {
            Map<String, TopicState> states;
            try {
                states = describe(admin, topics);
                if (states.values().stream().allMatch(TopicState::exists)) {
                    return states;
                }
            } catch (KafkaException e) {
                if (!(e.getCause() instanceof UnknownTopicOrPartitionException)) {
                    throw e;
                }
                states = null;  // listed but not yet describable: same race, try again
            }
            if (System.nanoTime() > deadline) {
                List<String> missing = states == null ? topics.all()
                        : states.values().stream().filter(t -> !t.exists()).map(TopicState::name).toList();
                throw new IllegalStateException("topics " + missing + " are still missing " + VISIBILITY_TIMEOUT.toSeconds()
                        + " s after creating them");
            }
            pause("topics " + topics.all() + " to appear");
        }
    }

    /**
     * Waits until the leader of every partition serves it. A broker answers metadata for a new partition a moment
     * before it can append to it, and an idempotent producer whose first batch meets that gap can lose the batch
     * silently when a later one lands first (KAFKA-15591). A list-offsets request is served by the partition's
     * leader itself, so once it succeeds for every partition a producer's first batch finds its partition ready.
     * Call it after creating a topic anywhere else too.
     *
     * @throws KafkaException when a leader still does not serve its partition after 30 s
     */
    public static void awaitLeadersServe(Admin admin, List<TopicPartition> created) {
        Map<TopicPartition, OffsetSpec> partitions = new LinkedHashMap<>();
        for (TopicPartition tp : created) partitions.put(tp, OffsetSpec.latest());
        String what = "the leaders of " + partitions.keySet();
        long deadline = System.nanoTime() + VISIBILITY_TIMEOUT.toNanos();
        while (true) {
            try {
                admin.listOffsets(partitions, new ListOffsetsOptions().timeoutMs(LEADER_PROBE_TIMEOUT_MS)).all().get();
                return;
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof RetriableException) || System.nanoTime() > deadline) {
                    throw new KafkaException(what + " do not serve them " + VISIBILITY_TIMEOUT.toSeconds() + " s after creating them: "
                            + e.getCause(), e.getCause());
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new KafkaException("interrupted while waiting for " + what, e);
            }
            pause(what);
        }
    }

    private static void pause(String waitingFor) {
        try {
            Thread.sleep(VISIBILITY_POLL.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new KafkaException("interrupted while waiting for " + waitingFor, e);
        }
    }

    /** {@link #describe(Admin, Topics)} with a short-lived admin client with the cluster's client settings. */
    public static Map<String, TopicState> describe(String bootstrapServers, KafkaClientConfig client, Topics topics) {
        try (Admin admin = Admin.create(client.with(bootstrapServers))) {
            return describe(admin, topics);
        }
    }

    /** Every topic of the run as the cluster has it, in {@link Topics#all()} order; missing ones say so. */
    public static Map<String, TopicState> describe(Admin admin, Topics topics) {
        Set<String> existing = await(admin.listTopics().names(), "list topics");
        List<String> present = topics.all().stream().filter(existing::contains).toList();

        Map<String, TopicDescription> descriptions = present.isEmpty() ? Map.of()
                : await(admin.describeTopics(present).allTopicNames(), "describe topics " + present);
        Map<ConfigResource, Config> configs = present.isEmpty() ? Map.of()
                : await(admin.describeConfigs(present.stream()
                        .map(t -> new ConfigResource(ConfigResource.Type.TOPIC, t)).toList()).all(),
                "describe configs of " + present);

        Map<String, TopicState> states = new LinkedHashMap<>();
        for (String name : topics.all()) {
            TopicDescription description = descriptions.get(name);
            if (description == null) {
                states.put(name, TopicState.missing(name));
                continue;
            }
            Config config = configs.get(new ConfigResource(ConfigResource.Type.TOPIC, name));
            TreeMap<String, String> effective = new TreeMap<>();
            if (config != null) {
                for (ConfigEntry entry : config.entries()) {
                    boolean setOnTopic = entry.source() == ConfigEntry.ConfigSource.DYNAMIC_TOPIC_CONFIG;
                    if (setOnTopic || TopicSpec.MANAGED_CONFIGS.contains(entry.name())) {
                        effective.put(entry.name(), entry.value());
                    }
                }
            }
            int replicas = description.partitions().isEmpty() ? 0 : description.partitions().get(0).replicas().size();
            states.put(name, new TopicState(name, true, description.partitions().size(), replicas, effective));
        }
        return states;
    }

    private static <T> T await(KafkaFuture<T> future, String what) {
        try {
            return future.get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof UnknownTopicOrPartitionException) {
                // deleted between list and describe: report as the cluster sees it on the next call
                throw new KafkaException("cannot " + what + ": a topic disappeared meanwhile (" + e.getCause().getMessage() + ")", e.getCause());
            }
            throw new KafkaException("cannot " + what + ": " + e.getCause(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new KafkaException("interrupted while trying to " + what, e);
        }
    }
}
