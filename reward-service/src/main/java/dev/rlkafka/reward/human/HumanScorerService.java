package dev.rlkafka.reward.human;

import dev.rlkafka.schemas.DeadLetters;
import dev.rlkafka.schemas.TopicAdmin;
import dev.rlkafka.schemas.avro.DeadLetter;
import dev.rlkafka.schemas.avro.Reward;
import dev.rlkafka.schemas.avro.Rollout;
import dev.rlkafka.schemas.serde.RecordCodec;
import dev.rlkafka.schemas.serde.RecordDecodingException;
import dev.rlkafka.schemas.serde.RlSerdes;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The human scorer's Kafka adapter: follows {@code rl.rewards} and {@code rl.rollouts} into a {@link RatingQueue},
 * serves the {@link ScoringPage}, and writes each rating as a {@link Reward} to {@code rl.rewards}, keyed by group id
 * like every other scorer. {@code new HumanScorerService(config).start()}; {@link #close()} stops it.
 *
 * <p>Restart: it commits no offsets. On start it reads {@code rl.rewards} from the beginning up to its end, so it
 * knows every rollout this scorer id has rated in any earlier run, and only then reads {@code rl.rollouts} from the
 * beginning, queueing the rollouts not rated yet. A restart therefore never asks for a rated rollout again and loses
 * none (except those dropped past {@link HumanScorerConfig#maxWaiting()}); the price is re-reading both topics once per
 * start, and an undecodable rollout is dead-lettered again at each start. A rating is acknowledged to the page only
 * after the broker has the reward (acks=all), so an acknowledged rating survives a crash.
 */
public final class HumanScorerService implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(HumanScorerService.class);

    /** How long {@link #close()} waits for the page's requests, the follower thread and the producer. */
    public static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(10);
    /** Dead-letter error type of a rollout that decodes but cannot be shown (no rollout or group id). */
    public static final String INVALID_ROLLOUT = "INVALID_ROLLOUT";
    /** Reward metadata keys. */
    public static final String RATER = "rater";
    public static final String RATING = "rating";
    public static final String SCALE = "scale";
    public static final String SOURCE = "source";
    public static final String SERVICE = "service";
    /** Value of {@link #SOURCE} in this scorer's rewards. */
    public static final String SOURCE_HUMAN = "human-page";
    static final int MAX_RATER_LENGTH = 64;
    static final int MAX_COMMENT_LENGTH = 2000;
    private static final Duration POLL_TIMEOUT = Duration.ofMillis(200);

    private final HumanScorerConfig config;
    private final RatingQueue queue;
    private final Clock clock;
    private final Runnable onFailure;
    private final RecordCodec<Rollout> rolloutCodec = RlSerdes.rollout().codec();
    private final RecordCodec<Reward> rewardCodec = RlSerdes.reward().codec();
    private final AtomicLong deadLetters = new AtomicLong();

    private volatile boolean running;
    private volatile boolean closed;
    private volatile boolean caughtUp;
    private volatile Throwable failure;

    private KafkaConsumer<byte[], byte[]> consumer;
    private KafkaProducer<String, byte[]> producer;
    private Thread follower;
    private ScoringPage page;

    public HumanScorerService(HumanScorerConfig config) {
        this(config, Clock.systemUTC(), () -> { });
    }

    /**
     * @param clock     lease time
     * @param onFailure called once, from the follower thread, when it stops on an error (the page then has no new
     *                  rollouts; a command should exit)
     */
    public HumanScorerService(HumanScorerConfig config, Clock clock, Runnable onFailure) {
        this.config = config;
        this.clock = clock;
        this.onFailure = onFailure;
        this.queue = new RatingQueue(config.lease(), config.maxWaiting(), clock);
    }

    // ---- Kafka settings: the one place they are derived ----

    /** Follows both topics by assignment, no consumer group: nothing is committed (see the class comment). */
    public static Properties consumerProperties(HumanScorerConfig config) {
        Properties p = config.clientConfig().with(config.bootstrap());
        p.put(ConsumerConfig.CLIENT_ID_CONFIG, config.serviceId() + "-follower");
        // rollouts and built-in rewards are written in transactions: never show an aborted one
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        return p;
    }

    public static Properties producerProperties(HumanScorerConfig config) {
        Properties p = config.clientConfig().with(config.bootstrap());
        p.put(ProducerConfig.CLIENT_ID_CONFIG, config.serviceId());
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        // a person waits for the answer: a broker that is away fails the rating within half a minute, not two. Defaults
        // only: timeouts are the cluster's to set (--kafka-config)
        p.putIfAbsent(ProducerConfig.MAX_BLOCK_MS_CONFIG, "30000");
        p.putIfAbsent(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, "10000");
        p.putIfAbsent(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "30000");
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        return p;
    }

    // ---- lifecycle ----

    /**
     * Checks the topics, starts following them and serves the page; returns once the page answers.
     *
     * @throws IllegalStateException when a topic is missing
     * @throws IOException           when the page cannot listen on its address and port
     */
    public synchronized HumanScorerService start() throws IOException {
        if (running || closed) throw new IllegalStateException("human scorer " + config.serviceId() + " was already started");
        log.info("starting human scorer: {}", config);
        running = true;
        try {
            producer = new KafkaProducer<>(producerProperties(config));
            consumer = new KafkaConsumer<>(consumerProperties(config));
            List<TopicPartition> rewards = partitions(config.topics().rewards());
            List<TopicPartition> rollouts = partitions(config.topics().rollouts());
            partitions(config.topics().deadLetters());
            follower = new Thread(() -> follow(rewards, rollouts), config.serviceId() + "-follower");
            follower.start();
            page = ScoringPage.start(this);
        } catch (IOException | RuntimeException e) {
            close();
            throw e;
        }
        log.info("human scoring page for scorer '{}' (scale {}) at {}", config.scorerId(), config.scale(), page.url());
        return this;
    }

    /** The partitions of {@code topic}; fails when it does not exist (the broker does not create topics on demand). */
    private List<TopicPartition> partitions(String topic) {
        return TopicAdmin.partitions(consumer, topic, config.bootstrap());
    }

    /** Stops the page (requests in flight finish), then the follower, then flushes and closes the producer. */
    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        running = false;
        if (page != null) page.stop();
        if (follower != null) {
            consumer.wakeup();
            try {
                follower.join(CLOSE_TIMEOUT.toMillis());
                if (follower.isAlive()) log.warn("follower thread still running {} after close", CLOSE_TIMEOUT);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        } else if (consumer != null) {
            consumer.close(CloseOptions.timeout(CLOSE_TIMEOUT));
        }
        if (producer != null) producer.close(CLOSE_TIMEOUT);
        if (page == null) return;   // start() failed and said why
        RatingQueue.Stats stats = queue.stats();
        log.info("human scorer '{}' stopped: {} ratings written here {}, {} rollouts were still waiting",
                config.scorerId(), stats.ratedHere(), stats.ratedByRater(), stats.waiting());
    }

    // ---- what the page asks ----

    public HumanScorerConfig config() {
        return config;
    }

    /** The page's address, e.g. {@code http://127.0.0.1:8080/}; the actual port when the config asked for 0. */
    public URI url() {
        if (page == null) throw new IllegalStateException("human scorer " + config.serviceId() + " is not started");
        return page.url();
    }

    /** Lease time now. */
    Instant now() {
        return clock.instant();
    }

    /** Whether the follower has read every earlier reward and now reads rollouts. */
    public boolean caughtUp() {
        return caughtUp;
    }

    /** The error that stopped the follower, if one did. */
    public Optional<Throwable> failure() {
        return Optional.ofNullable(failure);
    }

    public RatingQueue.Stats stats() {
        return queue.stats();
    }

    /** Dead letters written since start. */
    public long deadLetters() {
        return deadLetters.get();
    }

    /** The rollout {@code rater} should score now, leased to them; empty when none waits. */
    public Optional<Lease> next(String rater) {
        return queue.next(raterName(rater));
    }

    /** {@code rater} passes on {@code rolloutId}; others may still get it. */
    public void skip(String rolloutId, String rater) throws RatingRefusedException {
        String name = raterName(rater);
        queue.skip(requireRolloutId(rolloutId), name);
        log.info("{} skipped rollout {}", name, rolloutId);
    }

    /**
     * Writes {@code rater}'s rating of {@code rolloutId} as a reward and returns it once the broker has it.
     *
     * @param comment optional; becomes the reward's rationale
     * @throws IllegalArgumentException when the rater, rating or comment is invalid (nothing is written)
     * @throws RatingRefusedException   when the rollout is unknown, already rated, or leased to another rater
     * @throws RewardNotWrittenException when Kafka did not take the reward; the rater may try again
     */
    public Reward rate(String rolloutId, String rater, int rating, String comment)
            throws RatingRefusedException, RewardNotWrittenException {
        String name = raterName(rater);
        String id = requireRolloutId(rolloutId);
        if (!config.scale().contains(rating)) {
            throw new IllegalArgumentException("rating " + rating + " of rollout " + id + " by " + name
                    + " is off the scale " + config.scale());
        }
        String rationale = comment == null || comment.isBlank() ? null : comment.strip();
        if (rationale != null && rationale.length() > MAX_COMMENT_LENGTH) {
            throw new IllegalArgumentException("comment on rollout " + id + " is " + rationale.length()
                    + " characters; at most " + MAX_COMMENT_LENGTH);
        }
        WaitingRollout rollout = queue.beginRating(id, name);
        Reward reward = Reward.newBuilder()
                .setRolloutId(rollout.rolloutId())
                .setGroupId(rollout.groupId())
                .setScorerId(config.scorerId())
                .setScore(config.scale().score(rating))
                .setRationale(rationale)
                .setMetadata(Map.of(RATER, name, RATING, Integer.toString(rating), SCALE, config.scale().toString(),
                        SOURCE, SOURCE_HUMAN, SERVICE, config.serviceId()))
                .setCreatedAtMs(clock.instant())
                .build();
        String topic = config.topics().rewards();
        try {
            byte[] value = rewardCodec.encode(topic, reward);
            // keyed by group id: rewards co-partition with their rollouts
            producer.send(new ProducerRecord<>(topic, rollout.groupId(), value)).get();
        } catch (InterruptedException e) {
            queue.abandonRating(id, name);
            Thread.currentThread().interrupt();
            throw new RewardNotWrittenException("interrupted while writing the reward of rollout " + id + " by " + name, e);
        } catch (ExecutionException | RuntimeException e) {
            queue.abandonRating(id, name);
            Throwable cause = e instanceof ExecutionException ? e.getCause() : e;
            log.warn("reward of rollout {} by {} not written to {}: {}", id, name, topic, cause.toString());
            throw new RewardNotWrittenException("Kafka did not take the reward of rollout " + id + " by " + name
                    + " (" + cause + "); try again", cause);
        }
        queue.finishRating(id, name);
        log.info("{} rated rollout {} (group {}, policy version {}) {} on {} -> reward {}{}", name, id, rollout.groupId(),
                rollout.policyVersion(), rating, config.scale(), reward.getScore(), rationale == null ? "" : ", with a comment");
        return reward;
    }

    /** A rater's name, trimmed; what the reward's {@value #RATER} metadata says. */
    static String raterName(String raw) {
        String name = raw == null ? "" : raw.strip();
        if (name.isEmpty()) {
            throw new IllegalArgumentException("rater name must be set (type your name on the page)");
        }
        if (name.length() > MAX_RATER_LENGTH) {
            throw new IllegalArgumentException("rater name is " + name.length() + " characters; at most " + MAX_RATER_LENGTH);
        }
        if (name.codePoints().anyMatch(Character::isISOControl)) {
            throw new IllegalArgumentException("rater name '" + name.replaceAll("\\p{Cntrl}", "?") + "' has control characters");
        }
        return name;
    }

    private static String requireRolloutId(String rolloutId) {
        if (rolloutId == null || rolloutId.isBlank()) {
            throw new IllegalArgumentException("rolloutId must be set");
        }
        return rolloutId;
    }

    /** Kafka did not acknowledge a rating's reward; nothing was rated. */
    public static final class RewardNotWrittenException extends Exception {
        private static final long serialVersionUID = 1L;

        RewardNotWrittenException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    // ---- follower thread ----

    private void follow(List<TopicPartition> rewards, List<TopicPartition> rollouts) {
        try {
            List<TopicPartition> all = new ArrayList<>(rewards);
            all.addAll(rollouts);
            consumer.assign(all);
            consumer.seekToBeginning(all);
            // read_committed: the end offsets are the last stable ones, so an open transaction is not waited for
            Map<TopicPartition, Long> rewardsEnd = consumer.endOffsets(rewards);
            consumer.pause(rollouts);
            log.info("reading {} from the beginning to learn what scorer '{}' has rated already", config.topics().rewards(),
                    config.scorerId());
            while (running) {
                for (ConsumerRecord<byte[], byte[]> rec : consumer.poll(POLL_TIMEOUT)) {
                    if (rec.topic().equals(config.topics().rewards())) {
                        onReward(rec);
                    } else {
                        onRollout(rec);
                    }
                }
                if (!caughtUp && reached(rewardsEnd)) {
                    // only now may rollouts be offered: every earlier rating of this scorer is known
                    consumer.resume(rollouts);
                    caughtUp = true;
                    log.info("{} rollouts already rated by scorer '{}'; now reading {} from the beginning",
                            queue.stats().rated(), config.scorerId(), config.topics().rollouts());
                }
            }
        } catch (WakeupException e) {
            if (running) fail(e);
        } catch (Throwable t) {
            fail(t);
        } finally {
            consumer.close(CloseOptions.timeout(CLOSE_TIMEOUT));
        }
    }

    private void fail(Throwable t) {
        failure = t;
        running = false;
        log.error("human scorer '{}' stopping: following {} and {} failed", config.scorerId(), config.topics().rewards(),
                config.topics().rollouts(), t);
        onFailure.run();
    }

    private boolean reached(Map<TopicPartition, Long> end) {
        for (var e : end.entrySet()) {
            if (consumer.position(e.getKey()) < e.getValue()) return false;
        }
        return true;
    }

    private void onReward(ConsumerRecord<byte[], byte[]> rec) {
        Reward reward;
        try {
            reward = rewardCodec.decode(rec);
        } catch (RecordDecodingException e) {
            // the reward-service owns rl.rewards' bad input and dead-letters it; a second letter would only be noise
            log.warn("skipping undecodable reward: {}", e.getMessage());
            return;
        }
        if (config.scorerId().equals(reward.getScorerId())) {
            queue.markRated(reward.getRolloutId());
        } else {
            queue.addOtherScore(reward.getRolloutId(), reward.getScorerId(), reward.getScore());
        }
    }

    private void onRollout(ConsumerRecord<byte[], byte[]> rec) {
        WaitingRollout rollout;
        try {
            rollout = WaitingRollout.of(rolloutCodec.decode(rec));
        } catch (RecordDecodingException e) {
            sendDeadLetter(DeadLetters.undecodable(rec, e, config.serviceId()));
            return;
        } catch (IllegalArgumentException e) {
            sendDeadLetter(DeadLetters.builder(rec).errorType(INVALID_ROLLOUT)
                    .reason("%s (%s-%d@%d)".formatted(e.getMessage(), rec.topic(), rec.partition(), rec.offset()))
                    .serviceId(config.serviceId()).build());
            return;
        }
        if (queue.offer(rollout)) {
            log.debug("rollout {} of group {} (policy version {}) waits for a human score", rollout.rolloutId(),
                    rollout.groupId(), rollout.policyVersion());
        }
    }

    private void sendDeadLetter(DeadLetter letter) {
        deadLetters.incrementAndGet();
        log.warn("dead letter {} from {}-{}@{}: {}", letter.getErrorType(), letter.getSourceTopic(),
                letter.getSourcePartition(), letter.getSourceOffset(), letter.getReason());
        String topic = config.topics().deadLetters();
        byte[] value = RlSerdes.deadLetter().serializer().serialize(topic, letter);
        producer.send(new ProducerRecord<>(topic, config.serviceId(), value), (meta, e) -> {
            if (e != null) log.error("cannot write dead letter of {}-{}@{} to {}", letter.getSourceTopic(),
                    letter.getSourcePartition(), letter.getSourceOffset(), topic, e);
        });
    }
}
