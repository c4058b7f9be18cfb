package dev.rlkafka.reward.human;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.rlkafka.reward.human.HumanScorerService.RewardNotWrittenException;
import dev.rlkafka.schemas.avro.Reward;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The human scorer's web page and its JSON API on the JDK's HTTP server. Static files come from the class path
 * next to this class; nothing is fetched from elsewhere (the Content-Security-Policy forbids it).
 *
 * <pre>
 * GET  /              the page (index.html, app.js, style.css)
 * GET  /api/config    scorer id, scale, lease length
 * POST /api/next      {"rater"}                                   → 200 the rater's leased rollout, 204 none waiting
 * POST /api/rate      {"rater", "rolloutId", "rating", "comment"} → 200 the reward written
 * POST /api/skip      {"rater", "rolloutId"}                      → 200
 * GET  /api/stats     queue counts
 * </pre>
 * Errors are {@code {"error": "..."}}: 400 bad input, 404 unknown rollout, 409 already rated or leased to another
 * rater, 415 a POST that is not JSON, 503 Kafka did not take the reward.
 */
final class ScoringPage {
    private static final Logger log = LoggerFactory.getLogger(ScoringPage.class);
    private static final int MAX_BODY_BYTES = 16 * 1024;
    private static final int THREADS = 4;
    private static final Duration STOP_WAIT = Duration.ofSeconds(1);
    private static final Map<String, String> STATIC_FILES = Map.of(
            "/", "index.html", "/index.html", "index.html", "/app.js", "app.js", "/style.css", "style.css");
    /** Only this page's own files and API: no CDN, no inline code, not framed by other sites. */
    private static final String CONTENT_SECURITY_POLICY =
            "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; "
                    + "form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

