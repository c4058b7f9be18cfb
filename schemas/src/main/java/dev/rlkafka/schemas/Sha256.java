package dev.rlkafka.schemas;

import com.amazon.corretto.crypto.provider.AmazonCorrettoCryptoProvider;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.Provider;
import java.util.HexFormat;

/**
 * SHA-256 as lowercase hex, the checksum of every policy version on {@code rl.policy-weights}.
 *
 * <p>Computed natively by Amazon Corretto Crypto Provider where its library loads (Linux x86-64), else by
 * the JDK. Every version is hashed twice (trainer and each generator), and with the launcher's C1-only JIT
 * the JDK's digest is plain Java: 4.7 ms for the default model's 684 KB against 0.43 ms natively, about a
 * tenth of a core at the demo's version rate. The provider is used for this digest only, never installed.
 */
public final class Sha256 {
    private static final Logger log = LoggerFactory.getLogger(Sha256.class);
    private static final String ALGORITHM = "SHA-256";
    /** Null when the native library did not load: the JDK's provider serves. */
    private static final Provider NATIVE = nativeProvider();

    private Sha256() {
    }

    public static String hex(byte[] bytes) {
        try {
            MessageDigest digest = NATIVE != null ? MessageDigest.getInstance(ALGORITHM, NATIVE) : MessageDigest.getInstance(ALGORITHM);
            return HexFormat.of().formatHex(digest.digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("no " + ALGORITHM + " in " + implementation(), e);
        }
    }

    /** Which implementation {@link #hex} uses, for logs and benchmark reports. */
    public static String implementation() {
        return NATIVE != null ? "native (" + NATIVE.getName() + " " + NATIVE.getVersionStr() + ")" : "JDK";
    }

    private static Provider nativeProvider() {
        try {
            AmazonCorrettoCryptoProvider accp = AmazonCorrettoCryptoProvider.INSTANCE;
            if (accp.getLoadingError() == null) return accp;
            log.info("{} uses the JDK's digest: the native one did not load ({})", ALGORITHM, accp.getLoadingError().toString());
        } catch (LinkageError e) {
            log.info("{} uses the JDK's digest: the native one is not available ({})", ALGORITHM, e.toString());
        }
        return null;
    }
}
