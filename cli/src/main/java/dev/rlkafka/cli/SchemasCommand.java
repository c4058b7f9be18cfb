package dev.rlkafka.cli;

import dev.rlkafka.schemas.Contract;
import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

import java.util.Map;
import java.util.concurrent.Callable;

/** Prints the Avro contract for people writing scorers or consumers in other languages. */
@Command(name = "schemas", mixinStandardHelpOptions = true,
        description = "Print the Avro schemas (.avsc) that are the topic contract. Records are Avro "
                + "single-object encoded: bytes C3 01, the 8-byte little-endian CRC-64-AVRO fingerprint "
                + "of the writer schema, then the Avro binary body. Each schema is printed after a comment line "
                + "with its fingerprint and the header bytes, to check a scorer's framing against; docs/scorers.md "
                + "explains the format.")
final class SchemasCommand implements Callable<Integer> {
    @Parameters(arity = "0..*", paramLabel = "NAME",
            description = "Only these records (e.g. Rollout Reward); default: all of them.")
    java.util.List<String> names = java.util.List.of();

    @Override
    public Integer call() {
        Map<String, String> schemas = Contract.schemas();
        for (String name : names) {
            if (!schemas.containsKey(name)) {
                System.err.println("unknown schema '" + name + "'; known: " + schemas.keySet());
                return 2;
            }
        }
        schemas.forEach((name, json) -> {
            if (names.isEmpty() || names.contains(name)) {
                long fingerprint = SchemaNormalization.parsingFingerprint64(new Schema.Parser().parse(json));
                System.out.printf("// %s.avsc  fingerprint 0x%016x, so each record starts %s%n", name, fingerprint, header(fingerprint));
                System.out.println(json.strip());
                System.out.println();
            }
        });
        return 0;
    }

    /** The single-object header: marker, then the fingerprint little-endian. */
    static String header(long fingerprint) {
        StringBuilder hex = new StringBuilder("c3 01");
        for (int i = 0; i < 8; i++) hex.append(String.format(" %02x", (fingerprint >>> (8 * i)) & 0xff));
        return hex.toString();
    }
}
