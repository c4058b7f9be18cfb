package dev.rlkafka.reward.human;

import dev.rlkafka.kafka.TestKafka;
import dev.rlkafka.schemas.Topics;
import dev.rlkafka.schemas.avro.FinishReason;
import dev.rlkafka.schemas.avro.Reward;
import dev.rlkafka.schemas.avro.Rollout;
import dev.rlkafka.schemas.avro.SamplingParams;
import dev.rlkafka.schemas.serde.RlSerdes;
import dev.rlkafka.reward.TopicReads;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.fail;

/** Rollouts and rewards written straight to a real broker, and reading them back, for the human scorer's tests. */
final class HumanFixtures {
    static final Duration DEADLINE = Duration.ofSeconds(30);
    static final Instant AT = Instant.ofEpochMilli(1_700_000_000_000L);

    private HumanFixtures() {
    }

    static Rollout rollout(String groupId, int index, int groupSize, String prompt, String completion, long policyVersion) {
        return Rollout.newBuilder().setRolloutId(groupId + "/" + index).setGroupId(groupId).setPromptId("p-" + groupId)
                .setIndex(index).setGroupSize(groupSize).setTask("arithmetic").setPromptText(prompt)
                .setPromptTokenIds(List.of(1, 50, 51)).setReferenceAnswer("42")
                .setCompletionText(completion).setCompletionTokenIds(List.of(53, 51, 2))
                .setBehaviourLogprobs(List.of(-0.25f, -1.5f, -0.01f)).setPolicyVersion(policyVersion)
                .setSampling(SamplingParams.newBuilder().setTemperature(0.8f).setTopK(0).setTopP(1f)
                        .setSeed(1234L).setMaxTokens(8).build())
                .setGeneratorId("generator-1").setFinishReason(FinishReason.EOS).setCreatedAtMs(AT).build();
    }

    static Reward reward(String groupId, String rolloutId, String scorerId, double score) {
        return Reward.newBuilder().setRolloutId(rolloutId).setGroupId(groupId).setScorerId(scorerId)
                .setScore(score).setRationale(null).setMetadata(Map.of()).setCreatedAtMs(AT).build();
    }

    static KafkaProducer<String, byte[]> producer(TestKafka kafka) {
        return new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
                ProducerConfig.ACKS_CONFIG, "all"), new StringSerializer(), new ByteArraySerializer());
    }

    static void send(KafkaProducer<String, byte[]> producer, Topics topics, Rollout rollout) throws Exception {
        byte[] value = RlSerdes.rollout().serializer().serialize(topics.rollouts(), rollout);
        producer.send(new ProducerRecord<>(topics.rollouts(), rollout.getGroupId(), value)).get();
    }

    static void send(KafkaProducer<String, byte[]> producer, Topics topics, Reward reward) throws Exception {
        byte[] value = RlSerdes.reward().serializer().serialize(topics.rewards(), reward);
        producer.send(new ProducerRecord<>(topics.rewards(), reward.getGroupId(), value)).get();
    }

    static Topics freshTopics(String name) {
        return Topics.withPrefix(name + "-" + UUID.randomUUID().toString().substring(0, 8) + ".");
    }

    /** Reads {@code topic} from the start until {@code done} holds; fails at the deadline naming what it saw. */
    static List<ConsumerRecord<String, byte[]>> consume(TestKafka kafka, String topic,
                                                        Predicate<List<ConsumerRecord<String, byte[]>>> done) {
        return TopicReads.readUntil(kafka.bootstrapServers(), topic, done, DEADLINE, Duration.ZERO);
    }

    /** The rewards on {@code topics.rewards()} from {@code scorerId}, once there are at least {@code count}. */
    static List<ConsumerRecord<String, Reward>> rewardsOf(TestKafka kafka, Topics topics, String scorerId, int count) {
        Predicate<ConsumerRecord<String, byte[]>> fromScorer =
                rec -> RlSerdes.reward().codec().decode(rec).getScorerId().equals(scorerId);
        return consume(kafka, topics.rewards(), got -> got.stream().filter(fromScorer).count() >= count).stream()
                .filter(fromScorer)
                .map(rec -> new ConsumerRecord<>(rec.topic(), rec.partition(), rec.offset(), rec.key(),
                        RlSerdes.reward().codec().decode(rec)))
                .toList();
    }

    /** Waits until {@code condition} holds; fails at the deadline with {@code seen}. */
    static void await(String what, BooleanSupplier condition, Supplier<Object> seen) throws InterruptedException {
        long deadline = System.nanoTime() + DEADLINE.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) fail("after " + DEADLINE + " still not " + what + "; seen " + seen.get());
            Thread.sleep(50);
        }
    }
}
