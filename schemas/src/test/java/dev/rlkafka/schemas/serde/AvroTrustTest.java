package dev.rlkafka.schemas.serde;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AvroTrustTest {

    /**
     * In this JVM other tests have long since loaded the serde, so only a fresh JVM shows that its
     * static init alone makes Avro 1.12.2 accept our generated classes (no property, no call).
     */
    @Test
    void aFreshJvmReadsOurRecordsThroughTheSerdeWithoutAnyAvroProperty() throws IOException, InterruptedException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        // surefire's class path may be a manifest-only jar; passing it on works either way
        Process process = new ProcessBuilder(List.of(java, "-cp", System.getProperty("java.class.path"),
                FreshJvmProbe.class.getName()))
                .redirectErrorStream(true)
                .start();
        boolean finished = process.waitFor(60, TimeUnit.SECONDS);
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!finished) {
            process.destroyForcibly();
        }
        assertTrue(finished, "probe JVM did not finish in 60 s; output so far:\n" + output);
        assertEquals(0, process.exitValue(), "probe JVM failed:\n" + output);
        assertTrue(output.contains("plain avro refused: Forbidden dev.rlkafka.schemas.avro.Reward"), output);
        assertTrue(output.contains("serde read the record"), output);
        assertTrue(output.contains("jdk defaults kept"), output);
    }

    @Test
    void installIsIdempotentAndTrustsOnlyOurPackage() {
        AvroTrust.install();
        var predicate = org.apache.avro.util.ClassSecurityValidator.getGlobal();
        AvroTrust.install();

        assertTrue(predicate == org.apache.avro.util.ClassSecurityValidator.getGlobal(), "second install changed the predicate");
        assertTrue(AvroTrust.isTrusted(dev.rlkafka.schemas.avro.ScoredGroup.class));
        assertTrue(AvroTrust.isTrusted(dev.rlkafka.schemas.avro.FinishReason.class));
        assertTrue(!AvroTrust.isTrusted(java.io.File.class), "java.io.File must stay untrusted");
    }
}
