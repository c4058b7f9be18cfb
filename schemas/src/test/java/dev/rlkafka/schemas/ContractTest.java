package dev.rlkafka.schemas;

import dev.rlkafka.schemas.serde.WriterSchemas;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.SchemaNormalization;
import org.apache.avro.specific.SpecificRecord;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

class ContractTest {
    // surefire runs in the module directory
    private static final Path AVSC_DIR = Path.of("src/main/avro");
    private static final Path HISTORY_DIR = Path.of("src/main/resources/dev/rlkafka/schemas/history");

    @Test
    void everyAvscFileIsShippedVerbatimInDependencyOrder() throws IOException {
        Map<String, String> shipped = Contract.schemas();
        List<String> onDisk;
        try (Stream<Path> files = Files.list(AVSC_DIR)) {
            onDisk = files.map(p -> p.getFileName().toString().replace(".avsc", "")).sorted().toList();
        }
        assertEquals(onDisk, shipped.keySet().stream().sorted().toList(), "Contract.NAMES vs src/main/avro");
        for (var entry : shipped.entrySet()) {
            assertEquals(Files.readString(AVSC_DIR.resolve(entry.getKey() + ".avsc")), entry.getValue(), entry.getKey());
        }
        // in this order one parser accepts them all: each file only names types defined before it
        Schema.Parser parser = new Schema.Parser();
        shipped.values().forEach(parser::parse);
    }

    @Test
    void fingerprintIsTheParsingFingerprintOfTheShippedFile() {
        Schema.Parser parser = new Schema.Parser();
        Map<String, Schema> parsed = new java.util.HashMap<>();
        Contract.schemas().forEach((name, text) -> parsed.put(name, parser.parse(text)));
        for (Class<? extends SpecificRecord> type : WriterSchemas.TOPIC_VALUE_TYPES) {
            long fromFile = SchemaNormalization.parsingFingerprint64(parsed.get(type.getSimpleName()));
            assertEquals(fromFile, Contract.fingerprint(type), type.getSimpleName());
            assertEquals("0x%016x".formatted(fromFile), Contract.fingerprintHex(type));
        }
    }

    /** Fails when an .avsc changed without its new version being added to the history. */
    @Test
    void theNewestHistoryVersionOfEveryTypeIsTheCurrentSchema() {
        for (Class<? extends SpecificRecord> type : WriterSchemas.TOPIC_VALUE_TYPES) {
            List<Schema> history = WriterSchemas.history(type);
            assertFalse(history.isEmpty(), "no history for " + type.getSimpleName());
            assertEquals(Contract.fingerprint(type), SchemaNormalization.parsingFingerprint64(history.get(history.size() - 1)),
                    "add src/main/resources/" + "dev/rlkafka/schemas/history/" + type.getSimpleName() + "/v"
                            + (history.size() + 1) + ".avsc with the changed schema (self-contained)");
        }
    }

    @Test
    void everyHistoricalSchemaIsReadableByTheCurrentClass() {
        for (Class<? extends SpecificRecord> type : WriterSchemas.TOPIC_VALUE_TYPES) {
            for (Schema old : WriterSchemas.history(type)) {
                var result = SchemaCompatibility.checkReaderWriterCompatibility(Contract.schema(type), old);
                assertEquals(SchemaCompatibility.SchemaCompatibilityType.COMPATIBLE, result.getType(),
                        type.getSimpleName() + ": " + result.getResult().getIncompatibilities());
            }
        }
    }

    @Test
    void historyFilesAreNumberedWithoutGaps() throws IOException {
        // the loader stops at the first missing vN, so a gap would silently drop later versions
        for (Class<? extends SpecificRecord> type : WriterSchemas.TOPIC_VALUE_TYPES) {
            List<String> files = new ArrayList<>();
            try (Stream<Path> list = Files.list(HISTORY_DIR.resolve(type.getSimpleName()))) {
                list.forEach(p -> files.add(p.getFileName().toString()));
            }
            List<String> expected = IntStream.rangeClosed(1, files.size()).mapToObj(i -> "v" + i + ".avsc").toList();
            assertEquals(expected, files.stream().sorted(java.util.Comparator.comparingInt(ContractTest::version)).toList(),
                    type.getSimpleName());
        }
    }

    private static int version(String file) {
        try {
            return Integer.parseInt(file.substring(1, file.indexOf('.')));
        } catch (RuntimeException e) {
            return Integer.MAX_VALUE;  // a stray file sorts last and fails the comparison by name
        }
    }
}
