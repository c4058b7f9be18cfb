package dev.rlkafka.reward.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ScoreRequestTest {
    @Test
    void carriesTheIdsTheTextAndTheProvenanceOfTheRollout() throws Exception {
        var rollout = TestRollouts.rollout("g7", 2, 4, "forty-two ✓ \"quoted\"");
        JsonNode json = new ObjectMapper().readTree(ScoreRequest.of(rollout).toJson());
        assertEquals("g7/2", json.get("rolloutId").asText());
        assertEquals("g7", json.get("groupId").asText());
        assertEquals("p-g7", json.get("promptId").asText());
        assertEquals("arithmetic", json.get("task").asText());
        assertEquals("12+30=", json.get("prompt").asText());
        assertEquals("forty-two ✓ \"quoted\"", json.get("completion").asText(), "UTF-8 and escapes survive");
        assertEquals("42", json.get("referenceAnswer").asText());
        assertTrue(json.get("policyVersion").isIntegralNumber());
        assertEquals(3, json.get("policyVersion").asLong());
        assertEquals("generator-1", json.get("generatorId").asText());
        assertEquals(List.of("rolloutId", "groupId", "promptId", "task", "prompt", "completion", "referenceAnswer",
                "policyVersion", "generatorId"), iterable(json.fieldNames()));
    }

    @Test
    void aMissingReferenceAnswerIsNull() throws Exception {
        var rollout = TestRollouts.rollout("g1", 0, 2, "x");
        rollout.setReferenceAnswer(null);
        JsonNode json = new ObjectMapper().readTree(ScoreRequest.of(rollout).toJson());
        assertTrue(json.get("referenceAnswer").isNull());
    }

    private static List<String> iterable(java.util.Iterator<String> names) {
        List<String> out = new java.util.ArrayList<>();
        names.forEachRemaining(out::add);
        return out;
    }
}
