package dev.rlkafka.cli;

import dev.rlkafka.schemas.DeadLetters;
import dev.rlkafka.schemas.avro.DeadLetter;
import dev.rlkafka.schemas.avro.Prompt;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;

class ExpiredPromptsTest {
    private static final String ROLLOUTS = "run1.rl.rollouts";
    private static final Instant NOW = Instant.parse("2026-12-03T12:00:00Z");

    @Test
    void onlyTheRewardServicesExpiriesOfThisRunsGroupsCount() {
        List<DeadLetter> letters = List.of(
                timeout("p1"),
                letter(DeadLetters.aboutGroup(ROLLOUTS, "p2"), "NON_FINITE_SCORE"),   // scored, not expired
                letter(DeadLetters.builder().source(ROLLOUTS, 0, 17).key("p3".getBytes(StandardCharsets.UTF_8)),
                        DeadLetters.GROUP_TIMEOUT),   // one record's letter, not a whole group's
                letter(DeadLetters.aboutGroup("run2.rl.rollouts", "p4"), DeadLetters.GROUP_TIMEOUT),   // another run's
                timeout("p5"),
                timeout("p1"));
        assertEquals(List.of("p1", "p5", "p1"), letters.stream().map(l -> ExpiredPrompts.expiredGroup(l, ROLLOUTS))
                .filter(java.util.Objects::nonNull).toList());
    }

    @Test
    void eachRetryGetsTheNextId() {
        assertEquals("p7+r1", ExpiredPrompts.nextId("p7"));
        assertEquals("p7+r2", ExpiredPrompts.nextId("p7+r1"));
        assertEquals("p7+r10", ExpiredPrompts.nextId("p7+r9"));
        assertEquals("a+rb+r1", ExpiredPrompts.nextId("a+rb"));
        assertEquals("a+r12345678901+r1", ExpiredPrompts.nextId("a+r12345678901"));   // not a retry's: too long to count
    }

    @Test
    void aPromptGoesBackOnceWithEverythingButItsIdAndTime() {
        Map<String, Prompt> prompts = new LinkedHashMap<>();
        for (String id : List.of("p1", "p2", "p2+r1", "p3+r1", "p3+r2", "p4+r1")) prompts.put(id, prompt(id, "12+30="));
        prompts.put("p5", prompt("p5", "12+30="));
        prompts.put("p5+r1", prompt("p5+r1", "7+8="));   // a user's own prompt of that id
        ExpiredPrompts.Plan plan = ExpiredPrompts.plan(List.of("p1", "p2", "p3+r1", "p4+r1", "p5", "gone"), prompts, NOW);

        assertEquals(List.of("p1+r1", "p4+r2"), plan.toWrite().stream().map(Prompt::getPromptId).toList());
        Prompt again = plan.toWrite().get(0);
        Prompt original = prompts.get("p1");
        assertEquals(original.getTask(), again.getTask());
        assertEquals(original.getText(), again.getText());
        assertEquals(original.getReferenceAnswer(), again.getReferenceAnswer());
        assertEquals(original.getGroupSize(), again.getGroupSize());
        assertEquals(NOW, again.getCreatedAtMs());
        assertEquals(List.of("p2", "p3+r1"), plan.alreadyRefed());
        assertEquals(List.of("p5"), plan.clashes());
        assertEquals(List.of("gone"), plan.notFound());
    }

    @Test
    void thePromptsToReadAreTheExpiredOnesAndTheirNextIds() {
        assertEquals(Set.of("p1", "p1+r1", "p2+r1", "p2+r2"), ExpiredPrompts.idsToRead(List.of("p1", "p2+r1")));
    }

    @Test
    void aPlanOverNothingExpiredWritesNothing() {
        ExpiredPrompts.Plan plan = ExpiredPrompts.plan(Set.of(), Map.of("p1", prompt("p1")), NOW);
        assertEquals(List.of(), plan.toWrite());
    }

    static DeadLetter timeout(String groupId) {
        return letter(DeadLetters.aboutGroup(ROLLOUTS, groupId), DeadLetters.GROUP_TIMEOUT);
    }

    private static DeadLetter letter(DeadLetters.Builder builder, String errorType) {
        return builder.errorType(errorType).reason("test").serviceId("reward-service").at(NOW).build();
    }

    /** A prompt whose text names its id, so copies can be told apart. */
    static Prompt prompt(String id) {
        return prompt(id, "12+30= (" + id + ")");
    }

    private static Prompt prompt(String id, String text) {
        return Prompt.newBuilder().setPromptId(id).setTask("arithmetic").setText(text).setReferenceAnswer("42")
                .setGroupSize(4).setCreatedAtMs(Instant.parse("2026-12-01T00:00:00Z")).build();
    }
}
