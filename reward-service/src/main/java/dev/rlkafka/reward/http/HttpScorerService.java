package dev.rlkafka.reward.http;

import dev.rlkafka.schemas.DeadLetters;
import dev.rlkafka.schemas.TopicAdmin;
import dev.rlkafka.schemas.TopicSpec;
import dev.rlkafka.schemas.Topics;
import dev.rlkafka.schemas.avro.DeadLetter;
import dev.rlkafka.schemas.avro.Metric;
import dev.rlkafka.schemas.avro.Reward;
import dev.rlkafka.schemas.avro.Rollout;
import dev.rlkafka.schemas.serde.RecordCodec;
import dev.rlkafka.schemas.serde.RecordDecodingException;
import dev.rlkafka.schemas.serde.RlSerdes;
import org.apache.kafka.clients.consumer.CommitFailedException;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.RebalanceInProgressException;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.errors.TimeoutException;
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
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The HTTP scorer's Kafka adapter: consumes {@code rl.rollouts} in its own consumer group, has each rollout
 * scored by {@link HttpScorer} (at most {@code concurrency} at once), and writes a {@link Reward} keyed by group
 * id to {@code rl.rewards}, or, when the server gave no valid score after its retries, a {@link DeadLetter}
 * (original rollout bytes) to {@code rl.dead-letters}. It never waits for the server on the poll thread: when
 * {@code concurrency} rollouts are in flight it pauses the partitions and keeps polling, so a slow server
 * cannot push the consumer past {@code max.poll.interval.ms}.
 *
 * <p><b>Delivery: at least once.</b> A partition's offset is committed only up to its oldest rollout whose
 * reward or dead letter is not yet written (acknowledged by the broker). After a crash the uncommitted
 * rollouts are scored again, and a reward may then be written twice; the reward-service keeps the first score
 * of a (rollout, scorer) and dead-letters the second as {@code DUPLICATE_REWARD}. Kafka transactions would not
 * buy exactly-once here: the HTTP call is outside them. A broker outage stalls the scorer instead of stopping it:
 * records the broker did not take are written again until it is back (one whose acknowledgement was lost is then
 * there twice: the reward-service dead-letters the second reward as a duplicate, or as late once its group was
 * emitted), and commits that time out are tried again.
 *
 * <p>A failed rollout writes no reward: whether its group waits, goes without this scorer, or expires is the
 * reward-service's call (required/optional scorers, {@code optionalGrace}, {@code groupTimeout}).
 *
 * <p>{@code new HttpScorerService(config).start()}; {@link #close()} stops polling, waits up to
 * {@code drainTimeout} for the rollouts in flight, commits, and closes the clients.
 */
public final class HttpScorerService implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(HttpScorerService.class);

    /** {@code Metric.kind} of the counters this scorer writes to {@code rl.metrics}. */
    public static final String METRIC_KIND = "scorer.http";
    private static final Duration POLL_TIMEOUT = Duration.ofMillis(100);
    private static final Duration CLIENT_CLOSE_TIMEOUT = Duration.ofSeconds(10);
    /** Before writing records again that the broker did not take: the producer has already retried for delivery.timeout.ms. */
    private static final Duration WRITE_RETRY_BACKOFF = Duration.ofSeconds(1);

    private final HttpScorerConfig config;
    private final Topics topics;
    private final HttpScorer scorer;
    private final RecordCodec<Rollout> rolloutCodec = RlSerdes.rollout().codec();
    private final ScorerCounters counters = new ScorerCounters();
    /** Rollouts the scorer has finished with, waiting for the poll thread to write them. */
    private final BlockingQueue<Resolved> resolved = new LinkedBlockingQueue<>();

    private volatile boolean running;
    /** Closing found the broker away: what is still in flight stays uncommitted, without waiting out drainTimeout. */
    private boolean brokerAwayAtClose;
    private volatile boolean closed;
    private volatile Throwable failure;
    private volatile int inFlight;

    private KafkaConsumer<byte[], byte[]> consumer;
    private KafkaProducer<String, byte[]> producer;
    private Thread pollThread;

    // owned by the poll thread
    private final ArrayDeque<ConsumerRecord<byte[], byte[]>> backlog = new ArrayDeque<>();
    private final Map<TopicPartition, PartitionOffsets> offsets = new HashMap<>();
    private boolean paused;
    private long nextReportNanos;
    private long resolvedAtLastReport;

    public HttpScorerService(HttpScorerConfig config) {
        this.config = config;
        this.topics = config.topics();
        this.scorer = HttpScorer.of(config);
    }

    // ---- Kafka settings: the one place they are derived ----

    /** The rollout consumer: read_committed (generators write in transactions), commits only by hand. */
    public static Properties consumerProperties(HttpScorerConfig config) {
        Properties p = config.clientConfig().with(config.bootstrap());
        p.put(ConsumerConfig.GROUP_ID_CONFIG, config.groupId());
        p.put(ConsumerConfig.CLIENT_ID_CONFIG, config.scorerId() + "-rollouts");
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        // a new scorer scores the rollouts already on the topic, not only those written after it joined
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        // a poll brings at most what fits in flight, so the backlog between poll and scorer stays small
        p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, config.concurrency());
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        return p;
    }

    /** The producer of rewards, dead letters and metrics: idempotent, so a broker retry writes no duplicate. */
    public static Properties producerProperties(HttpScorerConfig config) {
        Properties p = config.clientConfig().with(config.bootstrap());
        p.put(ProducerConfig.CLIENT_ID_CONFIG, config.scorerId());
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        // a dead letter carries a whole rollout
        p.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, TopicSpec.forRun(config.topics(), 1).stream()
                .filter(s -> s.name().equals(config.topics().deadLetters())).findFirst()
                .orElseThrow(() -> new IllegalStateException("no TopicSpec for " + config.topics().deadLetters()))
                .maxMessageBytes());
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        return p;
    }

    // ---- lifecycle ----

    /** Creates the clients, checks the topics exist, and starts the poll thread; returns at once. */
    public synchronized HttpScorerService start() {
        if (running || closed) throw new IllegalStateException("HTTP scorer " + config.scorerId() + " was already started");
        log.info("starting HTTP scorer {}: {}; worst case per rollout {} (a reward-service requiring it needs a longer "
                + "groupTimeout)", config.scorerId(), config, config.worstCaseLatency());
        running = true;
        producer = new KafkaProducer<>(producerProperties(config));
        consumer = new KafkaConsumer<>(consumerProperties(config));
        try {
            requireTopics(topics.rollouts(), topics.rewards(), topics.deadLetters(), topics.metrics());
        } catch (RuntimeException e) {
            close();
            throw e;
        }
        nextReportNanos = System.nanoTime() + config.progressInterval().toNanos();
        pollThread = new Thread(this::run, "scorer-" + config.scorerId());
        pollThread.start();
        return this;
    }

    /** Fails before the thread starts when a topic is missing (the broker does not create topics on demand). */
    private void requireTopics(String... names) {
        for (String topic : names) TopicAdmin.partitions(consumer, topic, config.bootstrap());
    }

    /** Stops polling, resolves what is in flight (up to {@code drainTimeout}), commits, closes the clients. */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) return;
            closed = true;
            running = false;
        }
        if (pollThread == null) {   // never started, or start() failed before the thread
            if (consumer != null) consumer.close(CLIENT_CLOSE_TIMEOUT);
            if (producer != null) producer.close(CLIENT_CLOSE_TIMEOUT);
            return;
        }
        try {
            pollThread.join(config.drainTimeout().plus(CLIENT_CLOSE_TIMEOUT.multipliedBy(3)).toMillis());
            if (pollThread.isAlive()) log.warn("HTTP scorer {}: poll thread still running after close", config.scorerId());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Waits up to {@code timeout} for the poll thread to end (after {@link #close()} or a fatal error). */
    public boolean awaitStopped(Duration timeout) throws InterruptedException {
        if (pollThread == null) return true;
        pollThread.join(Math.max(1, timeout.toMillis()));
        return !pollThread.isAlive();
    }

    // ---- accessors, for tests and the CLI ----

    public HttpScorerConfig config() {
        return config;
    }

    /** Rewards written since start. */
    public long scored() {
        return counters.scored();
    }

    /** Rollouts dead-lettered since start, undecodable ones included. */
    public long deadLettered() {
        return counters.deadLetters();
    }

    /** Rollouts polled and not yet resolved. */
    public int inFlight() {
        return inFlight;
    }

    /** Whether the poll thread is meant to be running (false after close or a fatal error). */
    public boolean isRunning() {
        return running;
    }

    /** The error that stopped the scorer, if one did. */
    public Optional<Throwable> failure() {
        return Optional.ofNullable(failure);
    }

    // ---- poll thread ----

    /**
     * A rollout the scorer is done with: exactly one of {@code reward} and {@code letter} is set, unless
     * {@code error} says our own code failed.
     */
    private record Resolved(ConsumerRecord<byte[], byte[]> rec, Reward reward, DeadLetter letter, ScoringOutcome outcome,
                            Throwable error) {
        TopicPartition partition() {
            return new TopicPartition(rec.topic(), rec.partition());
        }
    }

    private void run() {
        try {
            consumer.subscribe(List.of(topics.rollouts()), new RebalanceListener());
            log.info("HTTP scorer {} consuming {} as group {}, POSTing to {} (concurrency {}, timeout {}, {})",
                    config.scorerId(), topics.rollouts(), config.groupId(), config.url(), config.concurrency(),
                    config.timeout(), config.retryPolicy());
            while (running) runOnce();
            drain();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Throwable t) {
            failure = t;
            running = false;
            log.error("HTTP scorer {} stopping: {} rollouts in flight stay uncommitted and are scored again on restart",
                    config.scorerId(), inFlight, t);
        } finally {
            scorer.close();
            consumer.close(CLIENT_CLOSE_TIMEOUT);   // commits what the revoked partitions finished (RebalanceListener)
            report(true);
            producer.close(CLIENT_CLOSE_TIMEOUT);
            log.info("HTTP scorer {} stopped: {} scored, {} dead-lettered", config.scorerId(), counters.scored(),
                    counters.deadLetters());
        }
    }

    /** One turn: poll while there is room, hand rollouts to the scorer, write what it finished, commit. */
    private void runOnce() throws InterruptedException {
        submitBacklog();
        boolean full = inFlight >= config.concurrency();
        setPaused(full);
        // full: poll(0) only keeps the membership alive (paused partitions return nothing); we wait on the scorer instead
        for (ConsumerRecord<byte[], byte[]> rec : consumer.poll(full ? Duration.ZERO : POLL_TIMEOUT)) backlog.addLast(rec);
        submitBacklog();
        writeResolved(full ? POLL_TIMEOUT : Duration.ZERO);
        commit();
        if (System.nanoTime() >= nextReportNanos) report(false);
    }

    private void submitBacklog() {
        while (!backlog.isEmpty() && inFlight < config.concurrency()) submit(backlog.removeFirst());
    }

    private void submit(ConsumerRecord<byte[], byte[]> rec) {
        offsets.computeIfAbsent(new TopicPartition(rec.topic(), rec.partition()), tp -> new PartitionOffsets()).track(rec.offset());
        inFlight++;
        Rollout rollout;
        try {
            rollout = rolloutCodec.decode(rec);
        } catch (RecordDecodingException e) {
            resolved.add(new Resolved(rec, null, DeadLetters.undecodable(rec, e, config.scorerId()), null, null));
            return;
        }
        log.trace("HTTP scorer {}: scoring rollout {} ({}-{}@{})", config.scorerId(), rollout.getRolloutId(), rec.topic(),
                rec.partition(), rec.offset());
        scorer.score(rollout, rec.topic() + "-" + rec.partition() + "@" + rec.offset()).whenComplete((outcome, error) -> {
            Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
            if (cause instanceof CancellationException) return;  // closed while waiting to retry: stays uncommitted
            if (cause != null) resolved.add(new Resolved(rec, null, null, null, cause));
            else if (outcome instanceof ScoringOutcome.Scored scored) resolved.add(new Resolved(rec, scored.reward(), null, outcome, null));
            else if (outcome instanceof ScoringOutcome.Failed failed) resolved.add(new Resolved(rec, null, DeadLetters.builder(rec)
                    .errorType(failed.errorType()).reason(failed.reason()).serviceId(config.scorerId()).build(), outcome, null));
        });
    }

    /**
     * Writes every rollout the scorer has finished (waiting up to {@code wait} for the first), waits for the
     * broker's acknowledgements, then marks their offsets resolved.
     */
    private void writeResolved(Duration wait) throws InterruptedException {
        Resolved first = wait.isZero() ? resolved.poll() : resolved.poll(wait.toNanos(), TimeUnit.NANOSECONDS);
        if (first == null) return;
        List<Resolved> batch = new ArrayList<>();
        batch.add(first);
        resolved.drainTo(batch);
        for (Resolved r : batch) {
            if (r.error() != null) {
                throw new IllegalStateException("HTTP scorer " + config.scorerId() + " failed on the rollout at "
                        + r.rec().topic() + "-" + r.rec().partition() + "@" + r.rec().offset(), r.error());
            }
        }
        List<Resolved> toWrite = batch;
        for (int attempt = 1; ; attempt++) {
            Unwritten unwritten = write(toWrite);
            if (unwritten == null) break;
            // an outage (the broker gone for longer than delivery.timeout.ms) is waited out: stopping would only leave the
            // same rollouts to score again after a restart. Anything else (too large, not authorised) stops the scorer.
            if (!(unwritten.cause() instanceof RetriableException)) {
                throw new IllegalStateException("HTTP scorer " + config.scorerId() + " cannot write to " + topics.rewards()
                        + "/" + topics.deadLetters() + " on " + config.bootstrap() + "; offsets stay uncommitted", unwritten.cause());
            }
            if (!running) {
                // closing in an outage: their offsets stay unresolved, so uncommitted for the next run, and draining stops
                log.warn("HTTP scorer {}: closing with {} records not written ({}); their rollouts are scored again on restart",
                        config.scorerId(), unwritten.records().size(), unwritten.cause().toString());
                inFlight -= unwritten.records().size();
                batch.removeAll(unwritten.records());
                brokerAwayAtClose = true;
                break;
            }
            // the poll thread waits here: past max.poll.interval.ms the consumer leaves its group, and the partitions'
            // next owner (this scorer, once it polls again) scores their uncommitted rollouts again
            log.warn("HTTP scorer {}: the broker did not take {} of {} records for {}/{} (attempt {}: {}); writing them again",
                    config.scorerId(), unwritten.records().size(), batch.size(), topics.rewards(), topics.deadLetters(), attempt,
                    unwritten.cause().toString());
            Thread.sleep(WRITE_RETRY_BACKOFF.toMillis());
            toWrite = unwritten.records();
        }
        for (Resolved r : batch) {
            inFlight--;
            PartitionOffsets partition = offsets.get(r.partition());
            if (partition != null) partition.resolve(r.rec().offset());  // null: revoked meanwhile, the new owner redoes it
            if (r.reward() != null) {
                var scored = (ScoringOutcome.Scored) r.outcome();
                counters.scored(scored.attempts(), scored.latencyMs());
                log.debug("HTTP scorer {}: rollout {} scored {} after {} attempt(s), {} ms", config.scorerId(),
                        r.reward().getRolloutId(), r.reward().getScore(), scored.attempts(), scored.latencyMs());
            } else {
                counters.deadLettered(r.letter().getErrorType(), r.outcome() == null ? 0 : r.outcome().attempts());
                log.warn("dead letter {} from {}-{}@{}: {}", r.letter().getErrorType(), r.rec().topic(), r.rec().partition(),
                        r.rec().offset(), r.letter().getReason());
            }
        }
    }

    /** Records the broker did not take, and why: the first error that cannot be retried, else the last one. */
    private record Unwritten(List<Resolved> records, Throwable cause) {
    }

    /**
     * Sends each rollout's reward or dead letter and waits for the broker's acknowledgements.
     *
     * @return null when all were written; else the ones the broker did not take (written again, a record whose
     * acknowledgement was lost is written twice: at least once)
     */
    private Unwritten write(List<Resolved> batch) throws InterruptedException {
        List<Future<RecordMetadata>> sends = new ArrayList<>(batch.size());
        for (Resolved r : batch) {
            sends.add(r.reward() != null
                    ? producer.send(new ProducerRecord<>(topics.rewards(), r.reward().getGroupId(),
                            RlSerdes.reward().serializer().serialize(topics.rewards(), r.reward())))
                    : producer.send(new ProducerRecord<>(topics.deadLetters(), config.scorerId(),
                            RlSerdes.deadLetter().serializer().serialize(topics.deadLetters(), r.letter()))));
        }
        producer.flush();
        List<Resolved> unwritten = new ArrayList<>();
        Throwable cause = null;
        for (int i = 0; i < sends.size(); i++) {
            try {
                sends.get(i).get();
            } catch (ExecutionException e) {
                unwritten.add(batch.get(i));
                if (cause == null || cause instanceof RetriableException) cause = e.getCause();
            }
        }
        return unwritten.isEmpty() ? null : new Unwritten(unwritten, cause);
    }

    /** Commits each partition up to its oldest unresolved rollout, where that moved. */
    private void commit() {
        Map<TopicPartition, OffsetAndMetadata> advanced = new HashMap<>();
        offsets.forEach((tp, partition) -> partition.toCommit().ifPresent(o -> advanced.put(tp, new OffsetAndMetadata(o))));
        if (advanced.isEmpty()) return;
        try {
            consumer.commitSync(advanced);
            advanced.forEach((tp, o) -> offsets.get(tp).committed(o.offset()));
        } catch (CommitFailedException | RebalanceInProgressException e) {
            // the partitions moved: their new owner starts from the last commit and scores the rest again
            log.warn("HTTP scorer {}: commit of {} failed during a rebalance ({}); those rollouts may be scored twice",
                    config.scorerId(), advanced, e.toString());
        } catch (TimeoutException e) {
            // the broker is away; the offsets are still tracked and the next turn commits them
            log.warn("HTTP scorer {}: commit of {} timed out ({}); trying again next turn", config.scorerId(), advanced, e.getMessage());
        }
    }

    /**
     * After {@link #close()}: resolves what is in flight, up to {@code drainTimeout}. Backlog records are not sent;
     * they and whatever is still in flight stay uncommitted for the next run.
     */
    private void drain() throws InterruptedException {
        long deadline = System.nanoTime() + config.drainTimeout().toNanos();
        long left;
        while (inFlight > 0 && !brokerAwayAtClose && (left = deadline - System.nanoTime()) > 0) {
            writeResolved(Duration.ofNanos(Math.min(left, POLL_TIMEOUT.toNanos())));
            if (!brokerAwayAtClose) commit();
        }
        if (inFlight > 0) {
            log.warn("HTTP scorer {}: {} rollouts still in flight after drainTimeout {}; left uncommitted, scored again on restart",
                    config.scorerId(), inFlight, config.drainTimeout());
        }
    }

    private void setPaused(boolean pause) {
        if (pause) consumer.pause(consumer.assignment());   // idempotent; covers partitions assigned since
        if (pause == paused) return;
        paused = pause;
        if (pause) {
            log.debug("HTTP scorer {}: {} rollouts in flight (concurrency); rollouts paused", config.scorerId(), inFlight);
        } else {
            consumer.resume(consumer.paused());
        }
    }

    /** The progress line (when something happened since the last one) and a {@code scorer.http} metric. */
    private void report(boolean last) {
        nextReportNanos = System.nanoTime() + config.progressInterval().toNanos();
        long resolvedNow = counters.scored() + counters.deadLetters();
        if (last || inFlight > 0 || resolvedNow != resolvedAtLastReport) {
            log.info("HTTP scorer {}{}: {} scored, {} dead-lettered, {} in flight, {} retries", config.scorerId(),
                    last ? " (final)" : "", counters.scored(), counters.deadLetters(), inFlight, counters.retries());
        }
        resolvedAtLastReport = resolvedNow;
        Metric metric = Metric.newBuilder()
                .setServiceId(config.scorerId())
                .setKind(METRIC_KIND)
                .setStep(-1)
                .setPolicyVersion(-1)
                .setValues(counters.values(inFlight))
                .setTimestampMs(Instant.now())
                .build();
        producer.send(new ProducerRecord<>(topics.metrics(), config.scorerId(),
                RlSerdes.metric().serializer().serialize(topics.metrics(), metric)), (meta, e) -> {
            if (e != null) log.warn("HTTP scorer {}: cannot write its metric to {}: {}", config.scorerId(), topics.metrics(), e.toString());
        });
    }

    /** Commits what revoked partitions finished and forgets their rollouts; the new owner reads the rest. */
    private final class RebalanceListener implements ConsumerRebalanceListener {
        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
            commit();
            forget(partitions);
        }

        @Override
        public void onPartitionsLost(Collection<TopicPartition> partitions) {
            forget(partitions);
        }

        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
            if (paused) consumer.pause(partitions);
        }

        /**
         * Backlog records of {@code partitions} are dropped (never sent); rollouts already with the scorer are still
         * written when they finish (a reward is a reward; a second one from the new owner is dead-lettered as a
         * duplicate by the reward-service) but no longer committed here.
         */
        private void forget(Collection<TopicPartition> partitions) {
            Set<TopicPartition> gone = new HashSet<>(partitions);
            int dropped = backlog.size();
            backlog.removeIf(rec -> gone.contains(new TopicPartition(rec.topic(), rec.partition())));
            dropped -= backlog.size();
            gone.forEach(offsets::remove);
            if (!gone.isEmpty() && running) {   // on close every partition goes; nothing to say
                log.info("HTTP scorer {}: partitions {} moved away ({} waiting rollouts dropped for their new owner)",
                        config.scorerId(), gone, dropped);
            }
        }
    }
}
