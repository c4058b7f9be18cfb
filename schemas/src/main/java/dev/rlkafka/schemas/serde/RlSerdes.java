package dev.rlkafka.schemas.serde;

import dev.rlkafka.schemas.avro.DeadLetter;
import dev.rlkafka.schemas.avro.Metric;
import dev.rlkafka.schemas.avro.Prompt;
import dev.rlkafka.schemas.avro.Reward;
import dev.rlkafka.schemas.avro.Rollout;
import dev.rlkafka.schemas.avro.ScoredGroup;
import dev.rlkafka.schemas.avro.WeightChunk;
import org.apache.avro.specific.SpecificRecord;

/** The serdes of every topic value type; each is a shared, thread-safe instance. */
public final class RlSerdes {
    private static final AvroSerde<Prompt> PROMPT = new AvroSerde<>(Prompt.class);
    private static final AvroSerde<Rollout> ROLLOUT = new AvroSerde<>(Rollout.class);
    private static final AvroSerde<Reward> REWARD = new AvroSerde<>(Reward.class);
    private static final AvroSerde<ScoredGroup> SCORED_GROUP = new AvroSerde<>(ScoredGroup.class);
    private static final AvroSerde<WeightChunk> WEIGHT_CHUNK = new AvroSerde<>(WeightChunk.class);
    private static final AvroSerde<Metric> METRIC = new AvroSerde<>(Metric.class);
    private static final AvroSerde<DeadLetter> DEAD_LETTER = new AvroSerde<>(DeadLetter.class);

    private RlSerdes() {
    }

    public static AvroSerde<Prompt> prompt() {
        return PROMPT;
    }

    public static AvroSerde<Rollout> rollout() {
        return ROLLOUT;
    }

    public static AvroSerde<Reward> reward() {
        return REWARD;
    }

    public static AvroSerde<ScoredGroup> scoredGroup() {
        return SCORED_GROUP;
    }

    public static AvroSerde<WeightChunk> weightChunk() {
        return WEIGHT_CHUNK;
    }

    public static AvroSerde<Metric> metric() {
        return METRIC;
    }

    public static AvroSerde<DeadLetter> deadLetter() {
        return DEAD_LETTER;
    }

    /** The serde of any topic value type, e.g. for code generic over the type. */
    @SuppressWarnings("unchecked")
    public static <T extends SpecificRecord> AvroSerde<T> of(Class<T> type) {
        for (AvroSerde<?> serde : new AvroSerde<?>[] {PROMPT, ROLLOUT, REWARD, SCORED_GROUP, WEIGHT_CHUNK, METRIC, DEAD_LETTER}) {
            if (serde.codec().type() == type) {
                return (AvroSerde<T>) serde;
            }
        }
        throw new IllegalArgumentException("no serde for " + type.getName() + "; topic value types are "
                + WriterSchemas.TOPIC_VALUE_TYPES.stream().map(Class::getSimpleName).toList());
    }
}
