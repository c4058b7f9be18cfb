package dev.rlkafka.generator;

import ai.djl.Device;
import dev.rlkafka.policy.model.Policy;
import dev.rlkafka.policy.weights.WeightCodec;
import dev.rlkafka.schemas.DeadLetters;
import dev.rlkafka.schemas.TimedOutCalls;
import dev.rlkafka.schemas.TopicAdmin;
import dev.rlkafka.schemas.TopicSpec;
import dev.rlkafka.schemas.Topics;
import dev.rlkafka.schemas.WeightBlobs;
import dev.rlkafka.schemas.WeightChunks;
import dev.rlkafka.schemas.avro.DeadLetter;
import dev.rlkafka.schemas.avro.Metric;
import dev.rlkafka.schemas.avro.Prompt;
import dev.rlkafka.schemas.avro.Rollout;
import dev.rlkafka.schemas.avro.WeightChunk;
import dev.rlkafka.schemas.serde.RecordCodec;
import dev.rlkafka.schemas.serde.RecordDecodingException;
import dev.rlkafka.schemas.serde.RlSerdes;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.OutOfOrderSequenceException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.UnsupportedVersionException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The generator's Kafka adapter: consumes prompts as a member of the generators' consumer group, samples
 * groups of rollouts with {@link Generator}, and writes them, dead letters and a metric in one transaction
 * with the prompt offsets. A second thread follows {@code rl.policy-weights} and hands each new version to the
 * sampling thread, which swaps it in between batches; it also follows {@code rl.dead-letters} for this generator's
 * groups that will never be trained, whose places in the staleness gate go back to the sampling thread.
 * {@code new GeneratorService(config).start()};
 * {@link #close()} stops it.
 */
public final class GeneratorService implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(GeneratorService.class);

    /** How long {@link #close()} waits for each thread and client. */
    public static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(30);
    /** The producer's transaction.timeout.ms unless the cluster's settings say otherwise: see {@link #producerProperties}. */
    public static final Duration TRANSACTION_TIMEOUT = Duration.ofSeconds(10);
    /** Metric kind of the per-batch metric. */
    public static final String BATCH_METRIC = "generator.batch";
    /** Dead-letter error type of a version whose chunks do not reassemble (checksum, size, disagreeing chunks). */
    public static final String BAD_CHECKSUM = "BAD_CHECKSUM";
    /** Dead-letter error type of a blob-store pointer whose file cannot be read here or does not match it. */
    public static final String BAD_BLOB = "BAD_BLOB";
    /** Dead-letter error type of a version that reassembled but is not weights of this model. */
    public static final String BAD_WEIGHTS = "BAD_WEIGHTS";
    private static final Duration POLL_TIMEOUT = Duration.ofMillis(100);
    /** Batch n samples rows with seeds seed + n·2^32 + r: no two batches share a row seed. */
    private static final long SEED_STRIDE = 1L << 32;
    private static final int MIB = 1024 * 1024;

    private final GeneratorConfig config;
    private final Topics topics;
    private final RecordCodec<Prompt> promptCodec = RlSerdes.prompt().codec();
    private final RecordCodec<WeightChunk> chunkCodec = RlSerdes.weightChunk().codec();
    private final RecordCodec<DeadLetter> deadLetterCodec = RlSerdes.deadLetter().codec();
    /** Groups the dead letters say will never be trained, from the weights thread to the sampling thread's gate. */
    private final ConcurrentLinkedQueue<String> lostGroups = new ConcurrentLinkedQueue<>();

    /** Newest complete version the weights thread has not yet handed over; the sampling thread takes it. */
    private final AtomicReference<WeightsVersion> pendingWeights = new AtomicReference<>();
    private final Semaphore weightsArrived = new Semaphore(0);
    /** Newest version the trainer has published (complete, whether or not it loaded): drives admission. */
    private final AtomicLong latestPublished = new AtomicLong(-1);

    private volatile boolean running;
    private volatile boolean closed;
    private volatile Throwable failure;
    private volatile long policyVersion = -1;
    private volatile long groupsAdmitted;
    private volatile boolean paused;
    private volatile int versionsSwapped;

    private KafkaConsumer<byte[], byte[]> promptConsumer;
    private KafkaConsumer<byte[], byte[]> weightsConsumer;
    private KafkaProducer<String, byte[]> producer;
    private KafkaProducer<String, byte[]> deadLetterProducer;
    /** Dead letters written so far (committed prompt ones, acknowledged weight ones): {@code dead_letters} in rl.metrics. */
    private final AtomicLong deadLetters = new AtomicLong();
    private Thread samplingThread;
    private Thread weightsThread;

    // owned by the sampling thread
    private Generator generator;
    private AdmissionGate gate;
    private final ArrayDeque<Pending> buffer = new ArrayDeque<>();
    private long batchNumber;
    private long lastSwapMs = -1;

    public GeneratorService(GeneratorConfig config) {
        this.config = config;
        this.topics = config.topics();
    }

    // ---- Kafka settings: the one place they are derived ----

    /** The prompt consumer: a consumer-group member that never commits on its own (offsets ride in transactions). */
    public static Properties promptConsumerProperties(GeneratorConfig config) {
        Properties p = config.clientConfig().with(config.bootstrap());
        p.put(ConsumerConfig.GROUP_ID_CONFIG, config.groupId());
        p.put(ConsumerConfig.CLIENT_ID_CONFIG, config.generatorId() + "-prompts");
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");   // prompts written before we joined count
        p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, config.maxBatchPrompts());
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        return p;
    }

    /** The weights consumer: no group (every generator reads every version), fetches big enough for a chunk. */
    public static Properties weightsConsumerProperties(GeneratorConfig config) {
        int fetchBytes = Math.max(10 * MIB, spec(config.topics(), config.topics().policyWeights()).maxMessageBytes());
        Properties p = config.clientConfig().with(config.bootstrap());
        p.put(ConsumerConfig.CLIENT_ID_CONFIG, config.generatorId() + "-weights");
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");   // a version is published in one transaction
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, fetchBytes);
        p.put(ConsumerConfig.FETCH_MAX_BYTES_CONFIG, fetchBytes);
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        return p;
    }

    /** The transactional producer of rollouts, prompt dead letters and metrics. */
    public static Properties producerProperties(GeneratorConfig config) {
        Properties p = config.clientConfig().with(config.bootstrap());
        p.put(ProducerConfig.CLIENT_ID_CONFIG, config.generatorId());
        // with EOS v2 (KIP-447) zombies are fenced through the consumer group generation passed to
        // sendOffsetsToTransaction, so a per-process id is enough; it must only be unique among live generators
        p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, config.transactionalId());
        // ... but a crashed generator's replacement has another id, so its open transaction is ended only by the
        // broker, after this timeout; read_committed readers (the reward-service) wait behind it that long. A batch's
        // transaction lasts from its first send to its commit, milliseconds: Kafka's 60 s default only stalls the run.
        // The cluster's settings may change it.
        p.putIfAbsent(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, (int) TRANSACTION_TIMEOUT.toMillis());
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, Math.max(
                spec(config.topics(), config.topics().rollouts()).maxMessageBytes(),
                spec(config.topics(), config.topics().deadLetters()).maxMessageBytes()));
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        return p;
    }

    /** The plain producer of weight dead letters (the weights thread has no transaction to join). */
    public static Properties deadLetterProducerProperties(GeneratorConfig config) {
        Properties p = config.clientConfig().with(config.bootstrap());
        p.put(ProducerConfig.CLIENT_ID_CONFIG, config.generatorId() + "-dead-letters");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        // a dead letter carries a whole weight chunk
        p.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, spec(config.topics(), config.topics().deadLetters()).maxMessageBytes());
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        return p;
    }

    private static TopicSpec spec(Topics topics, String name) {
        // message sizes do not depend on the partition count
        return TopicSpec.forRun(topics, 1).stream().filter(s -> s.name().equals(name)).findFirst()
                .orElseThrow(() -> new IllegalStateException("no TopicSpec for " + name));
    }

    // ---- lifecycle ----

    /**
     * Creates the clients and starts the weights and sampling threads; returns at once. Sampling begins when
     * the newest complete policy version on {@code rl.policy-weights} is loaded.
     */
    public synchronized GeneratorService start() {
        if (running || closed) throw new IllegalStateException("generator " + config.generatorId() + " was already started");
        log.info("starting generator {}: {}", config.generatorId(), config);
        running = true;
        deadLetterProducer = new KafkaProducer<>(deadLetterProducerProperties(config));
        producer = new KafkaProducer<>(producerProperties(config));
        promptConsumer = new KafkaConsumer<>(promptConsumerProperties(config));
        weightsConsumer = new KafkaConsumer<>(weightsConsumerProperties(config));
        try {
            requireTopics(topics.prompts(), topics.policyWeights(), topics.rollouts(), topics.deadLetters(), topics.metrics());
        } catch (RuntimeException e) {
            close();
            throw e;
        }
        weightsThread = new Thread(this::runWeights, config.generatorId() + "-weights");
        samplingThread = new Thread(this::runSampling, config.generatorId() + "-sampling");
        weightsThread.start();
        samplingThread.start();
        return this;
    }

    /** Fails before any thread starts when a topic is missing (the broker does not create topics on demand). */
    private void requireTopics(String... names) {
        for (String topic : names) TopicAdmin.partitions(weightsConsumer, topic, config.bootstrap());   // not yet used by its thread
    }

    /** Stops both threads (the batch in progress is finished and committed), then closes clients and the policy. */
    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        running = false;
        if (samplingThread == null) {   // never started, or start() failed before the threads
            for (AutoCloseable client : new AutoCloseable[] {promptConsumer, weightsConsumer, producer, deadLetterProducer}) {
                closeQuietly(client);
            }
            return;
        }
        promptConsumer.wakeup();
        weightsConsumer.wakeup();
        join(samplingThread);
        join(weightsThread);
        deadLetterProducer.close(CLOSE_TIMEOUT);
        log.info("generator {} stopped at policy version {} after {} groups", config.generatorId(), policyVersion, groupsAdmitted);
    }

    private static void closeQuietly(AutoCloseable client) {
        if (client == null) return;
        try {
            client.close();
        } catch (Exception e) {
            log.warn("closing {} failed", client.getClass().getSimpleName(), e);
        }
    }

    private static void join(Thread thread) {
        try {
            thread.join(CLOSE_TIMEOUT.toMillis());
            if (thread.isAlive()) log.warn("thread {} still running {} after close", thread.getName(), CLOSE_TIMEOUT);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void fail(String thread, Throwable t) {
        if (failure == null) failure = t;
        log.error("generator {} stopping: {} thread failed", config.generatorId(), thread, t);
        running = false;
        promptConsumer.wakeup();
        weightsConsumer.wakeup();
    }

    // ---- accessors, for tests and the demo ----

    public GeneratorConfig config() {
        return config;
    }

    /** Version of the weights the next batch samples with; -1 before the first version is loaded. */
    public long policyVersion() {
        return policyVersion;
    }

    /** Groups (prompts) sampled and committed since start. */
    public long groupsAdmitted() {
        return groupsAdmitted;
    }

    /** Whether the admission gate holds the prompt partitions paused. */
    public boolean isPaused() {
        return paused;
    }

    /** Versions hot-swapped in after the first one was loaded. */
    public int versionsSwapped() {
        return versionsSwapped;
    }

    /** Whether both threads are meant to be running (false after close or a fatal error). */
    public boolean isRunning() {
        return running;
    }

    /** The error that stopped the service, if one did. */
    public Optional<Throwable> failure() {
        return Optional.ofNullable(failure);
    }

    // ---- weights thread ----

    /**
     * A complete version and the record of its last chunk (what a BAD_WEIGHTS dead letter carries). {@code bytes} is
     * null for a blob-store pointer until {@link #resolve} reads it.
     */
    private record WeightsVersion(long version, byte[] bytes, int chunkCount, Instant publishedAt,
                                  ConsumerRecord<byte[], byte[]> lastChunk, WeightChunk pointer) {
    }

    /**
     * Follows the weights topic from its start, and the dead-letters topic from now on for groups that will never be
     * trained (see {@link AdmissionGate#lost}); both on one consumer, which waits in one poll for either.
     */
    private void runWeights() {
        KafkaConsumer<byte[], byte[]> consumer = weightsConsumer;
        try {
            String topic = topics.policyWeights();
            List<TopicPartition> partitions = TopicAdmin.partitions(consumer, topic, config.bootstrap());
            List<TopicPartition> letterPartitions = TopicAdmin.partitions(consumer, topics.deadLetters(), config.bootstrap());
            List<TopicPartition> assigned = new ArrayList<>(partitions);
            assigned.addAll(letterPartitions);
            consumer.assign(assigned);
            consumer.seekToBeginning(partitions);
            consumer.seekToEnd(letterPartitions);
            // resolved now, before the first version is handed over: every group admitted after it is followed
            letterPartitions.forEach(consumer::position);
            // read_committed: end offsets are the last stable offsets, so an open publish is not waited for
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            WeightChunks.Assembler assembler = new WeightChunks.Assembler();
            WeightsVersion newest = null;
            boolean caughtUp = false;
            while (running) {
                for (ConsumerRecord<byte[], byte[]> rec : consumer.poll(POLL_TIMEOUT)) {
                    if (rec.topic().equals(topics.deadLetters())) {
                        followDeadLetter(rec);
                        continue;
                    }
                    WeightsVersion complete = accept(assembler, rec);
                    if (complete != null && (newest == null || complete.version() > newest.version())) newest = complete;
                }
                // only the newest version of a poll is handed over (and, from a blob store, read): the sampler would
                // skip the older ones anyway
                if (caughtUp && newest != null) {
                    handOver(newest);
                    newest = null;
                }
                if (!caughtUp && reached(consumer, end)) {
                    caughtUp = true;
                    if (newest != null) {
                        handOver(newest);
                    } else {
                        log.info("no policy version on {} yet; generator {} waits for the trainer to publish one",
                                topic, config.generatorId());
                    }
                    newest = null;
                }
            }
        } catch (WakeupException e) {
            if (running) fail("weights", e);
        } catch (Throwable t) {
            fail("weights", t);
        } finally {
            consumer.close(CLOSE_TIMEOUT);
        }
    }

    /** Passes on the group a dead letter says will never be trained; every other dead letter is someone else's. */
    private void followDeadLetter(ConsumerRecord<byte[], byte[]> rec) {
        DeadLetter letter;
        try {
            letter = deadLetterCodec.decode(rec);
        } catch (RecordDecodingException e) {
            // not ours to judge: a dead letter of a dead letter would only repeat the bytes
            log.debug("skipping an undecodable record on {}: {}", rec.topic(), e.getMessage());
            return;
        }
        AdmissionGate.neverTrained(letter, topics.rollouts(), topics.scoredGroups()).ifPresent(groupId -> {
            lostGroups.add(groupId);
            weightsArrived.release();   // a sampler waiting at a closed gate looks again
        });
    }

    private static boolean reached(KafkaConsumer<byte[], byte[]> consumer, Map<TopicPartition, Long> end) {
        for (var e : end.entrySet()) {
            if (consumer.position(e.getKey()) < e.getValue()) return false;
        }
        return true;
    }

    /** Feeds one chunk record to the assembler; a complete, checksummed version comes back. */
    private WeightsVersion accept(WeightChunks.Assembler assembler, ConsumerRecord<byte[], byte[]> rec) {
        WeightChunk chunk;
        try {
            chunk = chunkCodec.decode(rec);
        } catch (RecordDecodingException e) {
            sendWeightsDeadLetter(DeadLetters.undecodable(rec, e, config.generatorId()));
            return null;
        }
        if (chunk.getBlobUri() != null) {
            return new WeightsVersion(chunk.getVersion(), null, 1, chunk.getCreatedAtMs(), rec, chunk);
        }
        try {
            Optional<byte[]> whole = assembler.add(chunk);
            if (whole.isEmpty()) return null;
            return new WeightsVersion(chunk.getVersion(), whole.get(), chunk.getChunkCount(), chunk.getCreatedAtMs(), rec, null);
        } catch (WeightChunks.InvalidWeightsException e) {
            refuse(e, chunk, rec);
            return null;
        }
    }

    /**
     * Reads a blob-store version's weights; at start only the newest version is read, not every pointer on the
     * topic (the trainer prunes old ones). Null when they cannot be had, dead-lettered.
     */
    private WeightsVersion resolve(WeightsVersion version) {
        if (version.bytes() != null) return version;
        try {
            return new WeightsVersion(version.version(), WeightBlobs.read(version.pointer()), 1, version.publishedAt(),
                    version.lastChunk(), version.pointer());
        } catch (WeightChunks.InvalidWeightsException e) {
            refuse(e, version.pointer(), version.lastChunk());
            return null;
        }
    }

    private void refuse(WeightChunks.InvalidWeightsException e, WeightChunk chunk, ConsumerRecord<byte[], byte[]> rec) {
        // a whole version that fails its checksum was published (and damaged): admission moves on even though this
        // generator cannot load it, by one version at most since the trainer publishes them in order. A chunk refused
        // on its own claims a version nobody may have published; counting it would open admission to that version.
        if (e.whole()) latestPublished.accumulateAndGet(e.version(), AdmissionGate::afterUnloadable);
        boolean blob = chunk.getBlobUri() != null;
        String where = (blob ? "pointer" : "chunk " + chunk.getChunkIndex()) + " at %s-%d@%d".formatted(rec.topic(), rec.partition(), rec.offset());
        sendWeightsDeadLetter(DeadLetters.builder(rec).errorType(blob ? BAD_BLOB : BAD_CHECKSUM)
                .reason("%s (%s); keeping policy version %d".formatted(e.getMessage(), where, policyVersion))
                .serviceId(config.generatorId()).build());
    }

    private void handOver(WeightsVersion pending) {
        WeightsVersion version = resolve(pending);
        if (version == null) return;
        pendingWeights.accumulateAndGet(version, (old, fresh) -> old == null || fresh.version() > old.version() ? fresh : old);
        // after the hand-over: a sampling thread that sees the new latest version also finds its weights
        latestPublished.accumulateAndGet(version.version(), Math::max);
        weightsArrived.release();
    }

    private void sendWeightsDeadLetter(DeadLetter letter) {
        log.warn("dead letter {} from {}-{}@{}: {}", letter.getErrorType(), letter.getSourceTopic(),
                letter.getSourcePartition(), letter.getSourceOffset(), letter.getReason());
        byte[] value = RlSerdes.deadLetter().serializer().serialize(topics.deadLetters(), letter);
        deadLetterProducer.send(new ProducerRecord<>(topics.deadLetters(), config.generatorId(), value), (meta, e) -> {
            if (e != null) log.error("cannot write dead letter of {}-{}@{} to {}", letter.getSourceTopic(),
                    letter.getSourcePartition(), letter.getSourceOffset(), topics.deadLetters(), e);
            else deadLetters.incrementAndGet();
        });
    }

    // ---- sampling thread ----

    /** A polled prompt record, decoded and checked: either ready to sample or a dead letter. */
    private record Pending(ConsumerRecord<byte[], byte[]> rec, PreparedPrompt prompt, DeadLetter letter) {
        TopicPartition partition() {
            return new TopicPartition(rec.topic(), rec.partition());
        }
    }

    private void runSampling() {
        try {
            producer.initTransactions();
            Policy.setIntraOpThreads(config.intraOpThreads());
            generator = awaitFirstVersion();
            if (generator == null) return;   // closed while waiting
            gate = new AdmissionGate(config.maxStaleness(), config.groupsPerVersion(), generator.policyVersion());
            promptConsumer.subscribe(List.of(topics.prompts()), new RebalanceListener());
            while (running) runOnce();
        } catch (WakeupException e) {
            if (running) fail("sampling", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Throwable t) {
            fail("sampling", t);
        } finally {
            promptConsumer.close(CLOSE_TIMEOUT);
            producer.close(CLOSE_TIMEOUT);
            if (generator != null) generator.close();
        }
    }

    /** Waits for the weights thread's first version and builds the policy from it; null when closed meanwhile. */
    private Generator awaitFirstVersion() throws InterruptedException {
        Device device = Device.fromName(config.device());
        while (running) {
            if (!weightsArrived.tryAcquire(POLL_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) continue;
            WeightsVersion first = pendingWeights.getAndSet(null);
            if (first == null) continue;
            long started = System.nanoTime();
            try {
                Policy policy = WeightCodec.decode(first.bytes(), device);
                Generator created = new Generator(config, policy, first.version());
                policyVersion = first.version();
                logLoaded(first, started);
                return created;
            } catch (IllegalArgumentException e) {
                sendBadWeights(first, e);
            }
        }
        return null;
    }

    private void logLoaded(WeightsVersion version, long startedNanos) {
        lastSwapMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startedNanos);
        log.info("loaded policy version {} ({} chunks) in {} ms, publish→swapped {} ms", version.version(),
                version.chunkCount(), lastSwapMs, Duration.between(version.publishedAt(), Instant.now()).toMillis());
    }

    private void sendBadWeights(WeightsVersion version, IllegalArgumentException e) {
        ConsumerRecord<byte[], byte[]> rec = version.lastChunk();
        sendWeightsDeadLetter(DeadLetters.builder(rec).errorType(BAD_WEIGHTS)
                .reason("policy version %d (last chunk at %s-%d@%d) does not load: %s; keeping policy version %d"
                        .formatted(version.version(), rec.topic(), rec.partition(), rec.offset(), e.getMessage(), policyVersion))
                .serviceId(config.generatorId()).build());
    }

    /** One turn: swap weights if a newer version came, poll, sample one batch, write it in one transaction. */
    private void runOnce() throws InterruptedException {
        long latest = latestPublished.get();   // read before the swap: see handOver
        swapIfNewer();
        gate.versionPublished(latest);
        for (String groupId; (groupId = lostGroups.poll()) != null; ) {
            if (gate.lost(groupId)) {
                log.info("generator {}: group {} will not be trained (expired or dead-lettered); its admission place is free again",
                        config.generatorId(), groupId);
            }
        }
        boolean open = gate.isOpen();
        setPaused(!open);
        if (!open) {
            awaitNewerVersion(latest);
            poll(Duration.ZERO);   // paused: keeps the membership alive
        } else if (buffer.size() < config.maxBatchPrompts()) {
            poll(POLL_TIMEOUT);
        }
        if (buffer.isEmpty()) return;
        if (open) {
            long deadline = System.nanoTime() + config.linger().toNanos();
            long left;
            while (buffer.size() < config.maxBatchPrompts() && (left = deadline - System.nanoTime()) > 0) {
                poll(Duration.ofNanos(left));
            }
        }

        List<PreparedPrompt> prompts = new ArrayList<>();
        List<Pending> letters = new ArrayList<>();
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        long room = gate.remaining();
        while (!buffer.isEmpty() && prompts.size() < config.maxBatchPrompts()) {
            Pending head = buffer.peekFirst();
            if (head.prompt() != null) {
                if (prompts.size() >= room) break;   // records of a partition stay in order: stop at the first blocked one
                prompts.add(head.prompt());
            } else {
                letters.add(head);
            }
            buffer.removeFirst();
            offsets.put(head.partition(), new OffsetAndMetadata(head.rec().offset() + 1));
        }
        if (offsets.isEmpty()) return;

        Policy.setIntraOpThreads(config.intraOpThreads());   // per batch: see Policy.setIntraOpThreads
        long started = System.nanoTime();
        long seed = config.seed() + batchNumber++ * SEED_STRIDE;
        List<Rollout> rollouts = prompts.isEmpty() ? List.of() : generator.generate(prompts, seed);
        double seconds = (System.nanoTime() - started) / 1e9;
        if (write(rollouts, letters, offsets, metric(prompts.size(), rollouts, letters.size(), seconds, room - prompts.size() <= 0))) {
            gate.admitted(prompts.stream().map(PreparedPrompt::promptId).toList());
            groupsAdmitted = gate.admittedGroups();
            lastSwapMs = -1;
            log.debug("batch {}: {} groups, {} rollouts, {} dead letters in {} s at policy version {}", batchNumber - 1,
                    prompts.size(), rollouts.size(), letters.size(), "%.3f".formatted(seconds), generator.policyVersion());
        }
    }

    /**
     * At a closed gate: returns as soon as the trainer publishes a version newer than {@code latest}, or after
     * {@link #POLL_TIMEOUT}. Sleeping in the paused consumer's poll instead would add up to a whole poll timeout
     * to every swap, and the loop's pace is set by how fast a new version reaches the sampler.
     */
    private void awaitNewerVersion(long latest) throws InterruptedException {
        if (latestPublished.get() == latest) weightsArrived.tryAcquire(POLL_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        weightsArrived.drainPermits();   // earlier hand-overs are seen through latestPublished, not permits
    }

    private void poll(Duration timeout) {
        for (ConsumerRecord<byte[], byte[]> rec : promptConsumer.poll(timeout)) {
            String source = rec.topic() + "-" + rec.partition() + "@" + rec.offset();
            try {
                buffer.addLast(new Pending(rec, generator.prepare(promptCodec.decode(rec), source), null));
            } catch (RecordDecodingException e) {
                buffer.addLast(new Pending(rec, null, DeadLetters.undecodable(rec, e, config.generatorId())));
            } catch (InvalidPromptException e) {
                buffer.addLast(new Pending(rec, null, DeadLetters.builder(rec).errorType(InvalidPromptException.ERROR_TYPE)
                        .reason(e.getMessage()).serviceId(config.generatorId()).build()));
            }
        }
    }

    /**
     * Writes a batch and its prompt offsets in one transaction.
     *
     * @return false when the transaction was aborted (the consumer is rewound, so the prompts are sampled again)
     */
    private boolean write(List<Rollout> rollouts, List<Pending> letters, Map<TopicPartition, OffsetAndMetadata> offsets,
                          Metric metric) {
        try {
            producer.beginTransaction();
            for (Rollout r : rollouts) {
                producer.send(new ProducerRecord<>(topics.rollouts(), r.getGroupId(),
                        RlSerdes.rollout().serializer().serialize(topics.rollouts(), r)));
            }
            for (Pending p : letters) {
                producer.send(new ProducerRecord<>(topics.deadLetters(), config.generatorId(),
                        RlSerdes.deadLetter().serializer().serialize(topics.deadLetters(), p.letter())));
            }
            producer.send(new ProducerRecord<>(topics.metrics(), config.generatorId(),
                    RlSerdes.metric().serializer().serialize(topics.metrics(), metric)));
            // offsets ride in the rollouts' transaction: a crash between the two would sample the group twice
            // (offsets after rollouts) or lose it (offsets before); committing both atomically does neither
            String batch = "generator %s: a batch of %d rollouts".formatted(config.generatorId(), rollouts.size());
            TimedOutCalls.retry(batch + ", sending its prompt offsets",
                    () -> producer.sendOffsetsToTransaction(offsets, promptConsumer.groupMetadata()), () -> running);
            TimedOutCalls.retry(batch + ", committing", producer::commitTransaction, () -> running);
            deadLetters.addAndGet(letters.size());
        } catch (ProducerFencedException | OutOfOrderSequenceException | AuthorizationException | UnsupportedVersionException e) {
            // another instance owns our transactional id, or the broker refuses us, or it ended this transaction itself
            // after transaction.timeout.ms (an outage that long): nothing to retry; a restart resumes from the offsets
            throw new IllegalStateException("generator " + config.generatorId() + " cannot write transactions any more ("
                    + e + "); stopping. After a broker outage longer than transaction.timeout.ms ("
                    + producerProperties(config).get(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG)
                    + " ms) this is expected: restart the generator, no prompt is lost", e);
        } catch (KafkaException e) {
            if (e instanceof TimeoutException && !running) {
                // closing in a broker outage: the open transaction is aborted by the broker after transaction.timeout.ms,
                // and the prompts are sampled again by whichever generator takes their partitions
                log.warn("generator {}: closing with a transaction of {} rollouts unfinished ({})", config.generatorId(),
                        rollouts.size(), e.toString());
                return false;
            }
            log.warn("generator {}: transaction of {} rollouts failed ({}); aborting and re-reading prompts from the"
                    + " last committed offsets", config.generatorId(), rollouts.size(), e.toString());
            try {
                TimedOutCalls.retry("generator " + config.generatorId() + ": aborting a failed batch", producer::abortTransaction,
                        () -> running);
            } catch (TimeoutException closing) {
                log.warn("generator {}: closing with a failed transaction not yet aborted ({})", config.generatorId(), closing.toString());
                return false;
            }
            rewind();
            return false;
        }
        for (Pending p : letters) {
            log.warn("dead letter {} from {}-{}@{}: {}", p.letter().getErrorType(), p.rec().topic(), p.rec().partition(),
                    p.rec().offset(), p.letter().getReason());
        }
        return true;
    }

    /** After an abort: forget buffered prompts and seek every assigned partition back to its committed offset. */
    private void rewind() {
        buffer.clear();
        Set<TopicPartition> assigned = promptConsumer.assignment();
        Map<TopicPartition, OffsetAndMetadata> committed = promptConsumer.committed(assigned);
        List<TopicPartition> neverCommitted = new ArrayList<>();
        for (TopicPartition tp : assigned) {
            OffsetAndMetadata offset = committed.get(tp);
            if (offset == null) neverCommitted.add(tp);
            else promptConsumer.seek(tp, offset);
        }
        if (!neverCommitted.isEmpty()) promptConsumer.seekToBeginning(neverCommitted);   // as auto.offset.reset=earliest
    }

    private void swapIfNewer() {
        WeightsVersion next = pendingWeights.getAndSet(null);
        if (next == null || next.version() <= generator.policyVersion()) return;
        long started = System.nanoTime();
        try {
            generator.swap(next.version(), next.bytes());
        } catch (IllegalArgumentException e) {
            sendBadWeights(next, e);
            return;
        }
        policyVersion = next.version();
        versionsSwapped = generator.swaps();
        logLoaded(next, started);
    }

    private void setPaused(boolean pause) {
        if (pause) {
            promptConsumer.pause(promptConsumer.assignment());   // idempotent; covers partitions assigned since
        }
        if (pause == paused) return;
        paused = pause;
        if (pause) {
            log.info("generator {} pauses prompts: {} groups admitted, capacity {} at latest policy version {} (maxStaleness {})",
                    config.generatorId(), gate.admittedGroups(), gate.capacity(), gate.latestVersion(), config.maxStaleness());
        } else {
            promptConsumer.resume(promptConsumer.paused());
            log.info("generator {} resumes prompts at latest policy version {}", config.generatorId(), gate.latestVersion());
        }
    }

    /** @param letters the batch's dead letters, committed with the metric */
    private Metric metric(int prompts, List<Rollout> rollouts, int letters, double seconds, boolean gateClosedAfter) {
        long tokens = rollouts.stream().mapToLong(r -> r.getCompletionTokenIds().size()).sum();
        Map<String, Double> values = new LinkedHashMap<>();
        values.put("prompts", (double) prompts);
        values.put("rollouts", (double) rollouts.size());
        values.put("tokens", (double) tokens);
        values.put("tokens_per_s", seconds > 0 ? tokens / seconds : 0.0);
        values.put("policy_version", (double) generator.policyVersion());
        values.put("latest_version", (double) gate.latestVersion());
        values.put("groups_admitted", (double) (gate.admittedGroups() + prompts));
        values.put("groups_lost", (double) gate.lostGroups());
        values.put("paused", gateClosedAfter ? 1.0 : 0.0);
        values.put("dead_letters", (double) (deadLetters.get() + letters));
        if (lastSwapMs >= 0) values.put("swap_ms", (double) lastSwapMs);
        return Metric.newBuilder()
                .setServiceId(config.generatorId())
                .setKind(BATCH_METRIC)
                .setStep(-1)
                .setPolicyVersion(generator.policyVersion())
                .setValues(values)
                .setTimestampMs(Instant.now())
                .build();
    }

    /** Keeps the buffer to the partitions this member owns, and the pause on newly assigned ones. */
    private final class RebalanceListener implements ConsumerRebalanceListener {
        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
            // nothing buffered was written yet (polls happen outside transactions): the new owner reads it again
            Set<TopicPartition> gone = new HashSet<>(partitions);
            buffer.removeIf(p -> gone.contains(p.partition()));
        }

        @Override
        public void onPartitionsLost(Collection<TopicPartition> partitions) {
            onPartitionsRevoked(partitions);
        }

        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
            if (paused) promptConsumer.pause(partitions);
        }
    }
}
