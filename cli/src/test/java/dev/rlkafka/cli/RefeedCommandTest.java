package dev.rlkafka.cli;

import dev.rlkafka.cli.observe.TopicReader;
import dev.rlkafka.kafka.KafkaExtension;
import dev.rlkafka.kafka.TestKafka;
import dev.rlkafka.schemas.KafkaClientConfig;
import dev.rlkafka.schemas.Topics;
import dev.rlkafka.schemas.avro.Prompt;
import dev.rlkafka.schemas.serde.RlSerdes;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code rlkafka refeed} on a real broker: expired groups' prompts go back once, under new ids. */
@ExtendWith(KafkaExtension.class)
class RefeedCommandTest {
    private static final String PREFIX = "refeed.";

    @Test
    void thePromptsOfExpiredGroupsGoBackOnceUnderNewIds(TestKafka kafka) throws Exception {
        String bootstrap = kafka.bootstrapServers();
        Topics topics = Topics.withPrefix(PREFIX);
        CommandRun create = CommandRun.execute("topics", "create", "-b", bootstrap, "--prefix", PREFIX, "--partitions", "2");
        assertEquals(0, create.exitCode(), create.toString());
        PromptFeeder.write(bootstrap, KafkaClientConfig.NONE, topics,
                List.of(ExpiredPromptsTest.prompt("p1"), ExpiredPromptsTest.prompt("p2"), ExpiredPromptsTest.prompt("p3")));
        try (var producer = new KafkaProducer<>(KafkaClientConfig.NONE.with(bootstrap), new StringSerializer(),
                RlSerdes.deadLetter().serializer())) {
            // built the way the reward-service builds them, about this prefix's rollouts topic
            for (String id : List.of("p1", "p3")) {
                var letter = ExpiredPromptsTest.timeout(id);
                letter.setSourceTopic(topics.rollouts());
                producer.send(new ProducerRecord<>(topics.deadLetters(), "reward-service", letter)).get();
            }
            producer.send(new ProducerRecord<>(topics.deadLetters(), "x", null)).get();   // a tombstone: not a letter
        }

        CommandRun dry = CommandRun.execute("refeed", "-b", bootstrap, "--prefix", PREFIX, "--dry-run");
        assertEquals(0, dry.exitCode(), dry.toString());
        assertTrue(dry.out().contains("would write 2 prompts") && dry.out().contains("  p1+r1\n  p3+r1\n"), dry.toString());
        assertTrue(dry.out().contains("skipped 1 record of refeed.rl.dead-letters that did not decode"), dry.toString());
        assertEquals(3, prompts(bootstrap, topics).size(), "--dry-run writes nothing");

        CommandRun first = CommandRun.execute("refeed", "-b", bootstrap, "--prefix", PREFIX);
        assertEquals(0, first.exitCode(), first.toString());
        assertTrue(first.out().contains("wrote 2 prompts"), first.toString());
        List<Prompt> after = prompts(bootstrap, topics);
        assertEquals(List.of("p1", "p2", "p3", "p1+r1", "p3+r1"), after.stream().map(Prompt::getPromptId).sorted(
                java.util.Comparator.comparing((String id) -> id.contains("+")).thenComparing(id -> id)).toList());
        Prompt again = after.stream().filter(p -> p.getPromptId().equals("p3+r1")).findFirst().orElseThrow();
        assertEquals(ExpiredPromptsTest.prompt("p3").getText(), again.getText());
        assertEquals(ExpiredPromptsTest.prompt("p3").getReferenceAnswer(), again.getReferenceAnswer());

        CommandRun second = CommandRun.execute("refeed", "-b", bootstrap, "--prefix", PREFIX);
        assertEquals(0, second.exitCode(), second.toString());
        assertTrue(second.out().contains("2 written back before") && second.out().contains("nothing to write"), second.toString());
        assertEquals(5, prompts(bootstrap, topics).size(), "a second refeed writes nothing twice");
    }

    @Test
    void aMissingTopicIsAnErrorThatNamesIt(TestKafka kafka) {
        CommandRun run = CommandRun.execute("refeed", "-b", kafka.bootstrapServers(), "--prefix", "nosuchrun.");
        assertEquals(2, run.exitCode(), run.toString());
        assertTrue(run.err().contains("nosuchrun.rl.dead-letters does not exist"), run.toString());
    }

    private static List<Prompt> prompts(String bootstrap, Topics topics) {
        List<Prompt> prompts = new ArrayList<>();
        try (TopicReader reader = new TopicReader(bootstrap, KafkaClientConfig.NONE)) {
            reader.readToEnd(List.of(topics.prompts()), Duration.ofSeconds(30),
                    raw -> prompts.add(RlSerdes.prompt().codec().decode(raw.topic(), raw.value())));
        }
        return prompts;
    }
}
