package dev.rlkafka.policy.task;

/**
 * One problem of a task: the prompt text the policy continues and the answer its scorers check.
 *
 * @param id              unique within one {@link Task#prompts} call and stable for the same split and seed
 * @param text            what the policy sees, e.g. {@code "23+58="}
 * @param referenceAnswer the correct completion, e.g. {@code "81"}
 */
public record TaskPrompt(String id, String text, String referenceAnswer) {
    public TaskPrompt {
        if (id == null || id.isBlank()) throw new IllegalArgumentException("id must be non-blank, got '" + id + "'");
        if (text == null || text.isEmpty()) throw new IllegalArgumentException("text of prompt " + id + " must be non-empty");
        if (referenceAnswer == null) throw new IllegalArgumentException("referenceAnswer of prompt " + id + " must not be null");
    }
}
