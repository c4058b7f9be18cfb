package dev.rlkafka.schemas;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class Sha256Test {

    @Test
    void knownDigests() {
        // FIPS 180-2 examples
        assertEquals("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", Sha256.hex(new byte[0]));
        assertEquals("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
                Sha256.hex("abc".getBytes(StandardCharsets.US_ASCII)));
    }

    @Test
    void agreesWithTheJdkOnAWeightSizedArray() throws Exception {
        byte[] weights = new byte[684_451];   // the default model's encoded size: many blocks and a partial one
        new Random(7).nextBytes(weights);
        String jdk = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(weights));
        assertEquals(jdk, Sha256.hex(weights));
    }

    @Test
    void isNativeOnLinuxX8664() {
        assumeTrue(System.getProperty("os.name").startsWith("Linux") && System.getProperty("os.arch").equals("amd64"),
                "the native digest ships for Linux x86-64 only");
        assertTrue(Sha256.implementation().startsWith("native"), Sha256.implementation());
    }
}
