package dev.rlkafka.policy.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Random;
import org.junit.jupiter.api.Test;

class ByteTokenizerTest {

    @Test
    void asciiEncodesToItsBytes() {
        assertArrayEquals(new int[] {'1', '2', '+', '3', '='}, ByteTokenizer.encode("12+3="));
    }

    @Test
    void promptStartsWithBos() {
        assertArrayEquals(new int[] {ByteTokenizer.BOS, 'h', 'i'}, ByteTokenizer.encodePrompt("hi"));
    }

    @Test
    void multiByteCharactersRoundTrip() {
        for (String s : new String[] {"", "héllo", "数学 12+3=15", "🙂 emoji 👍🏽", "tab\tnewline\n", "\u0000nul"}) {
            assertEquals(s, ByteTokenizer.decode(ByteTokenizer.encode(s)), s);
        }
        assertEquals(4, ByteTokenizer.encode("🙂").length, "emoji is 4 UTF-8 bytes");
    }

    @Test
    void randomStringsRoundTrip() {
        Random random = new Random(7);
        for (int n = 0; n < 1000; n++) {
            StringBuilder sb = new StringBuilder();
            int len = random.nextInt(20);
            while (sb.codePointCount(0, sb.length()) < len) {
                int cp = random.nextInt(Character.MAX_CODE_POINT + 1);
                if (Character.isSurrogate((char) cp) && cp <= 0xFFFF) continue;   // lone surrogates are not UTF-8 encodable
                sb.appendCodePoint(cp);
            }
            String s = sb.toString();
            assertEquals(s, ByteTokenizer.decode(ByteTokenizer.encode(s)));
        }
    }

    @Test
    void decodeDropsSpecialTokensWithoutStopping() {
        int[] ids = {ByteTokenizer.BOS, 'a', ByteTokenizer.EOS, 'b', ByteTokenizer.PAD};
        assertEquals("ab", ByteTokenizer.decode(ids));
    }

    @Test
    void decodeRejectsIdsOutsideTheVocabulary() {
        var e = assertThrows(IllegalArgumentException.class, () -> ByteTokenizer.decode(new int[] {259}));
        assertEquals("token id must be in [0, 259), got 259", e.getMessage());
    }
}
