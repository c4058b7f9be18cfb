package dev.rlkafka.reward.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * An HTTP scorer's answer for one rollout, validated:
 * {@code {"score": <finite number>, "rationale": "optional text", "metadata": {"optional": "strings"}}}.
 * Other fields are ignored, so a server may add its own.
 *
 * @param score     the reward, finite
 * @param rationale why, or null
 * @param metadata  free-form strings from the server (e.g. the judge model's name); empty when none
 */
public record ScoreResponse(double score, String rationale, Map<String, String> metadata) {
    /** How much of a bad answer a message quotes. */
    static final int QUOTED_CHARS = 200;

    public ScoreResponse {
        if (!Double.isFinite(score)) throw new IllegalArgumentException("score must be finite, got " + score);
        metadata = metadata == null ? Map.of() : Map.copyOf(metadata);
    }

    /**
     * Parses a 2xx answer's body.
     *
     * @throws InvalidResponseException naming what is wrong and quoting the body
     */
    public static ScoreResponse parse(String body) {
        JsonNode root;
        try {
            root = Json.MAPPER.readTree(body);
        } catch (JsonProcessingException e) {
            throw new InvalidResponseException("not JSON (" + e.getOriginalMessage() + "): " + quote(body));
        }
        if (root == null || !root.isObject()) {
            throw new InvalidResponseException("expected a JSON object with a \"score\", got " + quote(body));
        }
        JsonNode score = root.get("score");
        if (score == null || score.isNull()) {
            throw new InvalidResponseException("no \"score\" in " + quote(body));
        }
        if (!score.isNumber()) {
            throw new InvalidResponseException("\"score\" must be a number, got " + score.getNodeType().name().toLowerCase()
                    + " " + quote(score.toString()));
        }
        if (!Double.isFinite(score.doubleValue())) {
            throw new InvalidResponseException("\"score\" " + score + " is not a finite double");
        }
        return new ScoreResponse(score.doubleValue(), rationale(root.get("rationale")), metadata(root.get("metadata")));
    }

    private static String rationale(JsonNode node) {
        if (node == null || node.isNull()) return null;
        if (!node.isTextual()) {
            throw new InvalidResponseException("\"rationale\" must be a string, got " + quote(node.toString()));
        }
        return node.textValue();
    }

    private static Map<String, String> metadata(JsonNode node) {
        if (node == null || node.isNull()) return Map.of();
        if (!node.isObject()) {
            throw new InvalidResponseException("\"metadata\" must be an object of strings, got " + quote(node.toString()));
        }
        Map<String, String> out = new LinkedHashMap<>();
        for (var field : node.properties()) {
            if (!field.getValue().isTextual()) {
                throw new InvalidResponseException("\"metadata\".\"" + field.getKey() + "\" must be a string, got "
                        + quote(field.getValue().toString()));
            }
            out.put(field.getKey(), field.getValue().textValue());
        }
        return out;
    }

    /** {@code body} in quotes, cut to {@link #QUOTED_CHARS}, so a reason stays one readable line. */
    static String quote(String body) {
        if (body == null) return "<no body>";
        if (body.isEmpty()) return "<empty body>";
        String cut = body.length() <= QUOTED_CHARS ? body : body.substring(0, QUOTED_CHARS) + "... (" + body.length() + " chars)";
        return "'" + cut.replace("\r", "\\r").replace("\n", "\\n") + "'";
    }

    /** An answer that is not a valid score; its message is the reason a dead letter gives. */
    public static final class InvalidResponseException extends RuntimeException {
        InvalidResponseException(String message) {
            super(message);
        }
    }
}
