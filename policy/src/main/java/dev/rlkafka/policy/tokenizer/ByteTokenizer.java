package dev.rlkafka.policy.tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/** Byte-level tokenizer: ids 0..255 are UTF-8 bytes, then three special tokens. */
public final class ByteTokenizer {

    public static final int BOS = 256;
    public static final int EOS = 257;
    public static final int PAD = 258;
    public static final int VOCAB_SIZE = 259;

    private ByteTokenizer() {}

    /** UTF-8 bytes of {@code text} as ids 0..255; no special tokens. */
    public static int[] encode(String text) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        int[] ids = new int[bytes.length];
        for (int i = 0; i < bytes.length; i++) ids[i] = bytes[i] & 0xFF;
        return ids;
    }

    /** BOS followed by the bytes of {@code prompt}: what the sampler is conditioned on. */
    public static int[] encodePrompt(String prompt) {
        int[] bytes = encode(prompt);
        int[] ids = new int[bytes.length + 1];
        ids[0] = BOS;
        System.arraycopy(bytes, 0, ids, 1, bytes.length);
        return ids;
    }

    /**
     * Bytes of {@code ids} decoded as UTF-8; special tokens are dropped (decoding does not stop at EOS).
     * A sampled byte sequence may be invalid UTF-8: such bytes become U+FFFD, as in {@link String#String(byte[], java.nio.charset.Charset)}.
     */
    public static String decode(int[] ids) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(ids.length);
        for (int id : ids) {
            if (id < 0 || id >= VOCAB_SIZE) {
                throw new IllegalArgumentException("token id must be in [0, " + VOCAB_SIZE + "), got " + id);
            }
            if (id < 256) out.write(id);
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    public static boolean isSpecial(int id) {
        return id >= 256;
    }
}
