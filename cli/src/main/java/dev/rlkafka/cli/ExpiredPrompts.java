package dev.rlkafka.cli;

import dev.rlkafka.schemas.DeadLetters;
import dev.rlkafka.schemas.avro.DeadLetter;
import dev.rlkafka.schemas.avro.Prompt;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Which prompts to write again after their groups expired at the reward-service (a required scorer did not answer
 * within {@code --group-timeout}): the core of {@code rlkafka refeed}, without Kafka.
 *
 * <p>A prompt goes back under a new id, {@code <id>+r1} (then {@code +r2} if that one expires too): a group's id is its
 * prompt's id, and the reward-service still remembers the expired id for a while, so the same id would be
 * rejected as late. The new id also makes a second refeed write nothing twice: a prompt whose next id is
 * already on the prompts topic was written again before.
 */
final class ExpiredPrompts {
    /** A retry's id; nine digits at most, so that a user's id that only looks like one still parses. */
    private static final Pattern RETRY = Pattern.compile("(.*)\\+r(\\d{1,9})");

    /**
     * @param toWrite       the prompts to write, in the order their groups expired
     * @param alreadyRefed  expired group ids whose next id is already on the prompts topic
     * @param notFound      expired group ids with no prompt of that id on the prompts topic
     */
    record Plan(List<Prompt> toWrite, List<String> alreadyRefed, List<String> notFound) {
    }

    private ExpiredPrompts() {
    }

    /** Ids of the groups the reward-service expired, once each, in the order of their dead letters. */
    static Set<String> expiredGroups(Collection<DeadLetter> letters, String rolloutsTopic) {
        Set<String> ids = new LinkedHashSet<>();
        for (DeadLetter letter : letters) {
            if (DeadLetters.GROUP_TIMEOUT.equals(letter.getErrorType()) && DeadLetters.isAboutGroup(letter, rolloutsTopic)
                    && letter.getSourceKey() != null) {
                ids.add(StandardCharsets.UTF_8.decode(letter.getSourceKey().duplicate()).toString());
            }
        }
        return ids;
    }

    /** The id a prompt is written again under: {@code p} → {@code p+r1}, {@code p+r1} → {@code p+r2}. */
    static String nextId(String promptId) {
        Matcher m = RETRY.matcher(promptId);
        return m.matches() ? m.group(1) + "+r" + (Integer.parseInt(m.group(2)) + 1) : promptId + "+r1";
    }

    /**
     * @param expired the expired group ids ({@link #expiredGroups})
     * @param prompts every prompt on the prompts topic, by id
     */
    static Plan plan(Collection<String> expired, Map<String, Prompt> prompts, Instant now) {
        List<Prompt> toWrite = new ArrayList<>();
        List<String> alreadyRefed = new ArrayList<>(), notFound = new ArrayList<>();
        for (String groupId : expired) {
            Prompt original = prompts.get(groupId);
            String next = nextId(groupId);
            if (original == null) {
                notFound.add(groupId);
            } else if (prompts.containsKey(next)) {
                alreadyRefed.add(groupId);
            } else {
                toWrite.add(Prompt.newBuilder(original).setPromptId(next).setCreatedAtMs(now).build());
            }
        }
        return new Plan(toWrite, alreadyRefed, notFound);
    }
}
