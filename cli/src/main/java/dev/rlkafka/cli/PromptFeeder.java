package dev.rlkafka.cli;

import dev.rlkafka.policy.task.Split;
import dev.rlkafka.policy.task.Task;
import dev.rlkafka.schemas.KafkaClientConfig;
import dev.rlkafka.schemas.Topics;
import dev.rlkafka.schemas.avro.Prompt;
import dev.rlkafka.schemas.serde.RlSerdes;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.serialization.StringSerializer;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;

/** Writes a task's training prompts to rl.prompts, keyed by prompt id. */
final class PromptFeeder {
    private PromptFeeder() {
    }

    /** @return how many prompts were written (and acknowledged by the broker) */
    static int feed(String bootstrap, Topics topics, Task task, int count, int groupSize, long seed, String idPrefix) {
        return feed(bootstrap, KafkaClientConfig.NONE, topics, task, count, groupSize, seed, idPrefix);
    }

    /** @return how many prompts were written (and acknowledged by the broker), with the cluster's client settings */
    static int feed(String bootstrap, KafkaClientConfig client, Topics topics, Task task, int count, int groupSize, long seed,
                    String idPrefix) {
        Instant now = Instant.now();
        List<Prompt> prompts = task.prompts(Split.TRAIN, count, seed).stream()
                .map(p -> Prompt.newBuilder()
                        .setPromptId(idPrefix + p.id())
                        .setTask(task.name())
                        .setText(p.text())
                        .setReferenceAnswer(p.referenceAnswer())
                        .setGroupSize(groupSize)
                        .setCreatedAtMs(now)
                        .build())
                .toList();
        return write(bootstrap, client, topics, prompts);
    }

    /** @return how many prompts were written (and acknowledged by the broker), each keyed by its id */
    static int write(String bootstrap, KafkaClientConfig client, Topics topics, List<Prompt> prompts) {
        Properties props = client.with(bootstrap);
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        props.put(ProducerConfig.LINGER_MS_CONFIG, 5);
        try (var producer = new KafkaProducer<>(props, new StringSerializer(), RlSerdes.prompt().serializer())) {
            List<Future<RecordMetadata>> sends = new ArrayList<>(prompts.size());
            for (Prompt prompt : prompts) {
                sends.add(producer.send(new ProducerRecord<>(topics.prompts(), prompt.getPromptId(), prompt)));
            }
            for (Future<RecordMetadata> send : sends) await(send, topics.prompts());
        }
        return prompts.size();
    }

    /** A prompt the broker did not take is an error, not a silently shorter run. */
    private static void await(Future<RecordMetadata> send, String topic) {
        try {
            send.get();
        } catch (ExecutionException e) {
            throw new KafkaException("cannot write a prompt to " + topic + ": " + e.getCause(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new KafkaException("interrupted while writing prompts to " + topic, e);
        }
    }
}
