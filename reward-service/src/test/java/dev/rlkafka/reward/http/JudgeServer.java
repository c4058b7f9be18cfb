package dev.rlkafka.reward.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A real local HTTP scorer (the JDK's HttpServer on 127.0.0.1, an ephemeral port) whose answers a test scripts
 * per request: good, slow, failing or garbage. Counts requests per rollout id.
 */
final class JudgeServer implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * What the server does with one request: wait {@code delay}, then answer {@code status} with {@code body},
     * with a Content-Length or, {@code chunked}, without one.
     */
    record Answer(int status, String body, Duration delay, boolean chunked) {
        static Answer score(double score) {
            return body("{\"score\": " + score + ", \"rationale\": \"scripted\", \"metadata\": {\"model\": \"test-judge\"}}");
        }

        static Answer status(int status) {
            return new Answer(status, "{\"error\": \"scripted " + status + "\"}", Duration.ZERO, false);
        }

        static Answer body(String body) {
            return new Answer(200, body, Duration.ZERO, false);
        }

        Answer after(Duration delay) {
            return new Answer(status, body, delay, chunked);
        }

        Answer withoutLength() {
            return new Answer(status, body, delay, true);
        }
    }

    /** Scripts the server: the parsed request and which attempt at its rollout this is (1-based). */
    interface Script {
        Answer answer(JsonNode request, int attempt) throws InterruptedException;
    }

    private final HttpServer server;
    private final ExecutorService executor = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "judge-server");
        t.setDaemon(true);
        return t;
    });
    private final Map<String, AtomicInteger> attempts = new ConcurrentHashMap<>();
    private final List<JsonNode> requests = new CopyOnWriteArrayList<>();

    private JudgeServer(Script script) throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.setExecutor(executor);   // the default runs every request on one thread: a slow answer would block all
        server.createContext("/score", exchange -> handle(exchange, script));
        server.start();
    }

    static JudgeServer start(Script script) throws IOException {
        return new JudgeServer(script);
    }

    /** A URL where nothing listens: a port bound, then released. */
    static URI deadUrl() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return URI.create("http://127.0.0.1:" + socket.getLocalPort() + "/score");
        }
    }

    URI url() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/score");
    }

    /** Requests seen for {@code rolloutId}. */
    int attempts(String rolloutId) {
        AtomicInteger n = attempts.get(rolloutId);
        return n == null ? 0 : n.get();
    }

    /** Every request body seen, parsed. */
    List<JsonNode> requests() {
        return List.copyOf(requests);
    }

    private void handle(HttpExchange exchange, Script script) throws IOException {
        try (exchange) {
            JsonNode request = JSON.readTree(exchange.getRequestBody().readAllBytes());
            requests.add(request);
            int attempt = attempts.computeIfAbsent(request.path("rolloutId").asText(), id -> new AtomicInteger()).incrementAndGet();
            Answer answer = script.answer(request, attempt);
            if (!answer.delay().isZero()) Thread.sleep(answer.delay().toMillis());
            byte[] body = answer.body().getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", "application/json");
            exchange.sendResponseHeaders(answer.status(), body.length == 0 ? -1 : answer.chunked() ? 0 : body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();   // server closing
        } catch (IOException e) {
            // the client gave up (timeout) and closed the connection: nothing to answer
        }
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
