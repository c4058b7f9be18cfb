package dev.rlkafka.cli;

import dev.rlkafka.schemas.Contract;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

import java.util.Map;
import java.util.concurrent.Callable;

/** Prints the Avro contract for people writing scorers or consumers in other languages. */
@Command(name = "schemas", mixinStandardHelpOptions = true,
        description = "Print the Avro schemas (.avsc) that are the topic contract. Records are Avro "
                + "single-object encoded: bytes C3 01, the 8-byte little-endian CRC-64-AVRO fingerprint "
                + "of the writer schema, then the Avro binary body.")
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
                System.out.println("// " + name + ".avsc");
                System.out.println(json.strip());
                System.out.println();
            }
        });
        return 0;
    }
}
