package dev.rlkafka.cli;

import dev.rlkafka.cli.observe.RawRecord;
import dev.rlkafka.cli.observe.TopicReader;
import dev.rlkafka.schemas.Topics;
import dev.rlkafka.schemas.avro.DeadLetter;
import dev.rlkafka.schemas.avro.Prompt;
import dev.rlkafka.schemas.serde.RecordDecodingException;
import dev.rlkafka.schemas.serde.RlSerdes;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.time.Instant;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;

/** Writes the prompts of expired groups to rl.prompts again; see {@link ExpiredPrompts}. */
@Command(name = "refeed", mixinStandardHelpOptions = true,
        description = {"Write the prompts of groups the reward-service expired (GROUP_TIMEOUT dead letters: a required "
                + "scorer did not answer within --group-timeout) to rl.prompts again, so that a scorer's outage costs "
                + "time, not training prompts. Each goes back under a new id, <id>+r1 (+r2 if that one expires too), "
                + "with the same task, text, reference answer and group size. Safe to run again: a prompt already "
                + "written back is not written twice; run one at a time. Reads rl.dead-letters and rl.prompts from "
                + "the beginning.", ""})
final class RefeedCommand implements Callable<Integer> {
    @Mixin KafkaOptions kafka;

    @Option(names = "--dry-run", description = "List every prompt id that would be written; write nothing.")
    boolean dryRun;

    @Override
    public Integer call() {
        Topics topics = kafka.topics();
        // only ids and the few prompts they name are kept: the topics hold a whole run's history, and a dead letter
        // may carry a 16 MiB scored group
        Set<String> expired = new LinkedHashSet<>();
        Map<String, Prompt> prompts = new HashMap<>();
        Skipped letters = new Skipped(), badPrompts = new Skipped();
        long[] read = {0, 0};
        try (TopicReader reader = new TopicReader(kafka.bootstrap, kafka.clientConfig())) {
            reader.readToEnd(List.of(topics.deadLetters()), ReplayCommand.READ_TIMEOUT, (RawRecord raw) -> {
                read[0]++;
                try {
                    DeadLetter letter = RlSerdes.deadLetter().codec().decode(raw.topic(), raw.partition(), raw.offset(), raw.value());
                    String groupId = ExpiredPrompts.expiredGroup(letter, topics.rollouts());
                    if (groupId != null) expired.add(groupId);
                } catch (RecordDecodingException e) {
                    letters.add(e);
                }
            });
            Set<String> wanted = ExpiredPrompts.idsToRead(expired);
            if (!wanted.isEmpty()) {
                reader.readToEnd(List.of(topics.prompts()), ReplayCommand.READ_TIMEOUT, (RawRecord raw) -> {
                    read[1]++;
                    try {
                        Prompt prompt = RlSerdes.prompt().codec().decode(raw.topic(), raw.partition(), raw.offset(), raw.value());
                        // the first of an id is the one a generator sampled
                        if (wanted.contains(prompt.getPromptId())) prompts.putIfAbsent(prompt.getPromptId(), prompt);
                    } catch (RecordDecodingException e) {
                        badPrompts.add(e);   // a generator dead-lettered it; it has no group to expire
                    }
                });
            }
        } catch (IllegalArgumentException e) {
            System.err.println("rlkafka refeed: " + e.getMessage());
            return 2;
        }
        System.out.printf("read %d dead letters from %s: %d groups expired waiting for a scorer%n", read[0], topics.deadLetters(),
                expired.size());
        letters.report(topics.deadLetters(), "if an expired group's letter is among them, its prompt is not written");
        if (expired.isEmpty()) {
            System.out.println("nothing to write");
            return 0;
        }
        System.out.printf("read %d prompts from %s%n", read[1], topics.prompts());
        badPrompts.report(topics.prompts(), "such a prompt was never sampled");
        ExpiredPrompts.Plan plan = ExpiredPrompts.plan(expired, prompts, Instant.now());
        if (!plan.alreadyRefed().isEmpty()) {
            System.out.println(plan.alreadyRefed().size() + " written back before, not again: " + sample(plan.alreadyRefed()));
        }
        if (!plan.clashes().isEmpty()) {
            System.out.println(plan.clashes().size() + " not written: the id each would go back under holds another prompt: "
                    + sample(plan.clashes()));
        }
        if (!plan.notFound().isEmpty()) {
            System.out.println(plan.notFound().size() + " expired groups have no prompt of their id on " + topics.prompts()
                    + " (written by another producer, or the topic was created again?): " + sample(plan.notFound()));
        }
        List<String> ids = plan.toWrite().stream().map(Prompt::getPromptId).toList();
        if (ids.isEmpty()) {
            System.out.println("nothing to write");
        } else if (dryRun) {
            System.out.println("would write " + ids.size() + " prompts to " + topics.prompts() + " (--dry-run):");
            ids.forEach(id -> System.out.println("  " + id));
        } else {
            int written = PromptFeeder.write(kafka.bootstrap, kafka.clientConfig(), topics, plan.toWrite());
            System.out.println("wrote " + written + " prompts to " + topics.prompts() + ": " + sample(ids));
        }
        return 0;
    }

    /** Records of one topic that did not decode: how many, and the first one's reason. */
    private static final class Skipped {
        private int count;
        private String first;

        void add(RecordDecodingException e) {
            if (count++ == 0) first = e.getMessage();
        }

        void report(String topic, String consequence) {
            if (count == 0) return;
            System.out.printf("skipped %d record%s of %s that did not decode (%s); the first: %s%n", count, count == 1 ? "" : "s",
                    topic, consequence, first);
        }
    }

    /** The first few ids, and how many more: a long outage expires thousands. */
    private static String sample(List<String> ids) {
        int shown = Math.min(5, ids.size());
        return ids.subList(0, shown).stream().collect(Collectors.joining(", "))
                + (ids.size() > shown ? " and " + (ids.size() - shown) + " more" : "");
    }
}
