package dev.rlkafka.schemas.serde;

import org.apache.avro.util.ClassSecurityValidator;
import org.apache.avro.util.ClassSecurityValidator.ClassSecurityPredicate;

/**
 * Lets Avro instantiate our generated classes, so that no user has to set a system property.
 *
 * <p>Avro 1.12.2 refuses to load a class for a schema unless it is trusted (AVRO-4189): by default
 * only a few {@code java.lang}/{@code java.math} types plus what the system properties
 * {@code org.apache.avro.SERIALIZABLE_PACKAGES}/{@code SERIALIZABLE_CLASSES} name. We add exactly
 * {@value #TRUSTED_PACKAGE} on top of whatever predicate is in force, so the JDK defaults, the
 * properties and any predicate an application installed before us keep working. {@link RecordCodec}
 * calls {@link #install()} in its static initialiser; code that reads our records with Avro's own
 * API (e.g. {@code Reward.fromByteBuffer}) without going through a codec calls it itself.
 */
public final class AvroTrust {
    /** The package of the classes avro-maven-plugin generates from {@code src/main/avro}. */
    public static final String TRUSTED_PACKAGE = "dev.rlkafka.schemas.avro";

    private static final ClassSecurityPredicate OURS =
            type -> type.getName().startsWith(TRUSTED_PACKAGE + ".");

    private AvroTrust() {
    }

    /** Adds our package to Avro's global trust predicate; idempotent and thread-safe. */
    public static synchronized void install() {
        if (isTrusted(dev.rlkafka.schemas.avro.Reward.class)) {
            return;  // already installed, or trusted through the system property
        }
        ClassSecurityPredicate previous = ClassSecurityValidator.getGlobal();
        ClassSecurityValidator.setGlobal(ClassSecurityValidator.composite(previous, OURS));
    }

    /** Whether Avro's current global predicate lets it instantiate {@code type}. */
    public static boolean isTrusted(Class<?> type) {
        return ClassSecurityValidator.getGlobal().isTrusted(type);
    }
}