    private final HumanScorerService service;
    private final HttpServer server;
    private final ExecutorService executor;
    private final ObjectMapper json = new ObjectMapper()
            // a rating of 4.5 is an error, not a 4
            .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES);
    private final Map<String, byte[]> files;

    private ScoringPage(HumanScorerService service, HttpServer server, ExecutorService executor, Map<String, byte[]> files) {
        this.service = service;
        this.server = server;
        this.executor = executor;
        this.files = files;
    }

    /** Listens on the config's address and port and answers at once. */
    static ScoringPage start(HumanScorerService service) throws IOException {
        HumanScorerConfig config = service.config();
        Map<String, byte[]> files = Map.of(
                "index.html", resource("index.html"), "app.js", resource("app.js"), "style.css", resource("style.css"));
        HttpServer server = HttpServer.create(new InetSocketAddress(config.bindAddress(), config.port()), 0);
        AtomicInteger threadCount = new AtomicInteger();
        ExecutorService executor = Executors.newFixedThreadPool(THREADS,
                r -> new Thread(r, config.serviceId() + "-http-" + threadCount.incrementAndGet()));
        ScoringPage page = new ScoringPage(service, server, executor, files);
        server.createContext("/", page::handle);
        server.setExecutor(executor);
        server.start();
        return page;
    }

    private static byte[] resource(String name) {
        try (InputStream in = ScoringPage.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("resource " + name + " of the human scoring page is missing from the class path"
                        + " (expected next to " + ScoringPage.class.getName() + ")");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read resource " + name, e);
        }
    }

    URI url() {
        InetSocketAddress address = server.getAddress();
        String host = address.getAddress().isAnyLocalAddress() ? "localhost" : address.getAddress().getHostAddress();
        return URI.create("http://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + address.getPort() + "/");
    }

    /** Stops listening, lets requests in flight finish for a moment, then ends the threads. */
    void stop() {
        server.stop((int) STOP_WAIT.toSeconds());
        executor.shutdown();
        try {
            if (!executor.awaitTermination(STOP_WAIT.toMillis(), TimeUnit.MILLISECONDS)) executor.shutdownNow();
        } catch (InterruptedException e) {
            executor.shutdownNow();
            Thread.currentThread().interrupt();
        }
    }

    // ---- requests ----

    /** A problem with the request itself, answered with {@code status} and the message. */
    private static final class BadRequest extends Exception {
        private static final long serialVersionUID = 1L;
        final int status;

        BadRequest(int status, String message) {
            super(message);
            this.status = status;
        }
    }

    record NextRequest(String rater) {
    }

    record RateRequest(String rater, String rolloutId, Integer rating, String comment) {
    }

    record SkipRequest(String rater, String rolloutId) {
    }

    private void handle(HttpExchange exchange) throws IOException {
        String path = exchange.getRequestURI().getPath();
        String method = exchange.getRequestMethod().toUpperCase(Locale.ROOT);
        try {
            try {
                route(exchange, method, path);
            } catch (BadRequest e) {
                log.debug("{} {} -> {}: {}", method, path, e.status, e.getMessage());
                sendError(exchange, e.status, e.getMessage());
            } catch (IllegalArgumentException e) {
                log.debug("{} {} -> 400: {}", method, path, e.getMessage());
                sendError(exchange, 400, e.getMessage());
            } catch (RatingRefusedException e) {
                int status = e.reason() == RatingRefusedException.Reason.UNKNOWN_ROLLOUT ? 404 : 409;
                log.info("refused {} {} ({}): {}", method, path, status, e.getMessage());
                sendError(exchange, status, e.getMessage());
            } catch (RewardNotWrittenException e) {
                sendError(exchange, 503, e.getMessage());
            } catch (RuntimeException e) {
                log.error("{} {} failed", method, path, e);
                sendError(exchange, 500, "internal error: " + e);
            }
        } finally {
            exchange.close();
        }
    }

    private void route(HttpExchange exchange, String method, String path)
            throws IOException, BadRequest, RatingRefusedException, RewardNotWrittenException {
        String file = STATIC_FILES.get(path);
        if (file != null) {
            requireMethod(method, "GET");
            send(exchange, 200, contentType(file), files.get(file));
            return;
        }
        switch (path) {
            case "/api/config" -> {
                requireMethod(method, "GET");
                sendJson(exchange, 200, config());
            }
            case "/api/stats" -> {
                requireMethod(method, "GET");
                sendJson(exchange, 200, stats());
            }
            case "/api/next" -> {
                requireMethod(method, "POST");
                NextRequest request = read(exchange, NextRequest.class);
                Optional<Lease> lease = service.next(request.rater());
                if (lease.isPresent()) {
                    sendJson(exchange, 200, view(lease.get()));
                } else {
                    send(exchange, 204, null, null);
                }
            }
            case "/api/rate" -> {
                requireMethod(method, "POST");
                RateRequest request = read(exchange, RateRequest.class);
                if (request.rating() == null) throw new BadRequest(400, "field 'rating' is required");
                Reward reward = service.rate(request.rolloutId(), request.rater(), request.rating(), request.comment());
                sendJson(exchange, 200, new RatedView(reward.getRolloutId(), reward.getGroupId(), reward.getScorerId(),
                        request.rating(), reward.getScore(), reward.getMetadata().get(HumanScorerService.RATER)));
            }
            case "/api/skip" -> {
                requireMethod(method, "POST");
                SkipRequest request = read(exchange, SkipRequest.class);
                service.skip(request.rolloutId(), request.rater());
                sendJson(exchange, 200, Map.of("skipped", request.rolloutId()));
            }
            default -> throw new BadRequest(404, "no such page or API: " + path);
        }
    }

    private static void requireMethod(String method, String allowed) throws BadRequest {
        if (!method.equals(allowed)) {
            throw new BadRequest(405, method + " is not allowed here; use " + allowed);
        }
    }

    private <T> T read(HttpExchange exchange, Class<T> type) throws IOException, BadRequest {
        String contentType = exchange.getRequestHeaders().getFirst("Content-Type");
        // a JSON content type cannot be sent cross-site without a CORS preflight, which this server never grants
        if (contentType == null || !contentType.toLowerCase(Locale.ROOT).startsWith("application/json")) {
            throw new BadRequest(415, "request body must be JSON (Content-Type: application/json), got " + contentType);
        }
        byte[] body = exchange.getRequestBody().readNBytes(MAX_BODY_BYTES + 1);
        if (body.length > MAX_BODY_BYTES) {
            throw new BadRequest(413, "request body is over " + MAX_BODY_BYTES + " bytes");
        }
        try {
            T value = json.readValue(body, type);
            if (value == null) throw new BadRequest(400, "request body must be a JSON object, got null");
            return value;
        } catch (JsonProcessingException e) {
            throw new BadRequest(400, "request body is not a valid " + type.getSimpleName() + ": " + e.getOriginalMessage());
        }
    }

    // ---- answers ----

    record ScaleView(int min, int max) {
    }

    record ConfigView(String scorerId, ScaleView scale, long leaseSeconds, String scoreRule, String rewardsTopic) {
    }

    record ScoreView(String scorerId, double score) {
    }

    record RolloutView(String rolloutId, String groupId, String promptId, int index, int groupSize, String task,
                       String prompt, String completion, String referenceAnswer, long policyVersion, String finishReason,
                       String generatorId, long createdAtMs, String rater, long leaseExpiresAtMs,
                       long leaseSecondsLeft, List<ScoreView> otherScores) {
    }

    record RatedView(String rolloutId, String groupId, String scorerId, int rating, double score, String rater) {
    }

    record StatsView(boolean caughtUp, int waiting, int leased, long rated, long ratedHere, Map<String, Long> ratedByRater,
                     long dropped, long deadLetters) {
    }

    private ConfigView config() {
        HumanScorerConfig config = service.config();
        RatingScale scale = config.scale();
        String rule = "reward = (rating - %d) / %d: %d gives 0, %d gives 1".formatted(scale.min(), scale.max() - scale.min(),
                scale.min(), scale.max());
        return new ConfigView(config.scorerId(), new ScaleView(scale.min(), scale.max()), config.lease().toSeconds(), rule,
                config.topics().rewards());
    }

    private StatsView stats() {
        RatingQueue.Stats s = service.stats();
        return new StatsView(service.caughtUp(), s.waiting(), s.leased(), s.rated(), s.ratedHere(), s.ratedByRater(),
                s.dropped(), service.deadLetters());
    }

    private RolloutView view(Lease lease) {
        WaitingRollout r = lease.rollout();
        long secondsLeft = Math.max(0, Duration.between(service.now(), lease.expiresAt()).toSeconds());
        List<ScoreView> others = lease.otherScores().entrySet().stream()
                .map(e -> new ScoreView(e.getKey(), e.getValue())).toList();
        return new RolloutView(r.rolloutId(), r.groupId(), r.promptId(), r.index(), r.groupSize(), r.task(), r.promptText(),
                r.completionText(), r.referenceAnswer(), r.policyVersion(), r.finishReason(), r.generatorId(),
                r.createdAt().toEpochMilli(), lease.rater(), lease.expiresAt().toEpochMilli(), secondsLeft, others);
    }

    private void sendJson(HttpExchange exchange, int status, Object value) throws IOException {
        send(exchange, status, "application/json; charset=utf-8", json.writeValueAsBytes(value));
    }

    private void sendError(HttpExchange exchange, int status, String message) throws IOException {
        if (status == 405) {
            exchange.getResponseHeaders().set("Allow", "GET, POST");
        }
        sendJson(exchange, status, Map.of("error", message == null ? "error" : message));
    }

    private static void send(HttpExchange exchange, int status, String contentType, byte[] body) throws IOException {
        Headers headers = exchange.getResponseHeaders();
        if (contentType != null) headers.set("Content-Type", contentType);
        headers.set("Cache-Control", "no-store");
        headers.set("X-Content-Type-Options", "nosniff");
        headers.set("Content-Security-Policy", CONTENT_SECURITY_POLICY);
        if (body == null || body.length == 0) {
            exchange.sendResponseHeaders(status, -1);
        } else {
            exchange.sendResponseHeaders(status, body.length);
            exchange.getResponseBody().write(body);
        }
    }

    private static String contentType(String file) {
        if (file.endsWith(".html")) return "text/html; charset=utf-8";
        if (file.endsWith(".js")) return "text/javascript; charset=utf-8";
        if (file.endsWith(".css")) return "text/css; charset=utf-8";
        return "application/octet-stream";
    }
}
