package dev.rlkafka.schemas.serde;

import dev.rlkafka.schemas.Samples;
import dev.rlkafka.schemas.avro.Reward;

import java.nio.ByteBuffer;

/**
 * Run by {@link AvroTrustTest} in a fresh JVM without Avro's trust properties: shows plain Avro
 * refusing our classes, then our serde reading them with no setup (its static init trusts them).
 * Prints one line per step; exits non-zero on the first surprise.
 */
public final class FreshJvmProbe {
    public static void main(String[] args) throws Exception {
        if (System.getProperty("org.apache.avro.SERIALIZABLE_PACKAGES") != null) {
            fail("the property is set; this probe must run without it");
        }
        Reward sample = Samples.reward();
        ByteBuffer bytes = sample.toByteBuffer();  // writing needs no trust
        try {
            Reward.fromByteBuffer(bytes.duplicate());
            fail("plain Avro read our class before any setup; the probe proves nothing");
        } catch (SecurityException expected) {
            System.out.println("plain avro refused: " + expected.getMessage().lines().findFirst().orElse(""));
        }
        byte[] raw = new byte[bytes.remaining()];
        bytes.duplicate().get(raw);
        Reward read = RlSerdes.reward().deserializer().deserialize("rl.rewards", raw);
        if (!sample.equals(read)) {
            fail("serde read " + read + ", expected " + sample);
        }
        System.out.println("serde read the record");
        if (!AvroTrust.isTrusted(java.lang.String.class) || !AvroTrust.isTrusted(java.math.BigDecimal.class)) {
            fail("the JDK defaults are no longer trusted");
        }
        if (AvroTrust.isTrusted(java.util.ArrayList.class)) {
            fail("trust widened beyond our package: java.util.ArrayList is trusted");
        }
        System.out.println("jdk defaults kept");
    }

    private static void fail(String message) {
        System.out.println("FAIL: " + message);
        System.exit(1);
    }
}
