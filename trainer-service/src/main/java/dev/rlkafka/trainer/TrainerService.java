package dev.rlkafka.trainer;

import ai.djl.Device;
import dev.rlkafka.policy.model.Policy;
import dev.rlkafka.policy.weights.Checkpoint;
import dev.rlkafka.policy.weights.Tensor;
import dev.rlkafka.policy.weights.WeightCodec;
import dev.rlkafka.schemas.DeadLetters;
import dev.rlkafka.schemas.Sha256;
import dev.rlkafka.schemas.TimedOutCalls;
import dev.rlkafka.schemas.TopicAdmin;
import dev.rlkafka.schemas.TopicSpec;
import dev.rlkafka.schemas.WeightBlobs;
import dev.rlkafka.schemas.WeightChunks;
import dev.rlkafka.schemas.avro.DeadLetter;
import dev.rlkafka.schemas.avro.Metric;
import dev.rlkafka.schemas.avro.Rollout;
import dev.rlkafka.schemas.avro.ScoredGroup;
import dev.rlkafka.schemas.avro.WeightChunk;
import dev.rlkafka.schemas.serde.RecordDecodingException;
import dev.rlkafka.schemas.serde.RlSerdes;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetOutOfRangeException;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.OutOfOrderSequenceException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.UnsupportedVersionException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.LongFunction;

/**
 * Runs a {@link Trainer} on Kafka: consumes {@code rl.scored-groups}, trains, checkpoints, and publishes policy
 * versions to {@code rl.policy-weights}; metrics to {@code rl.metrics}, bad groups to {@code rl.dead-letters}.
 *
 * <p><b>Exactly once across crashes.</b> The consumed offsets live in the checkpoint, next to the weights,
 * optimiser state and audit they produced (manual assignment, no consumer-group commits). A checkpoint is written
 * atomically right before each version is published, so a version number never names two different weights:
 * work after the last checkpoint is lost in a crash, and its groups are re-read and trained again, once.
 * Outputs that are not state (dead letters, metrics) may repeat for those re-read groups: at least once.
 *
 * <p><b>Two threads.</b> The loop thread polls and trains; a version's checkpoint and publish happen on a
 * publisher thread from a copy taken at the step, while the loop trains the next batch. The loop waits for the
 * previous publish before handing over the next step, so at most one version is in between.
 *
 * <p>{@code new TrainerService(config).onStep(listener).start()}; {@link #close()} stops it.
 */
