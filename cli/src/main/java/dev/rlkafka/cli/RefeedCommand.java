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
import java.util.ArrayList;
import java.util.HashMap;
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
                + "written back is not written twice. Reads rl.dead-letters and rl.prompts from the beginning.", ""})
final class RefeedCommand implements Callable<Integer> {
    @Mixin KafkaOptions kafka;

    @Option(names = "--dry-run", description = "Print what would be written; write nothing.")
    boolean dryRun;

    @Override
    public Integer call() {
        Topics topics = kafka.topics();
        List<DeadLetter> letters = new ArrayList<>();
        Map<String, Prompt> prompts = new HashMap<>();
        int[] undecodable = {0};
        try (TopicReader reader = new TopicReader(kafka.bootstrap, kafka.clientConfig())) {
            reader.readToEnd(List.of(topics.deadLetters(), topics.prompts()), ReplayCommand.READ_TIMEOUT, (RawRecord raw) -> {
                try {
                    if (raw.topic().equals(topics.deadLetters())) {
                        letters.add(RlSerdes.deadLetter().codec().decode(raw.topic(), raw.partition(), raw.offset(), raw.value()));
                    } else {
                        Prompt prompt = RlSerdes.prompt().codec().decode(raw.topic(), raw.partition(), raw.offset(), raw.value());
                        prompts.putIfAbsent(prompt.getPromptId(), prompt);   // the first is the one a generator sampled
                    }
                } catch (RecordDecodingException e) {
                    undecodable[0]++;   // a generator dead-lettered it already; nothing to write again
                }
            });
        } catch (IllegalArgumentException e) {
            System.err.println("rlkafka refeed: " + e.getMessage());
            return 2;
        }
        Set<String> expired = ExpiredPrompts.expiredGroups(letters, topics.rollouts());
        ExpiredPrompts.Plan plan = ExpiredPrompts.plan(expired, prompts, Instant.now());
        System.out.printf("read %d dead letters (%d expired groups) from %s and %d prompts from %s%s%n", letters.size(),
                expired.size(), topics.deadLetters(), prompts.size(), topics.prompts(),
                undecodable[0] == 0 ? "" : "; " + undecodable[0] + " records did not decode and were skipped");
        if (!plan.alreadyRefed().isEmpty()) {
            System.out.println(plan.alreadyRefed().size() + " written back before, not again: " + sample(plan.alreadyRefed()));
        }
        if (!plan.notFound().isEmpty()) {
            System.out.println(plan.notFound().size() + " expired groups have no prompt of their id on " + topics.prompts()
                    + " (written with other ids, or under another --prefix?): " + sample(plan.notFound()));
        }
        List<String> ids = plan.toWrite().stream().map(Prompt::getPromptId).toList();
        if (ids.isEmpty()) {
            System.out.println("nothing to write");
        } else if (dryRun) {
            System.out.println("would write " + ids.size() + " prompts to " + topics.prompts() + " (--dry-run): " + sample(ids));
        } else {
            int written = PromptFeeder.write(kafka.bootstrap, kafka.clientConfig(), topics, plan.toWrite());
            System.out.println("wrote " + written + " prompts to " + topics.prompts() + ": " + sample(ids));
        }
        return 0;
    }

    /** The first few ids, and how many more: a long outage expires thousands. */
    private static String sample(List<String> ids) {
        int shown = Math.min(5, ids.size());
        return ids.subList(0, shown).stream().collect(Collectors.joining(", "))
                + (ids.size() > shown ? " and " + (ids.size() - shown) + " more" : "");
    }
}
