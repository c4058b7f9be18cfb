package dev.rlkafka.schemas.serde;

import dev.rlkafka.schemas.avro.DeadLetter;
import dev.rlkafka.schemas.avro.Metric;
import dev.rlkafka.schemas.avro.Prompt;
import dev.rlkafka.schemas.avro.Reward;
import dev.rlkafka.schemas.avro.Rollout;
import dev.rlkafka.schemas.avro.ScoredGroup;
import dev.rlkafka.schemas.avro.WeightChunk;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.SchemaNormalization;
import org.apache.avro.SchemaParseException;
import org.apache.avro.message.SchemaStore;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificRecord;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * Every writer schema we can read, by type and CRC-64-AVRO fingerprint.
 *
 * <p>Single-object bytes carry only the writer schema's fingerprint, so a reader must already know
 * the schema to resolve old records against the current class. At class load this holds, per topic
 * value type, the current schema plus each historical one shipped as a classpath resource
 * {@code dev/rlkafka/schemas/history/<Type>/v1.avsc, v2.avsc, ...} (self-contained, numbered without
 * gaps; when you change an {@code .avsc}, add the new version there: a test fails until you do).
 * {@link #register(Schema)} adds one at run time, e.g. a schema an external scorer wrote with.
 */
public final class WriterSchemas {
    /** The types that are topic values, in contract order. */
    public static final List<Class<? extends SpecificRecord>> TOPIC_VALUE_TYPES = List.of(
            Prompt.class, Rollout.class, Reward.class, ScoredGroup.class,
            WeightChunk.class, Metric.class, DeadLetter.class);

    static final String HISTORY_ROOT = "dev/rlkafka/schemas/history/";

    /** full name → (fingerprint → writer schema); insertion order = history order. */
    private static final Map<String, ConcurrentMap<Long, Schema>> BY_TYPE = new LinkedHashMap<>();

    static {
        for (Class<? extends SpecificRecord> type : TOPIC_VALUE_TYPES) {
            ConcurrentMap<Long, Schema> known = new ConcurrentHashMap<>();
            for (Schema old : history(type)) {
                known.put(SchemaNormalization.parsingFingerprint64(old), old);
            }
            Schema current = currentSchema(type);
            known.put(SchemaNormalization.parsingFingerprint64(current), current);
            BY_TYPE.put(current.getFullName(), known);
        }
    }

    private WriterSchemas() {
    }

    /**
     * Makes {@code writer} readable from now on, in this JVM.
     *
     * @return its fingerprint
     * @throws IllegalArgumentException when it is not one of our topic value types or the current
     *                                  class cannot read what it wrote (names the incompatibilities)
     */
    public static long register(Schema writer) {
        if (writer == null) {
            throw new IllegalArgumentException("writer schema must not be null");
        }
        ConcurrentMap<Long, Schema> known = BY_TYPE.get(writer.getFullName());
        if (known == null) {
            throw new IllegalArgumentException("writer schema %s is not a topic value type; expected one of %s"
                    .formatted(writer.getFullName(), BY_TYPE.keySet()));
        }
        Schema reader = currentSchema(typeOf(writer.getFullName()));
        var compatibility = SchemaCompatibility.checkReaderWriterCompatibility(reader, writer);
        if (compatibility.getType() != SchemaCompatibility.SchemaCompatibilityType.COMPATIBLE) {
            throw new IllegalArgumentException("writer schema %s (fingerprint %s) cannot be read as the current %s: %s"
                    .formatted(writer.getFullName(), RecordDecodingException.hex(SchemaNormalization.parsingFingerprint64(writer)),
                            reader.getName(), compatibility.getResult().getIncompatibilities()));
        }
        long fingerprint = SchemaNormalization.parsingFingerprint64(writer);
        known.putIfAbsent(fingerprint, writer);
        return fingerprint;
    }

    /** The writer schema of {@code type} with this fingerprint, if known. */
    public static Optional<Schema> find(Class<? extends SpecificRecord> type, long fingerprint) {
        ConcurrentMap<Long, Schema> known = BY_TYPE.get(currentSchema(type).getFullName());
        return known == null ? Optional.empty() : Optional.ofNullable(known.get(fingerprint));
    }

    /** Full name of the type whose known schemas include this fingerprint (for 'wrong type' errors). */
    public static Optional<String> typeWithFingerprint(long fingerprint) {
        return BY_TYPE.entrySet().stream()
                .filter(e -> e.getValue().containsKey(fingerprint))
                .map(Map.Entry::getKey)
                .findFirst();
    }

    /** Fingerprints of every schema of {@code type} known now. */
    public static List<Long> knownFingerprints(Class<? extends SpecificRecord> type) {
        ConcurrentMap<Long, Schema> known = BY_TYPE.get(currentSchema(type).getFullName());
        return known == null ? List.of() : List.copyOf(known.keySet());
    }

    /** Avro's {@link SchemaStore} view for one type, as {@code BinaryMessageDecoder} wants it. */
    public static SchemaStore store(Class<? extends SpecificRecord> type) {
        return fingerprint -> find(type, fingerprint).orElse(null);
    }

    /** The historical schemas of {@code type} shipped on the classpath, oldest first. */
    public static List<Schema> history(Class<? extends SpecificRecord> type) {
        String dir = HISTORY_ROOT + type.getSimpleName() + "/";
        List<Schema> versions = new ArrayList<>();
        ClassLoader loader = WriterSchemas.class.getClassLoader();
        for (int version = 1; ; version++) {
            String path = dir + "v" + version + ".avsc";
            try (InputStream in = loader.getResourceAsStream(path)) {
                if (in == null) {
                    return Collections.unmodifiableList(versions);
                }
                versions.add(new Schema.Parser().parse(new String(in.readAllBytes(), StandardCharsets.UTF_8)));
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read writer-schema resource " + path, e);
            } catch (SchemaParseException e) {
                throw new IllegalStateException("writer-schema resource " + path + " is not a valid schema: " + e.getMessage(), e);
            }
        }
    }

    static Schema currentSchema(Class<? extends SpecificRecord> type) {
        return SpecificData.getForClass(type).getSchema(type);
    }

    private static Class<? extends SpecificRecord> typeOf(String fullName) {
        return TOPIC_VALUE_TYPES.stream()
                .filter(t -> t.getName().equals(fullName))
                .findFirst()
                .orElseThrow(() -> new IllegalStateException("no class for known type " + fullName));
    }
}
