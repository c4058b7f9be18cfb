package dev.rlkafka.reward;

import dev.rlkafka.schemas.TopicSpec;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.streams.CloseOptions;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * Runs {@link RewardTopology} on Kafka Streams with exactly-once processing. {@code new RewardService(config).start()};
 * {@link #close()} stops it (a shutdown hook in {@code main} should call it).
 */
public final class RewardService implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(RewardService.class);
    /** How long {@link #close()} waits for the stream threads to finish their last commit. */
    public static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(30);
    /** Segment size of the Streams changelog topics: small enough that compaction keeps up within a run. */
    static final int CHANGELOG_SEGMENT_BYTES = 16 * 1024 * 1024;

    private final RewardConfig config;
    private final KafkaStreams streams;

    public RewardService(RewardConfig config) {
        this.config = config;
        this.streams = new KafkaStreams(RewardTopology.build(config), streamsProperties(config));
        // bad input is dead-lettered inside the topology, so an exception here is a broker problem or a bug;
        // a fresh thread retries from the last commit rather than leaving the partitions unprocessed
        streams.setUncaughtExceptionHandler(e -> {
            log.error("reward-service stream thread failed; replacing it (uncommitted work is redone)", e);
            return StreamThreadExceptionResponse.REPLACE_THREAD;
        });
    }

    /** The Kafka Streams settings of {@code config}: the one place they are derived. */
    public static Properties streamsProperties(RewardConfig config) {
        Properties props = config.clientConfig().with(config.bootstrap());
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, config.applicationId());
        props.put(StreamsConfig.CLIENT_ID_CONFIG, config.serviceId());
        // scored groups and dead letters are written in the same transaction as the input offsets
        props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
        props.put(StreamsConfig.STATE_DIR_CONFIG, config.stateDir().toString());
        props.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, config.commitInterval().toMillis());
        // an idle stream thread blocks in poll for poll.ms before it looks at the commit clock again, so the
        // commit of a batch's last scored groups can wait commit interval + poll.ms; a fifth of the interval
        // keeps that wait short without more commits (a shorter poll returns early, it does not cancel fetches)
        props.put(StreamsConfig.POLL_MS_CONFIG, Math.max(1, config.commitInterval().toMillis() / 5));
        props.put(StreamsConfig.REPLICATION_FACTOR_CONFIG, config.replicationFactor());
        // the group stores' changelogs are compacted, but only closed segments are: with the broker's 1 GiB
        // default a run's changelog would keep every group state it ever wrote
        props.put(StreamsConfig.topicPrefix(TopicConfig.SEGMENT_BYTES_CONFIG), CHANGELOG_SEGMENT_BYTES);
        // a scored group, and the pending group in the changelog, hold all G rollouts, and a dead letter a whole
        // record: with the client's 1 MiB default a large group fails on send, the stream thread dies, and its
        // replacement fails on the same records for ever. The changelogs get the same cap as the topics.
        int largest = TopicSpec.largestRecordBytes(config.topics());
        props.put(StreamsConfig.producerPrefix(ProducerConfig.MAX_REQUEST_SIZE_CONFIG), largest);
        props.put(StreamsConfig.topicPrefix(TopicConfig.MAX_MESSAGE_BYTES_CONFIG), largest);
        // a new application reads the rollouts already on the topic, not only those written after it started
        props.put(StreamsConfig.consumerPrefix(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG), "earliest");
        return props;
    }

    /**
     * Starts the stream threads and waits until they are RUNNING.
     *
     * @throws IllegalStateException when RUNNING is not reached within {@link RewardConfig#startTimeout()}
     *                               (the service is closed then)
     */
    public RewardService start() throws InterruptedException {
        log.info("starting reward-service: {}", config);
        CountDownLatch running = new CountDownLatch(1);
        streams.setStateListener((newState, oldState) -> {
            log.info("reward-service state {} -> {}", oldState, newState);
            if (newState == KafkaStreams.State.RUNNING) running.countDown();
        });
        streams.start();
        if (!running.await(config.startTimeout().toMillis(), TimeUnit.MILLISECONDS)) {
            KafkaStreams.State state = streams.state();
            close();
            throw new IllegalStateException("reward-service (application id %s, bootstrap %s) not RUNNING after %s (startTimeout); state %s"
                    .formatted(config.applicationId(), config.bootstrap(), config.startTimeout(), state));
        }
        log.info("reward-service running: {} + {} -> {}", config.topics().rollouts(), config.topics().rewards(),
                config.topics().scoredGroups());
        return this;
    }

    /** Kafka Streams' state (CREATED, REBALANCING, RUNNING, ...). */
    public KafkaStreams.State state() {
        return streams.state();
    }

    public RewardConfig config() {
        return config;
    }

    /**
     * Waits until the service has committed past the last committed rollout on {@code rl.rollouts}, so that
     * whoever stopped the generators can close it knowing every rollout was scored (a demo's last batch).
     * Rollouts written after this call starts are not waited for.
     *
     * @return false when {@code timeout} passed first or the broker could not be asked
     */
    public boolean awaitCaughtUp(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        Properties adminProps = config.clientConfig().with(config.bootstrap());
        try (Admin admin = Admin.create(adminProps)) {
            Map<TopicPartition, Long> target = nextAfterLastRollout(deadline);
            while (true) {
                Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(config.applicationId())
                        .partitionsToOffsetAndMetadata().get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                long behind = target.entrySet().stream().filter(e -> {
                    OffsetAndMetadata c = committed.get(e.getKey());
                    return c == null || c.offset() < e.getValue();
                }).count();
                if (behind == 0) return true;
                if (System.nanoTime() > deadline) {
                    log.warn("reward-service still behind on {} of {} partitions of {} after {}", behind, target.size(),
                            config.topics().rollouts(), timeout);
                    return false;
                }
                Thread.sleep(config.commitInterval().toMillis());
            }
        } catch (ExecutionException | java.util.concurrent.TimeoutException | org.apache.kafka.common.KafkaException e) {
            // a caller on its way out (the demo closing) should go on closing, not fail
            log.warn("could not tell whether reward-service {} has caught up on {}: {}", config.applicationId(),
                    config.topics().rollouts(), e instanceof ExecutionException ? e.getCause() : e);
            return false;
        }
    }

    /**
     * Per partition of {@code rl.rollouts} with a committed rollout: its offset + 1. Not simply the end offset, which
     * is a transaction marker's + 1 that a consumer need not commit past. What was found by {@code deadline}
     * (System.nanoTime) when the broker does not answer in time.
     */
    private Map<TopicPartition, Long> nextAfterLastRollout(long deadline) {
        Properties props = config.clientConfig().with(config.bootstrap());
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        props.put(ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) Math.max(1, (deadline - System.nanoTime()) / 1_000_000));
        Map<TopicPartition, Long> next = new HashMap<>();
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            String topic = config.topics().rollouts();
            List<TopicPartition> partitions = consumer.partitionsFor(topic).stream()
                    .map(p -> new TopicPartition(topic, p.partition())).toList();
            consumer.assign(partitions);
            Map<TopicPartition, Long> begin = consumer.beginningOffsets(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions);   // read_committed: last stable offsets
            for (TopicPartition tp : partitions) {
                // a generator's transaction ends in one marker; look further back in case the last ones were aborted
                long from = end.get(tp);
                while (from > begin.get(tp) && !next.containsKey(tp)) {
                    long to = from;
                    from = Math.max(begin.get(tp), from - 256);
                    consumer.assign(List.of(tp));
                    consumer.seek(tp, from);
                    while (consumer.position(tp) < to && System.nanoTime() < deadline) {
                        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                            if (r.offset() < to) next.merge(tp, r.offset() + 1, Math::max);
                        }
                    }
                }
            }
        }
        return next;
    }

    /**
     * Stops the stream threads, committing what they finished, and leaves the consumer group, so the
     * partitions move at once instead of after the session timeout (45 s): a restarted service picks up where
     * this one stopped without that wait. Waits at most {@link #CLOSE_TIMEOUT}.
     */
    @Override
    public void close() {
        if (!streams.close(CloseOptions.groupMembershipOperation(CloseOptions.GroupMembershipOperation.LEAVE_GROUP)
                .withTimeout(CLOSE_TIMEOUT))) {
            log.warn("reward-service did not stop within {}", CLOSE_TIMEOUT);
        } else {
            log.info("reward-service stopped");
        }
    }
}
