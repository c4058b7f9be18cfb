package dev.rlkafka.reward.http;

import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;

/** The one JSON mapper of the HTTP scorer: strict, because a scorer's answer becomes a training signal. */
final class Json {
    /**
     * Rejects what a lenient parser would guess at: {@code {"score":1} trailing}, a key given twice, and
     * (Jackson's default) {@code NaN}/{@code Infinity} tokens, which are not JSON.
     */
    static final ObjectMapper MAPPER = JsonMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .build();

    private Json() {
    }
}
