package dev.rlkafka.policy.weights;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import dev.rlkafka.policy.model.ModelConfig;
import dev.rlkafka.policy.model.Policy;
import dev.rlkafka.schemas.Sha256;

import java.io.File;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WeightCodecTest {

    static final ModelConfig TINY = new ModelConfig(259, 16, 32, 2, 4);

    @Test
    void roundTripIsExact() {
        try (Policy a = Policy.create(TINY, Device.cpu(), 1); Policy b = WeightCodec.decode(WeightCodec.encode(a), Device.cpu())) {
            assertEquals(TINY, b.config());
            a.weightsSnapshot().forEach((name, values) -> assertArrayEquals(values, b.weightsSnapshot().get(name), name));
            assertArrayEquals(WeightCodec.encode(a), WeightCodec.encode(b));
        }
    }

    @Test
    void loadIntoHotSwapsALivePolicyInPlace() {
        try (Policy live = Policy.create(TINY, Device.cpu(), 1); Policy next = Policy.create(TINY, Device.cpu(), 2)) {
            var wteArray = live.parameters().get("wte").getArray();
            double before = DecodeMain.logitsSum(live);
            WeightCodec.loadInto(live, WeightCodec.encode(next));
            assertTrue(wteArray == live.parameters().get("wte").getArray(), "same array object: swapped in place");
            assertEquals(DecodeMain.logitsSum(next), DecodeMain.logitsSum(live), 1e-9);
            assertNotEquals(before, DecodeMain.logitsSum(live));
        }
    }

    @Test
    void loadIntoWorksOnAFreshThreadWhereGradModeIsOn() throws Exception {
        try (Policy live = Policy.create(TINY, Device.cpu(), 1); Policy next = Policy.create(TINY, Device.cpu(), 2)) {
            byte[] bytes = WeightCodec.encode(next);
            Throwable[] failure = new Throwable[1];
            Thread t = new Thread(() -> {
                try {
                    WeightCodec.loadInto(live, bytes);
                } catch (Throwable e) {
                    failure[0] = e;
                }
            });
            t.start();
            t.join(30_000);
            assertEquals(null, failure[0]);
            assertArrayEquals(bytes, WeightCodec.encode(live));
        }
    }

    @Test
    void roundTripInAnotherJvmGivesTheSameWeightsAndLogits(@TempDir Path dir) throws Exception {
        try (Policy policy = Policy.create(TINY, Device.cpu(), 9)) {
            byte[] bytes = WeightCodec.encode(policy);
            Path file = dir.resolve("weights.bin");
            Files.write(file, bytes);
            String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
            Process p = new ProcessBuilder(java, "-Dai.djl.offline=true", "-cp", System.getProperty("java.class.path"),
                    DecodeMain.class.getName(), file.toString())
                    .redirectError(ProcessBuilder.Redirect.DISCARD).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), "child JVM did not finish");
            assertEquals(0, p.exitValue(), "child output: " + out);
            List<String> lines = out.lines().filter(l -> l.contains("=")).toList();
            assertTrue(lines.contains("sha256=" + Sha256.hex(bytes)), "child printed " + out);
            double childSum = Double.parseDouble(lines.stream().filter(l -> l.startsWith("logitsSum=")).findFirst()
                    .orElseThrow().substring("logitsSum=".length()));
            assertEquals(DecodeMain.logitsSum(policy), childSum, 1e-6 * Math.max(1, Math.abs(childSum)));
        }
    }

    @Test
    void badMagicIsReported() {
        byte[] bytes = "not weights at all, just text".getBytes(StandardCharsets.UTF_8);
        var e = assertThrows(IllegalArgumentException.class, () -> WeightCodec.decode(bytes, Device.cpu()));
        assertTrue(e.getMessage().startsWith("bad magic 0x"), e.getMessage());
    }

    @Test
    void truncatedBytesNameTheParameter() {
        try (Policy policy = Policy.create(TINY, Device.cpu(), 1)) {
            byte[] bytes = WeightCodec.encode(policy);
            byte[] cut = Arrays.copyOf(bytes, bytes.length - 10);
            var e = assertThrows(IllegalArgumentException.class, () -> WeightCodec.loadInto(policy, cut));
            assertTrue(e.getMessage().startsWith("truncated parameter bytes: ran out at parameter lnF.beta"), e.getMessage());
        }
    }

    @Test
    void wrongConfigIsRejectedBeforeAnythingIsWritten() {
        try (Policy small = Policy.create(TINY, Device.cpu(), 1);
             Policy wide = Policy.create(new ModelConfig(259, 16, 64, 2, 4), Device.cpu(), 1)) {
            byte[] before = WeightCodec.encode(small);
            var e = assertThrows(IllegalArgumentException.class, () -> WeightCodec.loadInto(small, WeightCodec.encode(wide)));
            assertTrue(e.getMessage().startsWith("weights are for ModelConfig[vocabSize=259, contextLength=16, width=64"), e.getMessage());
            assertArrayEquals(before, WeightCodec.encode(small));
        }
    }

    @Test
    void wrongShapeNamesTheParameterAndBothShapes() {
        try (Policy policy = Policy.create(TINY, Device.cpu(), 1)) {
            byte[] bytes = WeightCodec.encode(policy);
            // the first parameter is wte (259, 32): rewrite its dims to (32, 259), same byte count
            ByteBuffer buf = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
            int dims = 8 + 20 + 4 + 4 + "wte".length() + 4;
            assertEquals(259, buf.getLong(dims));
            buf.putLong(dims, 32).putLong(dims + 8, 259);
            var e = assertThrows(IllegalArgumentException.class, () -> WeightCodec.loadInto(policy, bytes));
            assertEquals("parameter wte has shape (32, 259) in the weight bytes but (259, 32) in the policy", e.getMessage());
        }
    }
}
