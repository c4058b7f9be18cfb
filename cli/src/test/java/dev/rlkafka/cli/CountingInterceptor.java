package dev.rlkafka.cli;

import org.apache.kafka.clients.consumer.ConsumerInterceptor;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.ProducerInterceptor;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;

import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A client setting made visible: named in {@code interceptor.classes} of a {@code --kafka-config} file, it counts the
 * records the command's clients acknowledged and consumed, so a test sees that the file reached the real clients.
 */
public final class CountingInterceptor implements ProducerInterceptor<Object, Object>, ConsumerInterceptor<Object, Object> {
    static final AtomicInteger ACKNOWLEDGED = new AtomicInteger();
    static final AtomicInteger CONSUMED = new AtomicInteger();

    @Override
    public ProducerRecord<Object, Object> onSend(ProducerRecord<Object, Object> record) {
        return record;
    }

    @Override
    public void onAcknowledgement(RecordMetadata metadata, Exception exception) {
        if (exception == null) ACKNOWLEDGED.incrementAndGet();
    }

    @Override
    public ConsumerRecords<Object, Object> onConsume(ConsumerRecords<Object, Object> records) {
        CONSUMED.addAndGet(records.count());
        return records;
    }

    @Override
    public void onCommit(Map<TopicPartition, OffsetAndMetadata> offsets) {
    }

    @Override
    public void close() {
    }

    @Override
    public void configure(Map<String, ?> configs) {
    }
}
