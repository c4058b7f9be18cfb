package dev.rlkafka.reward.human;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.rlkafka.kafka.KafkaExtension;
import dev.rlkafka.kafka.TestKafka;
import dev.rlkafka.schemas.DeadLetters;
import dev.rlkafka.schemas.TopicAdmin;
import dev.rlkafka.schemas.Topics;
import dev.rlkafka.schemas.avro.DeadLetter;
import dev.rlkafka.schemas.avro.Reward;
import dev.rlkafka.schemas.serde.RlSerdes;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static dev.rlkafka.reward.human.HumanFixtures.await;
import static dev.rlkafka.reward.human.HumanFixtures.rollout;
import static dev.rlkafka.reward.human.HumanFixtures.send;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The human scorer's JSON API on a real broker: leases, ratings as rewards, refusals, dead letters, restart. */
@ExtendWith(KafkaExtension.class)
class HumanScorerServiceKafkaTest {
    private final HttpClient http = HttpClient.newHttpClient();
    private final ObjectMapper json = new ObjectMapper();

    record Answer(int status, JsonNode body, HttpResponse<String> response) {
        String error() {
            return body == null ? null : body.path("error").asText(null);
        }
    }

    private Answer call(URI base, String method, String path, String contentType, String body) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(base.resolve(path));
        if (contentType != null) request.header("Content-Type", contentType);
        request.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        HttpResponse<String> response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
        String text = response.body();
        JsonNode node = text == null || text.isEmpty() || !response.headers().firstValue("Content-Type").orElse("").contains("json")
                ? null : json.readTree(text);
        return new Answer(response.statusCode(), node, response);
    }

    private Answer post(URI base, String path, Object body) throws Exception {
        return call(base, "POST", path, "application/json", json.writeValueAsString(body));
    }

    @Test
    void ratingsBecomeRewardsOnceEachAndBadInputIsRefusedClearly(TestKafka kafka) throws Exception {
        Topics topics = HumanFixtures.freshTopics("human");
        TopicAdmin.ensureTopics(kafka.bootstrapServers(), topics, 2, (short) 1);
        byte[] garbage = "not a rollout".getBytes(StandardCharsets.UTF_8);
        try (var producer = HumanFixtures.producer(kafka)) {
            // g0/0 was rated by this scorer id in an earlier run: it must not be offered again
            send(producer, topics, HumanFixtures.reward("g0", "g0/0", "human", 1.0));
            send(producer, topics, HumanFixtures.reward("g0", "g0/1", "exact-answer", 1.0));
            send(producer, topics, rollout("g0", 0, 2, "12+30=", "42", 3));
            send(producer, topics, rollout("g0", 1, 2, "12+30=", "42", 3));
            producer.send(new ProducerRecord<>(topics.rollouts(), "g9", garbage)).get();
            send(producer, topics, rollout("g1", 0, 1, "7+8=", "15", 4));
        }
        HumanScorerConfig config = HumanScorerConfig.defaults(kafka.bootstrapServers()).withTopics(topics)
                .withAddress("127.0.0.1", 0);

        String ratedByAlice;
        String heldByBob;
        try (HumanScorerService service = new HumanScorerService(config).start()) {
            URI base = service.url();
            await("both unrated rollouts waiting and the garbage dead-lettered",
                    () -> service.stats().waiting() == 2 && service.deadLetters() == 1,
                    () -> service.stats() + ", dead letters " + service.deadLetters());

            Answer page = call(base, "GET", "/", null, null);
            assertEquals(200, page.status());
            assertTrue(page.response().body().contains("<script src=\"app.js\""), "the page loads its own script");
            assertTrue(page.response().headers().firstValue("Content-Security-Policy").orElse("").contains("default-src 'none'"));
            JsonNode pageConfig = call(base, "GET", "/api/config", null, null).body();
            assertEquals("human", pageConfig.get("scorerId").asText());
            assertEquals(5, pageConfig.get("scale").get("max").asInt());

            Answer alice = post(base, "/api/next", Map.of("rater", "alice"));
            Answer bob = post(base, "/api/next", Map.of("rater", " bob "));
            assertEquals(200, alice.status(), String.valueOf(alice.body()));
            assertEquals(200, bob.status(), String.valueOf(bob.body()));
            ratedByAlice = alice.body().get("rolloutId").asText();
            heldByBob = bob.body().get("rolloutId").asText();
            assertNotEquals(ratedByAlice, heldByBob, "two raters never hold the same rollout");
            assertEquals(Set.of("g0/1", "g1/0"), Set.of(ratedByAlice, heldByBob), "g0/0 was rated before this page started");
            assertEquals("bob", bob.body().get("rater").asText(), "the rater name is trimmed");
            assertEquals(204, post(base, "/api/next", Map.of("rater", "carol")).status(), "nothing left for a third rater");
            JsonNode g01 = ratedByAlice.equals("g0/1") ? alice.body() : bob.body();
            assertEquals("exact-answer", g01.get("otherScores").get(0).get("scorerId").asText());
            assertEquals(1.0, g01.get("otherScores").get(0).get("score").asDouble());
            assertEquals(3, g01.get("policyVersion").asLong());
            assertEquals("12+30=", g01.get("prompt").asText());

            // bad input: clear 4xx, nothing written
            Answer stolen = post(base, "/api/rate", Map.of("rater", "bob", "rolloutId", ratedByAlice, "rating", 5));
            assertEquals(409, stolen.status());
            assertTrue(stolen.error().contains("leased to alice"), stolen.error());
            Answer offScale = post(base, "/api/rate", Map.of("rater", "alice", "rolloutId", ratedByAlice, "rating", 6));
            assertEquals(400, offScale.status());
            assertTrue(offScale.error().contains("off the scale 1-5"), offScale.error());
            assertEquals(400, post(base, "/api/rate", Map.of("rater", "alice", "rolloutId", ratedByAlice, "rating", 4.5)).status());
            assertEquals(400, post(base, "/api/rate", Map.of("rater", "alice", "rolloutId", ratedByAlice)).status());
            assertEquals(400, post(base, "/api/rate", Map.of("rater", "", "rolloutId", ratedByAlice, "rating", 4)).status());
            Answer unknown = post(base, "/api/rate", Map.of("rater", "alice", "rolloutId", "nope/0", "rating", 4));
            assertEquals(404, unknown.status());
            assertTrue(unknown.error().contains("nope/0"), unknown.error());
            assertEquals(400, call(base, "POST", "/api/rate", "application/json", "{\"rater\": ").status());
            assertEquals(415, call(base, "POST", "/api/rate", "text/plain", "{}").status(), "cross-site simple POSTs are refused");
            assertEquals(405, call(base, "GET", "/api/rate", null, null).status());
            assertEquals(404, call(base, "GET", "/api/nothing", null, null).status());

            Answer rated = post(base, "/api/rate",
                    Map.of("rater", "alice", "rolloutId", ratedByAlice, "rating", 4, "comment", "  right answer "));
            assertEquals(200, rated.status(), String.valueOf(rated.body()));
            assertEquals(0.75, rated.body().get("score").asDouble());
            Answer twice = post(base, "/api/rate", Map.of("rater", "alice", "rolloutId", ratedByAlice, "rating", 2));
            assertEquals(409, twice.status());
            assertTrue(twice.error().contains("already rated"), twice.error());

            JsonNode stats = call(base, "GET", "/api/stats", null, null).body();
            assertEquals(1, stats.get("waiting").asInt());
            assertEquals(1, stats.get("ratedHere").asInt());
            assertEquals(1, stats.get("ratedByRater").get("alice").asInt());
        }

        // exactly one reward of scorer "human" besides the earlier run's, keyed by its group
        List<ConsumerRecord<String, Reward>> human = HumanFixtures.rewardsOf(kafka, topics, "human", 2);
        assertEquals(2, human.size(), "the earlier run's reward and alice's");
        ConsumerRecord<String, Reward> rec = human.stream().filter(r -> r.value().getRolloutId().equals(ratedByAlice))
                .findFirst().orElseThrow();
        Reward reward = rec.value();
        assertEquals(reward.getGroupId(), rec.key(), "keyed by group id, like every scorer");
        assertEquals(ratedByAlice.substring(0, 2), reward.getGroupId());
        assertEquals(0.75, reward.getScore());
        assertEquals("right answer", reward.getRationale());
        assertEquals("alice", reward.getMetadata().get(HumanScorerService.RATER));
        assertEquals("4", reward.getMetadata().get(HumanScorerService.RATING));
        assertEquals("1-5", reward.getMetadata().get(HumanScorerService.SCALE));

        ConsumerRecord<String, byte[]> letterRecord = HumanFixtures.consume(kafka, topics.deadLetters(), got -> !got.isEmpty()).get(0);
        DeadLetter letter = RlSerdes.deadLetter().codec().decode(letterRecord);
        assertEquals(DeadLetters.UNDECODABLE, letter.getErrorType(), letter.getReason());
        assertEquals(topics.rollouts(), letter.getSourceTopic());
        assertArrayEquals(garbage, bytes(letter.getOriginalBytes()));
        assertEquals(config.serviceId(), letterRecord.key());

        // restart: the ratings on rl.rewards decide what is still waiting; bob's lease died with the old process
        try (HumanScorerService again = new HumanScorerService(config).start()) {
            await("the restarted page caught up", () -> again.caughtUp() && again.stats().waiting() == 1, again::stats);
            Answer next = post(again.url(), "/api/next", Map.of("rater", "dave"));
            assertEquals(200, next.status());
            assertEquals(heldByBob, next.body().get("rolloutId").asText(), "only the unrated rollout is offered after a restart");
        }
    }

    private static byte[] bytes(ByteBuffer buffer) {
        byte[] out = new byte[buffer.remaining()];
        buffer.duplicate().get(out);
        return out;
    }
}
