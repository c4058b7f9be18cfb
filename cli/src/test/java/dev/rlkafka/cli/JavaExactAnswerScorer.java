package dev.rlkafka.cli;

import dev.rlkafka.schemas.Topics;
import dev.rlkafka.schemas.avro.Reward;
import dev.rlkafka.schemas.avro.Rollout;
import dev.rlkafka.schemas.serde.RecordCodec;
import dev.rlkafka.schemas.serde.RecordDecodingException;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;

/**
 * The external scorer {@link ExternalScorerEndToEndTest} runs in its own JVM where Node.js is missing: the
 * same contract as {@code examples/node-scorer} (own consumer group, read_committed, rewards keyed by group
 * id, offsets committed after the rewards are acknowledged), in plain kafka-clients.
 *
 * <p>Arguments: {@code BOOTSTRAP PREFIX SCORER_ID}. SIGTERM stops it after the current batch.
 */
public final class JavaExactAnswerScorer {
    private static final RecordCodec<Rollout> ROLLOUTS = RecordCodec.of(Rollout.class);
    private static final RecordCodec<Reward> REWARDS = RecordCodec.of(Reward.class);

    private JavaExactAnswerScorer() {
    }

    public static void main(String[] args) throws InterruptedException {
        if (args.length != 3) {
            System.err.println("usage: JavaExactAnswerScorer BOOTSTRAP PREFIX SCORER_ID (PREFIX may be '')");
            System.exit(2);
        }
        String bootstrap = args[0];
        Topics topics = Topics.withPrefix(args[1]);
        String scorerId = args[2];
        var consumer = new KafkaConsumer<>(Map.<String, Object>of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ConsumerConfig.GROUP_ID_CONFIG, topics.prefix() + "rlkafka-scorer-" + scorerId,
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false,
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed"),
                new StringDeserializer(), new ByteArrayDeserializer());
        var producer = new KafkaProducer<>(Map.<String, Object>of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ProducerConfig.ACKS_CONFIG, "all"),
                new StringSerializer(), new ByteArraySerializer());
        Thread main = Thread.currentThread();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            consumer.wakeup();
            try {
                main.join(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }));
        try (consumer; producer) {
            consumer.subscribe(List.of(topics.rollouts()));
            System.err.println("java scorer " + scorerId + " on " + bootstrap + ": " + topics.rollouts() + " -> " + topics.rewards());
            while (true) {
                var records = consumer.poll(Duration.ofMillis(500));
                List<Future<RecordMetadata>> sent = new ArrayList<>();
                for (ConsumerRecord<String, byte[]> rec : records) {
                    Rollout rollout;
                    try {
                        rollout = ROLLOUTS.decode(rec);
                    } catch (RecordDecodingException e) {
                        System.err.println("skipping: " + e.getMessage());
                        continue;
                    }
                    String reference = rollout.getReferenceAnswer();
                    boolean right = reference != null && rollout.getCompletionText().strip().equals(reference.strip());
                    Reward reward = Reward.newBuilder()
                            .setRolloutId(rollout.getRolloutId())
                            .setGroupId(rollout.getGroupId())
                            .setScorerId(scorerId)
                            .setScore(right ? 1 : 0)
                            .setRationale(null)
                            .setMetadata(Map.of("source", JavaExactAnswerScorer.class.getSimpleName()))
                            .setCreatedAtMs(Instant.now())
                            .build();
                    sent.add(producer.send(new ProducerRecord<>(topics.rewards(), rollout.getGroupId(),
                            REWARDS.encode(topics.rewards(), reward))));
                }
                for (Future<RecordMetadata> f : sent) f.get();  // rewards acknowledged before their offsets are committed
                if (!records.isEmpty()) consumer.commitSync();
            }
        } catch (WakeupException e) {
            System.err.println("java scorer " + scorerId + " stopped");
        } catch (ExecutionException e) {
            System.err.println("java scorer " + scorerId + " could not write a reward: " + e.getCause());
            System.exit(1);
        }
    }
}
