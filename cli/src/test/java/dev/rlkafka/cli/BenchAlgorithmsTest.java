package dev.rlkafka.cli;

import ai.djl.Device;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.rlkafka.policy.model.ModelConfig;
import dev.rlkafka.policy.task.Tasks;
import dev.rlkafka.policy.train.Algorithm;
import dev.rlkafka.policy.train.PpoUpdater;
import dev.rlkafka.policy.train.UpdaterConfig;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The bench's table and JSON from a hand-made result, and the trainer command's per-algorithm settings. */
class BenchAlgorithmsTest {

    private static BenchAlgorithms.Result result() {
        BenchAlgorithms.Settings settings = new BenchAlgorithms.Settings(Tasks.byName("arithmetic"), ModelConfig.DEFAULT, Device.cpu(),
                1500, List.of(Algorithm.GRPO, Algorithm.DPO), 300, 3e-4, 16, 8, 2, 40, 25, 500, Path.of("unused"));
        BenchAlgorithms.Eval reached = new BenchAlgorithms.Eval(75, 40.5, 0.91);
        return new BenchAlgorithms.Result(settings, 90.0, 0.49, 0.99, 0.89, List.of(
                new BenchAlgorithms.Run(Algorithm.GRPO, 300, 150.2, 2100, 2100, 480, List.of(new BenchAlgorithms.Eval(25, 12.0, 0.7), reached),
                        reached, 0.98, 1.0, 0.0123, 1.08),
                new BenchAlgorithms.Run(Algorithm.DPO, 300, 120.0, 150, 2400, 390, List.of(), null, 0.85, 0.99, 0.2, 0.95)));
    }

    @Test
    void tableHasARowPerAlgorithmAndMarksATargetNotReached() {
        String table = BenchAlgorithms.table(result());
        String grpo = table.lines().filter(l -> l.startsWith("grpo ")).findFirst().orElseThrow();
        String dpo = table.lines().filter(l -> l.startsWith("dpo ")).findFirst().orElseThrow();
        assertTrue(grpo.contains("98.0") && grpo.contains("40.5 s") && grpo.contains(" 75 ") && grpo.contains("0.0123"), grpo);
        assertTrue(dpo.contains(">120.0 s") && dpo.contains(">300") && dpo.contains(" 150 ") && dpo.contains(" 2400 "), dpo);
    }

    @Test
    void jsonParsesWithEveryRun() throws Exception {
        JsonNode json = new ObjectMapper().readTree(BenchAlgorithms.json(result()));
        assertEquals(2, json.get("runs").size());
        assertEquals("grpo", json.get("runs").get(0).get("algorithm").asText());
        assertEquals(75, json.get("runs").get(0).get("reachedStep").asInt());
        assertEquals(2400, json.get("runs").get(1).get("rolloutTokensPerSecond").asDouble(), 1e-9);
        assertTrue(json.get("runs").get(1).get("reachedStep").isNull());
        assertEquals(0.49, json.get("sft").get("heldoutSampledAccuracy").asDouble(), 1e-9);
    }

    @Test
    void trainerUpdateTakesEachAlgorithmsDefaultsAndACriticLrOnlyForPpo() {
        UpdaterConfig ppo = TrainerCommand.update(Algorithm.PPO, 2e-4, null, 1e-3, 100);
        assertEquals(1e-3, ((PpoUpdater.Config) ppo).criticOptimizer().lr());
        assertEquals(100, ppo.decaySteps());
        UpdaterConfig dpo = TrainerCommand.update(Algorithm.DPO, 2e-4, null, null, 0);
        assertEquals(Algorithm.DPO, dpo.algorithm());
        var e = assertThrows(IllegalArgumentException.class, () -> TrainerCommand.update(Algorithm.GRPO, 2e-4, 0.1, 1e-3, 0));
        assertTrue(e.getMessage().contains("--critic-lr is for --algorithm ppo"), e.getMessage());
    }
}
