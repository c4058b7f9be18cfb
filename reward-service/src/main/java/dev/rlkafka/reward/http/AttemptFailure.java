package dev.rlkafka.reward.http;

/**
 * Why one HTTP attempt at scoring a rollout gave no score.
 *
 * @param kind   what went wrong
 * @param status the HTTP status when there was a response, else -1
 * @param detail the exception or the offending part of the answer, for the dead letter's reason
 */
public record AttemptFailure(Kind kind, int status, String detail) {
    /** What went wrong; each has its own dead-letter error type. */
    public enum Kind {
        /** No complete answer within the timeout (connecting included). Retried. */
        TIMEOUT("SCORER_TIMEOUT"),
        /** Connection refused, reset, TLS failure: no HTTP answer at all. Retried. */
        CONNECTION("SCORER_UNREACHABLE"),
        /** A status other than 2xx. Retried for 5xx, 408 and 429 (the server says "later"), not for other 4xx. */
        HTTP_STATUS("SCORER_HTTP_STATUS"),
        /** A 2xx answer that is not {@code {"score": <finite number>, ...}}. Not retried: the server means it. */
        BAD_RESPONSE("SCORER_BAD_RESPONSE");

        private final String errorType;

        Kind(String errorType) {
            this.errorType = errorType;
        }

        /** The {@code DeadLetter.errorType} of a rollout whose last attempt failed this way. */
        public String errorType() {
            return errorType;
        }
    }

    public AttemptFailure {
        if (kind == null) throw new IllegalArgumentException("kind must be set");
        if (detail == null) detail = "";
    }

    static AttemptFailure timeout(String detail) {
        return new AttemptFailure(Kind.TIMEOUT, -1, detail);
    }

    static AttemptFailure connection(String detail) {
        return new AttemptFailure(Kind.CONNECTION, -1, detail);
    }

    static AttemptFailure status(int status, String detail) {
        return new AttemptFailure(Kind.HTTP_STATUS, status, detail);
    }

    static AttemptFailure badResponse(int status, String detail) {
        return new AttemptFailure(Kind.BAD_RESPONSE, status, detail);
    }

    /** Whether the same request may succeed later. */
    public boolean retryable() {
        return switch (kind) {
            case TIMEOUT, CONNECTION -> true;
            case HTTP_STATUS -> status >= 500 || status == 408 || status == 429;
            case BAD_RESPONSE -> false;
        };
    }

    /** One line for a reason: {@code "HTTP 503: overloaded"}, {@code "timeout: ..."}. */
    @Override
    public String toString() {
        String what = switch (kind) {
            case TIMEOUT -> "timeout";
            case CONNECTION -> "connection failed";
            case HTTP_STATUS -> "HTTP " + status;
            case BAD_RESPONSE -> "bad answer (HTTP " + status + ")";
        };
        return detail.isEmpty() ? what : what + ": " + detail;
    }
}
