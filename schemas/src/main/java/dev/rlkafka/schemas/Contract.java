package dev.rlkafka.schemas;

import dev.rlkafka.schemas.serde.RecordDecodingException;
import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificRecord;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The Avro contract as shipped in this jar: the {@code .avsc} files and their fingerprints, for
 * people writing producers or scorers in other languages ({@code rlkafka schemas}).
 */
public final class Contract {
    /** Where the build copies {@code src/main/avro} inside the jar. */
    static final String RESOURCE_DIR = "dev/rlkafka/schemas/contract/";

    /** Every schema file's name, ordered so each only refers to names defined before it. */
    public static final List<String> NAMES = List.of(
            "SamplingParams", "Prompt", "Rollout", "Reward", "ScoredGroup", "WeightChunk", "Metric", "DeadLetter");

    private Contract() {
    }

    /**
     * The {@code .avsc} texts as written (docs included), name → JSON, in {@link #NAMES} order: parse
     * them in this order with one parser, since Rollout uses SamplingParams and ScoredGroup uses Rollout.
     */
    public static Map<String, String> schemas() {
        Map<String, String> texts = new LinkedHashMap<>();
        ClassLoader loader = Contract.class.getClassLoader();
        for (String name : NAMES) {
            String path = RESOURCE_DIR + name + ".avsc";
            try (InputStream in = loader.getResourceAsStream(path)) {
                if (in == null) {
                    throw new IllegalStateException("contract file " + path + " is missing from the class path (packaging bug)");
                }
                texts.put(name, new String(in.readAllBytes(), StandardCharsets.UTF_8));
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read contract file " + path, e);
            }
        }
        return Collections.unmodifiableMap(texts);
    }

    /** The self-contained schema of a generated type (nested types inlined), as written on the wire. */
    public static Schema schema(Class<? extends SpecificRecord> type) {
        return SpecificData.getForClass(type).getSchema(type);
    }

    /** CRC-64-AVRO fingerprint of the type's Parsing Canonical Form: bytes 2..9 (little-endian) of its single-object records. */
    public static long fingerprint(Class<? extends SpecificRecord> type) {
        return SchemaNormalization.parsingFingerprint64(schema(type));
    }

    /** {@link #fingerprint} as {@code 0x} + 16 hex digits, as our error messages print it. */
    public static String fingerprintHex(Class<? extends SpecificRecord> type) {
        return RecordDecodingException.hex(fingerprint(type));
    }
}