public final class TrainerService implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(TrainerService.class);
    /** Checkpoint metadata key prefix of the next offset to read per scored-groups partition: {@code offset.<partition>}. */
    public static final String OFFSET_KEY_PREFIX = "offset.";
    public static final String METRIC_KIND = "trainer.step";
    /**
     * Metric kind of what happened between steps: {@code dropped_stale_since_step}, {@code dead_letters} (all so far)
     * and {@code pending_groups}. Written at most once per {@link #IDLE_REPORT_INTERVAL} while groups are dropped or
     * dead-lettered and no step comes (every group stale, say), and when the trainer ends by itself (maxSteps, or the
     * end of the topic); the next step's metric counts the drops too.
     */
    public static final String IDLE_METRIC_KIND = "trainer.idle";
    static final Duration IDLE_REPORT_INTERVAL = Duration.ofSeconds(1);
    /** Most tries of one transaction that fails with an abortable error; see {@link #transaction}. */
    private static final int TRANSACTION_ATTEMPTS = 30;
    private static final Duration TRANSACTION_RETRY_BACKOFF = Duration.ofSeconds(1);
    private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration SCAN_TIMEOUT = Duration.ofSeconds(60);

    private final TrainerConfig config;
    /** System.nanoTime() at the end of the last step; 0 before the first (trainer thread only). */
    private long lastStepEnd;
    /** Drops since the step, and dead letters in all, as last reported by a step or idle metric (loop thread only). */
    private long reportedDropped, reportedDeadLetters;
    /** System.nanoTime() of the last step or idle metric (loop thread only). */
    private long lastReport = System.nanoTime();
    /** Σ over steps after the first of the time since the previous step ended (loop thread writes, anyone reads). */
    private volatile long batchWaitNanos;
    /**
     * Checkpoints, publishes and reports each step, and writes dead letters, in order on one thread of its own,
     * so the loop thread trains the next batch meanwhile. All transactions of the producer run here.
     */
    private ExecutorService publisher;
    /** The last task handed to {@link #publisher}; tasks run in order, so it finishing means all did. */
    private Future<?> lastPublisherTask = CompletableFuture.completedFuture(null);
    /** Most tasks waiting for the publisher at once; see {@link #submit}. */
    private static final int MAX_QUEUED = 64;
    private final Semaphore queued = new Semaphore(MAX_QUEUED);
    private volatile Throwable publisherFailure;
    private volatile Consumer<StepResult> listener = result -> { };
    private final CountDownLatch stopped = new CountDownLatch(1);
    private volatile boolean running;
    /** Set by {@link #close()} only: see {@link #retryingTimeouts()}. */
    private volatile boolean closing;
    private volatile Throwable failure;
    private volatile long policyVersion = -1;
    private volatile long step = -1;

    private Policy reference;
    private Policy policy;
    private Trainer trainer;
    private KafkaConsumer<byte[], byte[]> consumer;
    private KafkaProducer<String, byte[]> producer;
    private Thread loop;
    /** Per partition, the offset after the last record folded into the trainer's state: what a checkpoint stores. */
    private final Map<TopicPartition, Long> handled = new HashMap<>();
    /** The offsets in the newest checkpoint written (on the publisher thread). */
    private volatile Map<TopicPartition, Long> checkpointed = Map.of();
    /** With stopAtEnd: the end offsets (read_committed: last stable offsets) when the trainer started. */
    private Map<TopicPartition, Long> endAtStart = Map.of();

    public TrainerService(TrainerConfig config) {
        this.config = config;
    }

    /**
     * Called after every step, in step order, once the step's checkpoint and version (if it published one) are
     * written (e.g. the CLI's live line); on the publisher thread; must not block for long.
     */
    public TrainerService onStep(Consumer<StepResult> listener) {
        this.listener = listener == null ? result -> { } : listener;
        return this;
    }

    /** The consumer settings: manual assignment, no commits (offsets live in the checkpoint), committed input only. */
    public static Properties consumerProperties(TrainerConfig config) {
        Properties props = config.clientConfig().with(config.bootstrap());
        props.put(ConsumerConfig.CLIENT_ID_CONFIG, config.trainerId() + "-scored-groups");
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        // positions come from the checkpoint (or the beginning): one out of range means the groups it resumes from
        // were deleted, and the default reset to the end would skip the rest silently
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "none");
        // scored groups are written in the reward-service's transactions: never train on an aborted one
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, IsolationLevel.READ_COMMITTED.toString().toLowerCase(Locale.ROOT));
        // a scored group can be up to 16 MiB (TopicSpec); the fetch limits must let one through whole
        props.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, 20 * 1024 * 1024);
        props.put(ConsumerConfig.FETCH_MAX_BYTES_CONFIG, 64 * 1024 * 1024);
        // two batches' worth: a poll after a stall can then hold the older admission's groups with the newer's, and
        // they are offered oldest first (Trainer.oldestFirst)
        props.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, Math.max(2 * config.batchGroups(), 50));
        props.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        props.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        return props;
    }

    /** The producer settings: transactional (a version's chunks appear all at once), large requests for weights. */
    public static Properties producerProperties(TrainerConfig config) {
        Properties props = config.clientConfig().with(config.bootstrap());
        props.put(ProducerConfig.CLIENT_ID_CONFIG, config.trainerId());
        // the same id after a restart fences the old process and aborts its open transaction
        props.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, config.transactionalId());
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        // TopicSpec: producers must raise max.request.size to the largest record they send (a dead letter
        // carries a whole scored group, a weight chunk is up to 8 MiB)
        int largest = TopicSpec.largestRecordBytes(config.topics());
        props.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, largest);
        props.put(ProducerConfig.BUFFER_MEMORY_CONFIG, Math.max(64L * 1024 * 1024, 2L * largest));
        props.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        props.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        return props;
    }

    /**
     * Loads the checkpoint (or the reference at version 0), publishes the current version if the weights topic
     * lacks it, seeks to the checkpoint's offsets and starts the loop thread.
     *
     * @throws IOException           when a checkpoint cannot be read
     * @throws IllegalStateException when the weights topic holds a version this checkpoint did not publish
     *                               (another run's checkpoint directory)
     */
    public TrainerService start() throws IOException {
        if (loop != null) throw new IllegalStateException("trainer already started");
        log.info("starting trainer: {}", config);
        try {
            open();
        } catch (IOException | RuntimeException e) {
            closeResources();
            throw e;
        }
        running = true;
        publisher = Executors.newSingleThreadExecutor(r -> new Thread(r, "trainer-" + config.trainerId() + "-publisher"));
        loop = new Thread(this::run, "trainer-" + config.trainerId());
        loop.start();
        return this;
    }

    private void open() throws IOException {
        Policy.setIntraOpThreads(config.intraOpThreads());
        Device device = Device.fromName(config.device());
        if (!Files.isRegularFile(config.referencePath())) {
            throw new IllegalArgumentException("reference checkpoint " + config.referencePath() + " (referencePath) does not exist");
        }
        byte[] referenceWeights = Checkpoint.read(config.referencePath()).weights();
        reference = WeightCodec.decode(referenceWeights, device);

        Checkpoint checkpoint = Files.exists(config.checkpointPath()) ? Checkpoint.read(config.checkpointPath()) : null;
        TrainerState state;
        byte[] versionWeights;
        if (checkpoint == null) {
            state = TrainerState.INITIAL;
            versionWeights = referenceWeights;
            log.info("no checkpoint at {}: starting from the reference {} as version 0", config.checkpointPath(), config.referencePath());
        } else {
            state = TrainerState.fromMetadata(checkpoint.metadata(), config.checkpointPath().toString());
            versionWeights = checkpoint.weights();
            log.info("resuming from {}: step {}, version {}, trained {} groups, dropped {}", config.checkpointPath(), state.step(),
                    state.policyVersion(), state.trained().count(), state.dropped().count());
        }
        policy = WeightCodec.decode(versionWeights, device);
        trainer = new Trainer(config, policy, reference, state);
        reportedDeadLetters = state.deadLettered().count();   // the checkpoint's were reported before the restart
        if (checkpoint != null) trainer.loadOptimizerState(checkpoint.optimizerState());
        policyVersion = state.policyVersion();
        step = state.step();

        producer = new KafkaProducer<>(producerProperties(config));
        producer.initTransactions();   // before the scan: aborts a killed predecessor's open transaction
        publishIfMissing(state, versionWeights);

        consumer = new KafkaConsumer<>(consumerProperties(config));
        String topic = config.topics().scoredGroups();
        List<TopicPartition> partitions = TopicAdmin.partitions(consumer, topic, config.bootstrap());
        consumer.assign(partitions);
        for (TopicPartition tp : partitions) {
            String stored = checkpoint == null ? null : checkpoint.metadata().get(OFFSET_KEY_PREFIX + tp.partition());
            if (stored == null) consumer.seekToBeginning(List.of(tp));
            else consumer.seek(tp, Long.parseLong(stored));
        }
        // only once every partition has a position: position() resolves them all, and there is no reset to fall back on
        for (TopicPartition tp : partitions) handled.put(tp, consumer.position(tp));
        checkpointed = Map.copyOf(handled);
        if (config.stopAtEnd()) endAtStart = consumer.endOffsets(partitions);
        log.info("trainer at step {} version {} reading {} from {}", state.step(), state.policyVersion(), topic, handled);
    }

    /**
     * Publishes the checkpoint's version unless the weights topic already holds it complete. After a crash
     * between checkpoint and publish the version is missing; after one after the publish it is there and is
     * not sent twice.
     */
    private void publishIfMissing(TrainerState state, byte[] weights) throws IOException {
        Map<Long, String> published = completeVersions();
        String sha256 = Sha256.hex(weights);
        long latest = published.keySet().stream().mapToLong(Long::longValue).max().orElse(-1);
        // a checkpoint is written before its version is published, so the topic can never be ahead of it
        if (latest > state.policyVersion()) {
            throw new IllegalStateException("%s holds version %d but checkpoint %s is at version %d: the checkpoint directory is not this run's (or was rolled back)"
                    .formatted(config.topics().policyWeights(), latest, config.checkpointPath(), state.policyVersion()));
        }
        String existing = published.get(state.policyVersion());
        if (existing == null) {
            long start = System.nanoTime();
            publish(state.policyVersion(), state.step(), weights);
            log.info("published version {} (missing from {}) in {} ms", state.policyVersion(), config.topics().policyWeights(),
                    (System.nanoTime() - start) / 1_000_000);
        } else if (!existing.equals(sha256)) {
            throw new IllegalStateException("%s holds version %d with sha256 %s but checkpoint %s has %s for it"
                    .formatted(config.topics().policyWeights(), state.policyVersion(), existing, config.checkpointPath(), sha256));
        } else {
            log.info("version {} is already on {}", state.policyVersion(), config.topics().policyWeights());
        }
    }

    /** Versions whose every chunk is committed on the weights topic, with their sha256; reads it from the start. */
    private Map<Long, String> completeVersions() {
        Properties props = consumerProperties(config);
        props.put(ConsumerConfig.CLIENT_ID_CONFIG, config.trainerId() + "-weights-scan");
        Map<Long, String> sha = new TreeMap<>();
        Map<Long, BitSet> seen = new HashMap<>();
        Map<Long, Integer> counts = new HashMap<>();
        try (KafkaConsumer<byte[], byte[]> scan = new KafkaConsumer<>(props)) {
            List<TopicPartition> partitions = TopicAdmin.partitions(scan, config.topics().policyWeights(), config.bootstrap());
            scan.assign(partitions);
            scan.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = scan.endOffsets(partitions);
            long deadline = System.nanoTime() + SCAN_TIMEOUT.toNanos();
            Map<TopicPartition, Long> at = positions(scan, partitions);
            while (partitions.stream().anyMatch(tp -> scan.position(tp) < end.get(tp))) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("reading " + config.topics().policyWeights() + " to its end " + end
                            + " made no progress for " + SCAN_TIMEOUT + " (at " + at + ")");
                }
                var records = scan.poll(config.pollTimeout());
                // a long weights topic takes long to read and is not stuck: only a scan that stops moving fails
                // (positions, not records: skipping an aborted version moves on without returning any)
                Map<TopicPartition, Long> now = positions(scan, partitions);
                if (!now.equals(at)) deadline = System.nanoTime() + SCAN_TIMEOUT.toNanos();
                at = now;
                for (ConsumerRecord<byte[], byte[]> rec : records) {
                    WeightChunk chunk;
                    try {
                        chunk = RlSerdes.weightChunk().codec().decode(rec);
                    } catch (RecordDecodingException e) {
                        log.warn("skipping an undecodable record on the weights topic: {}", e.getMessage());
                        continue;
                    }
                    long v = chunk.getVersion();
                    sha.putIfAbsent(v, chunk.getSha256());
                    counts.putIfAbsent(v, chunk.getChunkCount());
                    seen.computeIfAbsent(v, k -> new BitSet()).set(chunk.getChunkIndex());
                }
            }
        }
        sha.keySet().removeIf(v -> seen.get(v).cardinality() < counts.get(v));
        return sha;
    }

    private static Map<TopicPartition, Long> positions(KafkaConsumer<byte[], byte[]> consumer, List<TopicPartition> partitions) {
        Map<TopicPartition, Long> at = new TreeMap<>(Comparator.comparingInt(TopicPartition::partition));
        partitions.forEach(tp -> at.put(tp, consumer.position(tp)));
        return at;
    }

    private void run() {
        try {
            if (config.maxSteps() > 0 && trainer.steps() >= config.maxSteps()) {
                log.info("already at step {} >= maxSteps {}", trainer.steps(), config.maxSteps());
                return;
            }
            while (running) {
                if (publisherFailure != null) throw new IllegalStateException("publishing failed", publisherFailure);
                if (config.stopAtEnd() && reachedEnd()) {
                    finish("consumed every scored group that was on the topic at start");
                    return;
                }
                // A group dropped as stale keeps its place in the batch when no other group is waiting on the topic. The
                // generators' admission gates let in B groups a version; replacing the dropped ones would take groups let
                // in a version later, which at the staleness bound are not sampled yet, and every later step would wait
                // for them. With groups waiting (a backlog, an over-admitting generator) they replace the dropped ones.
                boolean keepPlaces = trainer.batchReadyKeepingDroppedPlaces() && caughtUp();
                ConsumerRecords<byte[], byte[]> records = consumer.poll(keepPlaces ? Duration.ZERO : config.pollTimeout());
                if (keepPlaces && records.isEmpty() && stepAndReachedMaxSteps()) return;
                for (Read read : oldestFirst(records)) {
                    ConsumerRecord<byte[], byte[]> rec = read.rec();
                    TopicPartition tp = new TopicPartition(rec.topic(), rec.partition());
                    if (config.stopAtEnd() && rec.offset() >= endAtStart.get(tp)) continue;   // written after start
                    handle(read);
                    handled.put(tp, rec.offset() + 1);
                    if (trainer.batchReady() && stepAndReachedMaxSteps()) return;
                }
                reportIdle(false);
            }
        } catch (WakeupException e) {
            if (running) failure = e;   // a wakeup not from close() is a bug
        } catch (OffsetOutOfRangeException e) {
            failure = new IllegalStateException(("the scored groups at %s are gone (deleted by retention or delete-records before"
                    + " they were trained); going on past them would break exactly once, so the trainer stops at step %d version %d")
                    .formatted(e.offsetOutOfRangePartitions(), step, policyVersion), e);
            log.error("trainer stopped: {}", failure.getMessage());
        } catch (Throwable e) {
            failure = e;
            log.error("trainer stopped on an error at step {} version {}", step, policyVersion, e);
        } finally {
            running = false;
            try {
                awaitPublisher();   // what stopped callers read (the last checkpoint, the version) is written
            } catch (Throwable e) {
                if (failure == null) failure = e;
            }
            stopped.countDown();
        }
    }

    /** One step; true when it was the last one ({@code maxSteps}), after finishing. */
    private boolean stepAndReachedMaxSteps() throws Exception {
        runStep();
        if (config.maxSteps() > 0 && trainer.steps() >= config.maxSteps()) {
            finish("reached maxSteps " + config.maxSteps());
            return true;
        }
        return false;
    }

    private boolean reachedEnd() {
        // position, not handled: with transactional input a commit marker sits after the last record
        return endAtStart.entrySet().stream().allMatch(e -> consumer.position(e.getKey()) >= e.getValue());
    }

    /** A polled record, decoded into its group, or the reason it could not be. */
    private record Read(ConsumerRecord<byte[], byte[]> rec, ScoredGroup group, RecordDecodingException undecodable) {
        long oldestVersion() {
            if (group == null) return Long.MIN_VALUE;
            return group.getRollouts().stream().mapToLong(Rollout::getPolicyVersion).min().orElse(Long.MIN_VALUE);
        }
    }

    /**
     * A poll's records decoded, in the order to offer them (see {@link Trainer#oldestFirst}). Only within one poll: a
     * partition whose fetch comes back later may still bring an older group after a newer one was trained.
     */
    private static List<Read> oldestFirst(ConsumerRecords<byte[], byte[]> records) {
        List<List<Read>> partitions = new ArrayList<>();
        for (TopicPartition tp : records.partitions()) {
            List<Read> reads = new ArrayList<>();
            for (ConsumerRecord<byte[], byte[]> rec : records.records(tp)) {
                try {
                    reads.add(new Read(rec, RlSerdes.scoredGroup().codec().decode(rec), null));
                } catch (RecordDecodingException e) {
                    reads.add(new Read(rec, null, e));
                }
            }
            partitions.add(reads);
        }
        return Trainer.oldestFirst(partitions, Read::oldestVersion);
    }

    /** Offers one decoded record; anything unusable goes to the dead-letter topic and the loop goes on. */
    private void handle(Read read) {
        ConsumerRecord<byte[], byte[]> rec = read.rec();
        String where = rec.topic() + "-" + rec.partition() + "@" + rec.offset();
        if (read.undecodable() != null) {
            log.warn("dead-lettering an undecodable scored group: {}", read.undecodable().getMessage());
            deadLetter(DeadLetters.undecodable(rec, read.undecodable(), config.trainerId()));
            trainer.recordDeadLetter(where);
            return;
        }
        ScoredGroup group = read.group();
        try {
            if (trainer.offer(group) == Trainer.Offer.DROPPED_STALE) {
                log.warn("dropped stale group {} ({}): oldest rollout more than {} versions behind version {}", group.getGroupId(), where,
                        config.maxStaleness(), trainer.policyVersion());
            }
        } catch (InvalidGroupException e) {
            String reason = e.getMessage() + " (" + where + ")";
            log.warn("dead-lettering group {}: {}", group.getGroupId(), reason);
            deadLetter(DeadLetters.builder(rec).errorType(e.errorType()).reason(reason).serviceId(config.trainerId()).build());
            trainer.recordDeadLetter(group.getGroupId());
        }
    }

    /**
     * Trains one batch on this thread, then hands the step to the publisher: its checkpoint and version (at a
     * version boundary), metric and listener. At most one step waits there, so the weights being trained are
     * never more than one version ahead of the last durable, published one.
     */
    private void runStep() throws Exception {
        long start = System.nanoTime();
        // the loop was reading and waiting for this batch since the last step: time the trainer was starved
        Long waitedMs = lastStepEnd == 0 ? null : (start - lastStepEnd) / 1_000_000;
        if (lastStepEnd != 0) batchWaitNanos += start - lastStepEnd;
        Policy.setIntraOpThreads(config.intraOpThreads());   // per step: see Policy.setIntraOpThreads
        StepResult result = trainer.step();
        long trained = System.nanoTime();
        // taken here, on the loop thread: the trainer, the policy and the consumer move on with the next batch
        Snapshot snapshot = result.versionAdvanced() ? snapshot() : null;
        long lag = lag();
        awaitPublisher();
        long handedOver = System.nanoTime();
        submit(() -> report(result, snapshot, lag, waitedMs));
        reportedDropped = 0;
        reportedDeadLetters = result.deadLetters();
        lastReport = System.nanoTime();
        if (log.isDebugEnabled()) {
            // where a step's wall time goes on this thread: waiting for its batch, the update, the publisher
            log.debug("step {} timing: waited {} ms for the batch, update {} ms, snapshot and waiting for the previous publish {} ms",
                    result.step(), waitedMs == null ? -1 : waitedMs, (trained - start) / 1_000_000,
                    (handedOver - trained) / 1_000_000);
        }
        lastStepEnd = System.nanoTime();
    }

    /** On the publisher thread: checkpoint and publish (at a version boundary) with the metric, then tell the listener. */
    private void report(StepResult result, Snapshot snapshot, long lag, Long waitedMs) throws IOException {
        Long publishMs = null;
        if (snapshot != null) {
            // the step's metric rides in the version's transaction: one commit per step instead of two
            publishMs = checkpointAndPublish(snapshot, sendingMs -> metricRecord(result, lag, waitedMs, sendingMs));
        } else {
            ProducerRecord<String, byte[]> metric = metricRecord(result, lag, waitedMs, null);
            transaction("the metric of step " + result.step(), () -> producer.send(metric));
        }
        step = result.step();
        policyVersion = result.policyVersion();
        log.info("{}{}", result.summary(), publishMs == null ? "" : " published in " + publishMs + " ms");
        listener.accept(result);
    }

    /** A version's checkpoint content, copied on the loop thread. */
    private record Snapshot(TrainerState state, byte[] weights, Map<String, Tensor> optimizerState,
                            Map<TopicPartition, Long> offsets) {
    }

    private Snapshot snapshot() {
        return new Snapshot(trainer.state(), WeightCodec.encode(policy), trainer.optimizerState(), Map.copyOf(handled));
    }

    private interface PublisherTask {
        void run() throws Exception;
    }

    /**
     * Hands {@code task} to the publisher. Past {@link #MAX_QUEUED} waiting tasks the loop thread waits: a flood of
     * bad records is read far faster than their dead letters are written, and each holds the record's bytes.
     */
    private void submit(PublisherTask task) {
        queued.acquireUninterruptibly();
        lastPublisherTask = publisher.submit(() -> {
            try {
                if (publisherFailure != null) return;   // the loop stops on the first failure; nothing after it is written
                task.run();
            } catch (Throwable e) {
                publisherFailure = e;
                log.error("trainer publisher failed", e);
            } finally {
                queued.release();
            }
        });
    }

    /** Waits until every task handed to the publisher is done; rethrows the first failure. */
    private void awaitPublisher() throws InterruptedException {
        try {
            lastPublisherTask.get();
        } catch (ExecutionException e) {
            throw new IllegalStateException("publisher task failed", e.getCause());
        }
        if (publisherFailure != null) throw new IllegalStateException("publishing failed", publisherFailure);
    }

    /** Stops cleanly: trains a last smaller batch, and checkpoints and publishes whatever is not yet. */
    private void finish(String why) throws Exception {
        if (trainer.pendingGroups() > 0) runStep();
        reportIdle(true);   // drops and dead letters after the last step
        awaitPublisher();   // now idle: the rest runs on this thread
        if (trainer.advanceVersion()) {
            long ms = checkpointAndPublish(snapshot(), null);
            policyVersion = trainer.policyVersion();
            log.info("published version {} at stop in {} ms", trainer.policyVersion(), ms);
        } else if (!handled.equals(checkpointed)) {
            // only drops or dead letters since the last version: the weights are still that version's
            writeCheckpoint(snapshot());
        }
        log.info("trainer stopping: {}; step {} version {}", why, trainer.steps(), trainer.policyVersion());
    }

    /**
     * The checkpoint is durable before the version is: the chunks are sent in a transaction that commits only
     * after the checkpoint is written, so a restart resumes from exactly the weights every published version
     * number names (and publishes it if the crash came before the commit; the restart's initTransactions aborts
     * the open one). The other order would let a crash publish version v and resume from v−1's checkpoint,
     * later publishing different weights as v again. Sending first lets the chunks travel to the broker while
     * the checkpoint is forced to disk, which takes both off the path from a step to the generators.
     *
     * @param alongside null, or given the ms from the start until the checkpoint was written and the chunks
     *                  handed to the producer, a record to write in the same transaction (the step's metric)
     * @return milliseconds from the start to the committed publish
     */
    private long checkpointAndPublish(Snapshot snapshot, LongFunction<ProducerRecord<String, byte[]>> alongside) throws IOException {
        long start = System.nanoTime();
        TrainerState state = snapshot.state();
        transaction("version " + state.policyVersion(), () -> {
            sendVersion(state.policyVersion(), state.step(), snapshot.weights());
            writeCheckpoint(snapshot);   // again when the transaction is sent again: the same bytes, atomically
            if (alongside != null) producer.send(alongside.apply((System.nanoTime() - start) / 1_000_000));
        });
        long ms = (System.nanoTime() - start) / 1_000_000;
        pruneWeightsStore(state.policyVersion());
        return ms;
    }

    private interface Sends {
        void run() throws IOException;
    }

    /**
     * Begins a transaction, runs {@code sends} in it and commits it. A failure that leaves nothing to commit aborts
     * the transaction, so none of its records is ever read: an error that is not Kafka's (a checkpoint that cannot be
     * written) is thrown then. Kafka's abortable errors (a send that found no broker within max.block.ms, in an outage)
     * are retried, up to {@value #TRANSACTION_ATTEMPTS} times while the trainer runs: sending an aborted transaction's
     * records again duplicates nothing. Fencing and the other fatal errors are thrown at once.
     */
    private void transaction(String what, Sends sends) throws IOException {
        for (int attempt = 1; ; attempt++) {
            producer.beginTransaction();
            try {
                sends.run();
                commit(what);
                return;
            } catch (ProducerFencedException | OutOfOrderSequenceException | AuthorizationException | UnsupportedVersionException e) {
                throw e;   // the producer is done for; there is no transaction to abort
            } catch (KafkaException e) {
                if (attempt >= TRANSACTION_ATTEMPTS || !retryingTimeouts()) {
                    abortAfter(what, e);
                    throw e;
                }
                log.warn("{}: the transaction of {} failed (attempt {}: {}); aborting it and sending it again", config.trainerId(),
                        what, attempt, e.toString());
                abort(what);
                sleepBeforeRetry();
            } catch (IOException | RuntimeException e) {
                abortAfter(what, e);   // the version must not become visible without its checkpoint
                throw e;
            }
        }
    }

    /** Aborts the open transaction after {@code e}; a failed abort is added to {@code e}, which the caller throws. */
    private void abortAfter(String what, Exception e) {
        try {
            abort(what);
        } catch (RuntimeException abort) {
            e.addSuppressed(abort);
        }
    }

    private void abort(String what) {
        TimedOutCalls.retry(config.trainerId() + ": aborting " + what, producer::abortTransaction, this::retryingTimeouts);
    }

    private static void sleepBeforeRetry() {
        try {
            Thread.sleep(TRANSACTION_RETRY_BACKOFF.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new KafkaException("interrupted before sending a transaction again", e);
        }
    }

    private void writeCheckpoint(Snapshot snapshot) throws IOException {
        TrainerState state = snapshot.state();
        Map<String, String> metadata = new LinkedHashMap<>(state.toMetadata());
        snapshot.offsets().forEach((tp, offset) -> metadata.put(OFFSET_KEY_PREFIX + tp.partition(), Long.toString(offset)));
        new Checkpoint(state.step(), snapshot.weights(), snapshot.optimizerState(), metadata).write(config.checkpointPath());
        checkpointed = snapshot.offsets();
        log.debug("checkpoint {} at step {} version {}", config.checkpointPath(), state.step(), state.policyVersion());
    }

    /** A version whose checkpoint already exists (resume): all its chunks in one transaction. */
    private void publish(long version, long atStep, byte[] weights) throws IOException {
        transaction("version " + version + " again", () -> sendVersion(version, atStep, weights));
        pruneWeightsStore(version);
    }

    /** Commits the open transaction; one that timed out is retried, so a broker outage stalls the trainer instead of stopping it. */
    private void commit(String what) {
        TimedOutCalls.retry(config.trainerId() + ": committing " + what, producer::commitTransaction, this::retryingTimeouts);
    }

    /**
     * Whether a timed-out transaction call is tried again: once the loop runs and until {@link #close()}. During
     * {@link #start()} no one could close a trainer stuck in an outage, so start fails instead.
     */
    private boolean retryingTimeouts() {
        return loop != null && !closing;
    }

    /**
     * Sends a version's chunks into the open transaction: read_committed generators see all of them or none. With a
     * weights store the version is written there first and only its pointer is sent (a retry after an abort writes
     * the same file again).
     */
    private void sendVersion(long version, long atStep, byte[] weights) throws IOException {
        String topic = config.topics().policyWeights();
        List<WeightChunk> chunks = config.weightsStoreDir() == null
                ? WeightChunks.split(version, atStep, weights, config.weightChunkBytes(), Instant.now())
                : List.of(WeightBlobs.write(config.weightsStoreDir(), version, atStep, weights, Instant.now()));
        for (WeightChunk chunk : chunks) {
            producer.send(new ProducerRecord<>(topic, Long.toString(version), RlSerdes.weightChunk().codec().encode(topic, chunk)));
        }
    }

    /** After {@code version} is committed: housekeeping, so a store that cannot be pruned is reported, not fatal. */
    private void pruneWeightsStore(long version) {
        if (config.weightsStoreDir() == null) return;
        try {
            List<Long> pruned = WeightBlobs.prune(config.weightsStoreDir(), version - TrainerConfig.WEIGHTS_STORE_KEEP + 1);
            if (!pruned.isEmpty()) log.debug("pruned versions {} from {}", pruned, config.weightsStoreDir());
        } catch (IOException | java.io.UncheckedIOException e) {
            log.warn("cannot prune the weights store {} (versions before {} stay): {}", config.weightsStoreDir(),
                    version - TrainerConfig.WEIGHTS_STORE_KEEP + 1, e.toString());
        }
    }

    /**
     * Writes a {@link #IDLE_METRIC_KIND} metric when groups were dropped or dead-lettered since the last step or idle
     * metric, at most once per {@link #IDLE_REPORT_INTERVAL} unless {@code now}: without it a trainer that drops
     * every group (all stale) never steps, and its metrics say nothing.
     */
    private void reportIdle(boolean now) {
        long dropped = trainer.droppedSinceStep(), deadLetters = trainer.deadLettered().count();
        if (dropped == reportedDropped && deadLetters == reportedDeadLetters) return;
        if (!now && System.nanoTime() - lastReport < IDLE_REPORT_INTERVAL.toNanos()) return;
        Map<String, Double> values = new LinkedHashMap<>();
        values.put("dropped_stale_since_step", (double) dropped);
        values.put("dead_letters", (double) deadLetters);
        values.put("pending_groups", (double) trainer.pendingGroups());
        Metric metric = Metric.newBuilder().setServiceId(config.trainerId()).setKind(IDLE_METRIC_KIND).setStep(trainer.steps())
                .setPolicyVersion(trainer.policyVersion()).setValues(values).setTimestampMs(Instant.now()).build();
        String topic = config.topics().metrics();
        ProducerRecord<String, byte[]> rec = new ProducerRecord<>(topic, config.trainerId(), RlSerdes.metric().codec().encode(topic, metric));
        submit(() -> transaction("an idle metric", () -> producer.send(rec)));
        reportedDropped = dropped;
        reportedDeadLetters = deadLetters;
        lastReport = System.nanoTime();
    }

    private void deadLetter(DeadLetter letter) {
        String topic = config.topics().deadLetters();
        ProducerRecord<String, byte[]> rec = new ProducerRecord<>(topic, config.trainerId(), RlSerdes.deadLetter().codec().encode(topic, letter));
        submit(() -> transaction("a dead letter", () -> producer.send(rec)));
    }

    /**
     * The step's metric record. {@code wait_ms} (steps after the first): from the end of the previous step to the
     * start of this one, the time the trainer waited for its batch. {@code publish_ms} (steps that published a
     * version): sending the version's chunks and writing the checkpoint; the transaction commit that follows is not in it.
     */
    private ProducerRecord<String, byte[]> metricRecord(StepResult result, long lag, Long waitedMs, Long publishMs) {
        Map<String, Double> values = new LinkedHashMap<>();
        values.put("reward_mean", result.rewardMean());
        if (!Double.isNaN(result.accuracy())) values.put("accuracy", result.accuracy());
        values.put("kl", result.kl());
        values.put("loss", result.loss());
        values.put("clip_fraction", result.clipFraction());
        values.put("groups", (double) result.groups());
        values.put("dropped_stale", (double) result.droppedStale());
        values.put("dead_letters", (double) result.deadLetters());
        long[] histogram = result.stalenessHistogram();
        for (int s = 0; s < histogram.length; s++) values.put("staleness_" + s, (double) histogram[s]);
        values.put("tokens", (double) result.tokens());
        values.put("rollout_tokens", (double) result.rolloutTokens());
        values.put("tokens_per_s", result.tokensPerSecond());
        values.put("lag", (double) lag);
        if (waitedMs != null) values.put("wait_ms", (double) waitedMs);
        if (publishMs != null) values.put("publish_ms", (double) publishMs);
        values.putAll(result.diagnostics());   // the algorithm's own: PPO's value_loss, DPO's pairs, ...
        Metric metric = Metric.newBuilder().setServiceId(config.trainerId()).setKind(METRIC_KIND).setStep(result.step())
                .setPolicyVersion(result.policyVersion()).setValues(values).setTimestampMs(Instant.now()).build();
        String topic = config.topics().metrics();
        return new ProducerRecord<>(topic, config.trainerId(), RlSerdes.metric().codec().encode(topic, metric));
    }

    /**
     * Whether the last fetch left nothing to read on any partition (read_committed: up to the last stable offset);
     * false while a partition's lag is unknown.
     */
    private boolean caughtUp() {
        return caughtUp(consumer.assignment(), consumer::currentLag);
    }

    /** Whether every partition's lag is known and zero: an unknown lag may hide groups that would fill a batch. */
    static boolean caughtUp(Collection<TopicPartition> partitions, Function<TopicPartition, OptionalLong> lag) {
        for (TopicPartition tp : partitions) {
            OptionalLong behind = lag.apply(tp);
            if (behind.isEmpty() || behind.getAsLong() > 0) return false;
        }
        return true;
    }

    /** Records on the scored-groups topic not yet read: Σ over partitions of end offset − position (last fetch's view). */
    private long lag() {
        long lag = 0;
        for (TopicPartition tp : consumer.assignment()) lag += consumer.currentLag(tp).orElse(0);
        return lag;
    }

    /** Waits until the loop has stopped (maxSteps, stopAtEnd, an error, or close). */
    public boolean awaitStop(Duration timeout) throws InterruptedException {
        return stopped.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** The error that stopped the loop, if one did. */
    public Optional<Throwable> failure() {
        return Optional.ofNullable(failure);
    }

    /** The latest policy version (published, or being published); -1 before {@link #start()}. */
    public long policyVersion() {
        return policyVersion;
    }

    /**
     * Milliseconds the trainer spent between steps since it started (the first step's wait for its first batch not
     * counted): reading and waiting for the next batch. A trainer that keeps up with the pipeline has it near 0.
     */
    public long batchWaitMillis() {
        return batchWaitNanos / 1_000_000;
    }

    /** Optimiser steps taken in total; -1 before {@link #start()}. */
    public long step() {
        return step;
    }

    public TrainerConfig config() {
        return config;
    }

    /**
     * Stops the loop after its current step and releases everything. Steps since the last checkpoint are not
     * saved: a restart trains their groups again (see the class comment).
     */
    @Override
    public void close() {
        closing = true;
        running = false;
        Thread thread = loop;
        boolean stopped = true;
        if (thread != null && thread != Thread.currentThread()) {
            if (consumer != null) consumer.wakeup();
            try {
                thread.join(CLOSE_TIMEOUT.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (thread.isAlive()) {
                stopped = false;
                log.warn("trainer loop did not stop within {}", CLOSE_TIMEOUT);
            }
        }
        if (publisher != null) {
            publisher.shutdown();   // the loop drained it as it stopped; this only ends the thread
            try {
                if (!publisher.awaitTermination(CLOSE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                    stopped = false;
                    log.warn("trainer publisher did not stop within {}", CLOSE_TIMEOUT);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                stopped = false;
            }
        }
        if (!stopped) {
            // freeing the model's native memory under a thread still in an update or a checkpoint would crash the JVM
            log.warn("leaving the trainer's model and clients to the process exit: a thread of it is still running");
            return;
        }
        closeResources();
        log.info("trainer stopped at step {} version {}", step, policyVersion);
    }

    private synchronized void closeResources() {
        if (consumer != null) { consumer.close(); consumer = null; }
        if (producer != null) { producer.close(CLOSE_TIMEOUT); producer = null; }
        if (trainer != null) { trainer.close(); trainer = null; }
        if (policy != null) { policy.close(); policy = null; }
        if (reference != null) { reference.close(); reference = null; }
    }
}
