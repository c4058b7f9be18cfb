package dev.rlkafka.reward;

import dev.rlkafka.schemas.Topics;
import dev.rlkafka.schemas.avro.DeadLetter;
import dev.rlkafka.schemas.avro.ScoredGroup;
import dev.rlkafka.schemas.serde.RlSerdes;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.processor.StateStore;
import org.apache.kafka.streams.processor.api.MockProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.Stores;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static dev.rlkafka.reward.Fixtures.reward;
import static dev.rlkafka.reward.Fixtures.rollout;
import static dev.rlkafka.reward.Fixtures.rolloutId;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link GroupAssembler} across a restart: the stores outlive the processor, as a restore from the changelog
 * makes them, while a new processor instance starts on them after the service was down.
 */
class GroupAssemblerRestartTest {
    private static final Topics TOPICS = Topics.withPrefix("t.");
    private static final Duration TIMEOUT = Duration.ofSeconds(10);
    private static final Duration PUNCTUATION = Duration.ofMillis(100);
    private static final long STARTED = 1_000_000;
    /** Longer than the timeout: the judge kept writing its scores to the topic meanwhile. */
    private static final long RESUMED = STARTED + 5 * TIMEOUT.toMillis();

    @TempDir
    Path stateDir;

    private RewardConfig config;
    private MockProcessorContext<String, SpecificRecord> context;
    private GroupAssembler assembler;
    private long offset;

    /** Arithmetic's built-in scorers and an external "judge", all required. */
    @BeforeEach
    void stores() {
        Map<String, Double> required = new LinkedHashMap<>(RewardConfig.builtInWeights("arithmetic"));
        required.put("judge", 0.5);
        config = RewardConfig.defaults("unused:9092").withTopics(TOPICS).withStateDir(stateDir)
                .withScorers(required, Map.of()).withGroupTimeout(TIMEOUT)
                .withIntervals(PUNCTUATION, Duration.ofSeconds(30));
        context = new MockProcessorContext<>(RewardService.streamsProperties(config));
        add(RewardTopology.PENDING_GROUPS, RewardTopology.pendingGroupSerde());
        add(RewardTopology.CLOSED_GROUPS, RewardTopology.closedGroupSerde());
    }

    private <V> void add(String name, Serde<V> values) {
        StateStore store = Stores.keyValueStoreBuilder(Stores.inMemoryKeyValueStore(name), Serdes.String(), values)
                .withLoggingDisabled().build();
        store.init(context.getStateStoreContext(), store);
        context.addStateStore(store);
    }

    /** A new processor on the same stores at {@code atMs}; the previous one's punctuations end with it. */
    private void start(long atMs) {
        context.scheduledPunctuators().forEach(MockProcessorContext.CapturedPunctuator::cancel);
        context.setCurrentSystemTimeMs(atMs);
        assembler = new GroupAssembler(config);
        assembler.init(context);
    }

    private void punctuate(long atMs) {
        context.setCurrentSystemTimeMs(atMs);
        context.scheduledPunctuators().stream()
                .filter(p -> !p.cancelled() && p.getInterval().equals(PUNCTUATION))
                .forEach(p -> p.getPunctuator().punctuate(atMs));
    }

    private void pipe(String topic, String groupId, byte[] value) {
        context.setRecordMetadata(topic, 0, offset++);
        assembler.process(new Record<>(groupId.getBytes(StandardCharsets.UTF_8), value, context.currentSystemTimeMs()));
    }

    private void group(String groupId, String... completions) {
        for (int i = 0; i < completions.length; i++) {
            pipe(TOPICS.rollouts(), groupId, RlSerdes.rollout().serializer()
                    .serialize(TOPICS.rollouts(), rollout(groupId, i, completions.length, completions[i])));
        }
    }

    private void judge(String groupId, double... scores) {
        for (int i = 0; i < scores.length; i++) {
            pipe(TOPICS.rewards(), groupId, RlSerdes.reward().serializer()
                    .serialize(TOPICS.rewards(), reward(groupId, rolloutId(groupId, i), "judge", scores[i])));
        }
    }

    private List<DeadLetter> deadLetters() {
        return context.forwarded(RewardTopology.DEAD_LETTERS_SINK).stream().map(f -> (DeadLetter) f.record().value()).toList();
    }

    private List<ScoredGroup> scoredGroups() {
        return context.forwarded(RewardTopology.SCORED_GROUPS_SINK).stream().map(f -> (ScoredGroup) f.record().value()).toList();
    }

    @Test
    void aGroupRestoredAfterDowntimeLongerThanTheTimeoutWaitsForTheScoresOnTheTopic() {
        start(STARTED);
        group("g1", "42", "41");
        start(RESUMED);
        punctuate(RESUMED + PUNCTUATION.toMillis());
        assertEquals(List.of(), deadLetters().stream().map(DeadLetter::getReason).toList(),
                "the judge's scores are on the topic, not yet read");
        judge("g1", 1.0, 0.0);
        List<ScoredGroup> scored = scoredGroups();
        assertEquals(List.of("g1"), scored.stream().map(ScoredGroup::getGroupId).toList());
        assertEquals(List.of(), deadLetters().stream().map(DeadLetter::getReason).toList());
    }

    @Test
    void aRestoredGroupStillExpiresOneTimeoutAfterTheRestart() {
        start(STARTED);
        group("g1", "42", "41");
        start(RESUMED);
        punctuate(RESUMED + TIMEOUT.toMillis() - PUNCTUATION.toMillis());
        assertEquals(List.of(), deadLetters());
        punctuate(RESUMED + TIMEOUT.toMillis());
        List<DeadLetter> letters = deadLetters();
        assertEquals(List.of(GroupAssembly.GROUP_TIMEOUT), letters.stream().map(DeadLetter::getErrorType).toList());
        assertTrue(letters.get(0).getReason().contains("after this service resumed"), letters.get(0).getReason());
        assertEquals(List.of(), scoredGroups());
    }
}
