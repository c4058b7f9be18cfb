package dev.rlkafka.cli;

import dev.rlkafka.schemas.DeadLetters;
import dev.rlkafka.schemas.avro.DeadLetter;
import dev.rlkafka.schemas.avro.Prompt;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
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
 * already on the prompts topic, with the same task, text, answer and group size, was written again before.
 */
final class ExpiredPrompts {
    /** A retry's id; nine digits at most, so that a user's id that only looks like one still parses. */
    private static final Pattern RETRY = Pattern.compile("(.*)\\+r(\\d{1,9})");

    /**
     * @param toWrite       the prompts to write, in the order their groups expired
     * @param alreadyRefed  expired group ids whose next id is already on the prompts topic, with the same prompt
     * @param clashes       expired group ids whose next id is on the prompts topic with another prompt (a user's id)
     * @param notFound      expired group ids with no prompt of that id on the prompts topic
     */
    record Plan(List<Prompt> toWrite, List<String> alreadyRefed, List<String> clashes, List<String> notFound) {
    }

    private ExpiredPrompts() {
    }

    /** The id of the group {@code letter} says the reward-service expired, or null for any other letter. */
    static String expiredGroup(DeadLetter letter, String rolloutsTopic) {
        boolean expired = DeadLetters.GROUP_TIMEOUT.equals(letter.getErrorType()) && DeadLetters.isAboutGroup(letter, rolloutsTopic);
        return expired ? DeadLetters.groupId(letter) : null;
    }

    /** The prompt ids a plan over {@code expired} looks at: each expired id and the id it would go back under. */
    static Set<String> idsToRead(Collection<String> expired) {
        Set<String> ids = new HashSet<>(expired);
        expired.forEach(id -> ids.add(nextId(id)));
        return ids;
    }

    /** The id a prompt is written again under: {@code p} → {@code p+r1}, {@code p+r1} → {@code p+r2}. */
    static String nextId(String promptId) {
        Matcher m = RETRY.matcher(promptId);
        return m.matches() ? m.group(1) + "+r" + (Integer.parseInt(m.group(2)) + 1) : promptId + "+r1";
    }

    /**
     * @param expired the expired group ids ({@link #expiredGroup}), once each
     * @param prompts the prompts on the prompts topic, by id: at least those of {@link #idsToRead}
     */
    static Plan plan(Collection<String> expired, Map<String, Prompt> prompts, Instant now) {
        List<Prompt> toWrite = new ArrayList<>();
        List<String> alreadyRefed = new ArrayList<>(), clashes = new ArrayList<>(), notFound = new ArrayList<>();
        for (String groupId : expired) {
            Prompt original = prompts.get(groupId);
            Prompt next = prompts.get(nextId(groupId));
            if (original == null) {
                notFound.add(groupId);
            } else if (next != null) {
                (samePrompt(original, next) ? alreadyRefed : clashes).add(groupId);
            } else {
                toWrite.add(Prompt.newBuilder(original).setPromptId(nextId(groupId)).setCreatedAtMs(now).build());
            }
        }
        return new Plan(toWrite, alreadyRefed, clashes, notFound);
    }

    private static boolean samePrompt(Prompt a, Prompt b) {
        return a.getTask().equals(b.getTask()) && a.getText().equals(b.getText())
                && Objects.equals(a.getReferenceAnswer(), b.getReferenceAnswer()) && a.getGroupSize() == b.getGroupSize();
    }
}
