package dev.rlkafka.reward.http;

import dev.rlkafka.reward.http.ScoreResponse.InvalidResponseException;
import dev.rlkafka.schemas.avro.Reward;
import dev.rlkafka.schemas.avro.Rollout;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Scores rollouts at an HTTP endpoint: POSTs a {@link ScoreRequest}, reads a {@link ScoreResponse}, retries
 * what may pass under a {@link RetryPolicy}, and turns the result into a {@link Reward} or a failure. No Kafka
 * here; the caller decides how many rollouts are in flight. Thread-safe.
 *
 * <p>The {@code Reward}'s metadata holds the server's metadata plus ours, which win on a clash:
 * {@code source=http}, {@code url}, {@code attempts}, {@code latency_ms} (first attempt to answer, back-off
 * included) and {@code http_status}.
 */
public final class HttpScorer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(HttpScorer.class);
    /** The largest answer read; a bigger one is a bad answer, not retried. */
    public static final long MAX_RESPONSE_BYTES = 1 << 20;

    private final URI url;
    private final String scorerId;
    private final Duration timeout;
    private final RetryPolicy retryPolicy;
    private final HttpClient client;
    private volatile boolean closed;

    /**
     * @param url         where to POST
     * @param scorerId    written as the rewards' scorer id
     * @param timeout     per attempt, connecting included
     * @param retryPolicy when to try again
     */
    public HttpScorer(URI url, String scorerId, Duration timeout, RetryPolicy retryPolicy) {
        this.url = url;
        this.scorerId = scorerId;
        this.timeout = timeout;
        this.retryPolicy = retryPolicy;
        this.client = HttpClient.newBuilder()
                .connectTimeout(timeout)
                // 1.1: every judge server speaks it; a pool of keep-alive connections carries the concurrency
                .version(HttpClient.Version.HTTP_1_1)
                .followRedirects(HttpClient.Redirect.NEVER)
                .build();
    }

    public static HttpScorer of(HttpScorerConfig config) {
        return new HttpScorer(config.url(), config.scorerId(), config.timeout(), config.retryPolicy());
    }

    /**
     * Scores {@code rollout}; never completes exceptionally for the server's faults (those are
     * {@link ScoringOutcome.Failed}). Cancelled when this scorer is closed before a retry is due.
     *
     * @param source where the rollout came from ({@code topic-partition@offset}), for the failure's reason
     */
    public CompletableFuture<ScoringOutcome> score(Rollout rollout, String source) {
        CompletableFuture<ScoringOutcome> result = new CompletableFuture<>();
        Call call = new Call(rollout, source, ScoreRequest.of(rollout).toJson(), System.nanoTime(), result);
        call.attempt();
        return result;
    }

    /** No further attempts start; a rollout waiting for its retry is cancelled. Requests under way finish. */
    @Override
    public void close() {
        closed = true;
    }

    /** One rollout's attempts. */
    private final class Call {
        private final Rollout rollout;
        private final String source;
        private final byte[] body;
        private final long startedNanos;
        private final CompletableFuture<ScoringOutcome> result;
        private final List<AttemptFailure> failures = new ArrayList<>();

        Call(Rollout rollout, String source, byte[] body, long startedNanos, CompletableFuture<ScoringOutcome> result) {
            this.rollout = rollout;
            this.source = source;
            this.body = body;
            this.startedNanos = startedNanos;
            this.result = result;
        }

        void attempt() {
            if (closed) {
                result.completeExceptionally(new CancellationException("HTTP scorer " + scorerId + " closed"));
                return;
            }
            HttpRequest request = HttpRequest.newBuilder(url)
                    .timeout(timeout)
                    .header("Content-Type", "application/json")
                    .header("Accept", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofByteArray(body))
                    .build();
            // request.timeout() ends at the response headers; this bounds the whole answer, body included
            client.sendAsync(request, LimitedBody.handler(MAX_RESPONSE_BYTES))
                    .orTimeout(timeout.toMillis(), TimeUnit.MILLISECONDS)
                    .whenComplete(this::answered);
        }

        private void answered(HttpResponse<String> response, Throwable error) {
            try {
                if (error != null) {
                    failed(classify(error));
                    return;
                }
                int status = response.statusCode();
                if (status < 200 || status > 299) {
                    failed(AttemptFailure.status(status, ScoreResponse.quote(response.body())));
                    return;
                }
                ScoreResponse answer;
                try {
                    answer = ScoreResponse.parse(response.body());
                } catch (InvalidResponseException e) {
                    failed(AttemptFailure.badResponse(status, e.getMessage()));
                    return;
                }
                long latencyMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startedNanos);
                result.complete(new ScoringOutcome.Scored(reward(answer, status, latencyMs), failures.size() + 1, latencyMs));
            } catch (RuntimeException e) {
                result.completeExceptionally(e);  // a bug of ours: the caller sees it, nothing is swallowed
            }
        }

        private void failed(AttemptFailure failure) {
            failures.add(failure);
            int attempt = failures.size();
            if (!retryPolicy.retryAfter(attempt, failure)) {
                result.complete(new ScoringOutcome.Failed(failures, reason()));
                return;
            }
            Duration delay = retryPolicy.delayBefore(attempt, ThreadLocalRandom.current().nextDouble());
            log.debug("HTTP scorer {}: rollout {} attempt {}/{} failed ({}); retrying in {} ms", scorerId,
                    rollout.getRolloutId(), attempt, retryPolicy.maxAttempts(), failure, delay.toMillis());
            CompletableFuture.delayedExecutor(delay.toNanos(), TimeUnit.NANOSECONDS).execute(this::attempt);
        }

        private String reason() {
            String all = failures.size() == 1 ? "" : "; all attempts: " + failures.stream()
                    .map(f -> f.kind() == AttemptFailure.Kind.HTTP_STATUS ? "HTTP " + f.status() : f.kind().name().toLowerCase())
                    .toList();
            return "HTTP scorer %s at %s gave no score for rollout %s of group %s (%s) after %d attempt(s): %s%s".formatted(
                    scorerId, url, rollout.getRolloutId(), rollout.getGroupId(), source, failures.size(),
                    failures.get(failures.size() - 1), all);
        }

        private Reward reward(ScoreResponse answer, int status, long latencyMs) {
            Map<String, String> metadata = new LinkedHashMap<>(answer.metadata());
            metadata.put("source", "http");
            metadata.put("url", url.toString());
            metadata.put("attempts", Integer.toString(failures.size() + 1));
            metadata.put("latency_ms", Long.toString(latencyMs));
            metadata.put("http_status", Integer.toString(status));
            return Reward.newBuilder()
                    .setRolloutId(rollout.getRolloutId())
                    .setGroupId(rollout.getGroupId())
                    .setScorerId(scorerId)
                    .setScore(answer.score())
                    .setRationale(answer.rationale())
                    .setMetadata(metadata)
                    .setCreatedAtMs(Instant.now())
                    .build();
        }

        private AttemptFailure classify(Throwable error) {
            Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
            for (Throwable t = cause; t != null; t = t.getCause()) {
                if (t instanceof LimitedBody.TooLargeException tooLarge) return AttemptFailure.badResponse(tooLarge.status, tooLarge.getMessage());
            }
            if (cause instanceof HttpTimeoutException || cause instanceof TimeoutException) {
                return AttemptFailure.timeout("no answer within " + timeout);
            }
            if (cause instanceof IOException) {
                return AttemptFailure.connection(cause.toString());
            }
            // e.g. a SecurityException or an IllegalArgumentException from the client: not the network's fault
            throw new IllegalStateException("HTTP scorer " + scorerId + " request to " + url + " failed unexpectedly", cause);
        }
    }
}
