package dev.rlkafka.generator;

/** A prompt the generator cannot sample (too long for the model, bad group size): dead-lettered, not fatal. */
public final class InvalidPromptException extends RuntimeException {
    /** The {@code DeadLetter.errorType} of a prompt that decoded but cannot be sampled. */
    public static final String ERROR_TYPE = "INVALID_PROMPT";

    public InvalidPromptException(String message) {
        super(message);
    }
}
