package dev.rlkafka.policy.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import dev.rlkafka.policy.model.ModelConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PolicyBenchTest {

    @Test
    void smallRunReportsEveryMeasureAndWritesJson(@TempDir Path dir) throws Exception {
        var config = new PolicyBench.Config(new ModelConfig(259, 16, 32, 1, 2), Device.cpu(), 4, 3, 1, 1, 1);
        PolicyBench.Result result = PolicyBench.run(config);
        assertEquals(config.model().parameterCount(), result.parameters());
        assertTrue(result.sampleTokensPerSecCached() > 0 && result.sampleTokensPerSecRecompute() > 0);
        assertTrue(result.trainTokensPerSec() > 0 && result.matmulFlopsPerSec() > 0);
        // 6N + 12·L·C·T with T the mean sequence length, at most the context
        double n = result.parameters();
        assertTrue(result.trainFlopsPerToken() > 6 * n && result.trainFlopsPerToken() <= 6 * n + 12 * 1 * 32 * 16);
        Path json = dir.resolve("bench.json");
        result.writeJson(json);
        String text = Files.readString(json);
        assertTrue(text.startsWith("{\"vocabSize\": 259, \"contextLength\": 16, \"width\": 32"), text);
        assertTrue(text.contains("\"cacheSpeedup\": ") && text.contains("\"trainFlopsFraction\": "), text);
        assertTrue(result.table().contains("KV cache speedup"), result.table());
    }
}
