package dev.rlkafka.reward.http;

import dev.rlkafka.reward.http.ScoreResponse.InvalidResponseException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ScoreResponseTest {
    @Test
    void readsScoreRationaleAndMetadataAndIgnoresOtherFields() {
        ScoreResponse answer = ScoreResponse.parse("""
                {"score": -0.25, "rationale": "close, but off by one", "metadata": {"model": "judge-7b", "rubric": "v2"},
                 "debug": {"tokens": 17}}""");
        assertEquals(-0.25, answer.score());
        assertEquals("close, but off by one", answer.rationale());
        assertEquals(Map.of("model", "judge-7b", "rubric", "v2"), answer.metadata());
    }

    @Test
    void onlyTheScoreIsRequired() {
        ScoreResponse answer = ScoreResponse.parse("{\"score\": 3}");
        assertEquals(3.0, answer.score());
        assertNull(answer.rationale());
        assertEquals(Map.of(), answer.metadata());
        assertNull(ScoreResponse.parse("{\"score\": 1, \"rationale\": null, \"metadata\": null}").rationale());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
            "not JSON                 | I think it is a 7     | not JSON",
            "empty body               | ``                    | expected a JSON object",
            "a bare number            | 0.5                   | expected a JSON object",
            "an array                 | [1]                   | expected a JSON object",
            "no score                 | {\"rationale\": \"x\"}  | no \"score\"",
            "null score               | {\"score\": null}     | no \"score\"",
            "score as a string        | {\"score\": \"0.5\"}  | must be a number",
            "score as a boolean       | {\"score\": true}     | must be a number",
            "NaN                      | {\"score\": NaN}      | not JSON",
            "a double overflow        | {\"score\": 1e999}    | not a finite double",
            "trailing garbage         | {\"score\": 1} oops   | not JSON",
            "score given twice        | {\"score\": 1, \"score\": 2} | not JSON",
            "rationale not a string   | {\"score\": 1, \"rationale\": 5} | \"rationale\" must be a string",
            "metadata not an object   | {\"score\": 1, \"metadata\": [\"a\"]} | \"metadata\" must be an object",
            "metadata value not text  | {\"score\": 1, \"metadata\": {\"n\": 3}} | \"metadata\".\"n\" must be a string",
    })
    void rejectsGarbageNamingWhatIsWrong(String what, String body, String expected) {
        var e = assertThrows(InvalidResponseException.class, () -> ScoreResponse.parse(body), what);
        assertTrue(e.getMessage().contains(expected), what + ": " + e.getMessage());
    }

    @Test
    void quotesLongBodiesCutToOneLine() {
        String quoted = ScoreResponse.quote("x".repeat(1000) + "\n");
        assertTrue(quoted.length() < 260 && quoted.endsWith("... (1001 chars)'"), quoted);
        assertEquals("'a\\nb'", ScoreResponse.quote("a\nb"));
    }
}
