package dev.rlkafka.trainer;

import dev.rlkafka.policy.loss.DpoConfig;
import dev.rlkafka.policy.train.Algorithm;
import dev.rlkafka.policy.train.DpoUpdater;
import dev.rlkafka.policy.train.PpoUpdater;
import dev.rlkafka.schemas.KafkaClientConfig;
import dev.rlkafka.schemas.TopicSpec;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TrainerConfigTest {
    private static final TrainerConfig DEFAULTS = TrainerConfig.defaults("localhost:9092", Path.of("ckpt"), Path.of("sft.ckpt"));

    @Test
    void defaultsAreTheDocumentedOnes() {
        assertEquals(8, DEFAULTS.batchGroups());
        assertEquals(1, DEFAULTS.stepsPerVersion());
        assertEquals(2, DEFAULTS.maxStaleness());
        assertEquals(1e-4, DEFAULTS.update().optimizer().lr());
        assertEquals(Algorithm.GRPO, DEFAULTS.algorithm());
        assertEquals(TopicSpec.WEIGHT_CHUNK_BYTES, DEFAULTS.weightChunkBytes());
        assertEquals(0, DEFAULTS.maxSteps());
        assertFalse(DEFAULTS.stopAtEnd());
        assertEquals(Path.of("ckpt", "trainer.ckpt"), DEFAULTS.checkpointPath());
        assertEquals("rlkafka-trainer-trainer", DEFAULTS.transactionalId());
    }

    @Test
    void theClustersClientSettingsReachBothClientsAndTheTrainersOwnWin() {
        TrainerConfig config = DEFAULTS.withClientConfig(new KafkaClientConfig(Map.of("security.protocol", "SASL_SSL",
                "max.request.size", "1024")));
        var consumer = TrainerService.consumerProperties(config);
        var producer = TrainerService.producerProperties(config);
        assertEquals("SASL_SSL", consumer.get("security.protocol"));
        assertEquals("SASL_SSL", producer.get("security.protocol"));
        assertEquals("read_committed", consumer.get("isolation.level"));
        assertEquals(config.transactionalId(), producer.get("transactional.id"));
        assertTrue((int) producer.get("max.request.size") > 1024, "sized for the weight chunks, whatever the file says");
    }

    @Test
    void badValuesAreRejectedNamingSettingAndValue() {
        assertEquals("batchGroups must be >= 1, got 0",
                assertThrows(IllegalArgumentException.class, () -> DEFAULTS.withBatching(0, 1, 2)).getMessage());
        assertEquals("maxStaleness must be >= 0, got -3",
                assertThrows(IllegalArgumentException.class, () -> DEFAULTS.withBatching(8, 1, -3)).getMessage());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> DEFAULTS.withWeightChunkBytes(TopicSpec.WEIGHT_CHUNK_BYTES + 1))
                .getMessage().startsWith("weightChunkBytes must be in [1, "));
        assertEquals("checkpointDir is required", assertThrows(IllegalArgumentException.class,
                () -> TrainerConfig.defaults("localhost:9092", null, Path.of("sft.ckpt"))).getMessage());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> DEFAULTS.withTrainerId("a b")).getMessage().contains("'a b'"));
    }

    @Test
    void mainParsesItsOptionsAndNamesBadOnes() {
        TrainerConfig config = TrainerMain.parse(new String[] {"--bootstrap", "b:1", "--checkpoint-dir", "d", "--reference", "r",
                "--prefix", "run1.", "--batch-groups", "3", "--steps-per-version", "2", "--max-staleness", "5", "--lr", "0.001",
                "--max-steps", "7", "--stop-at-end"});
        assertEquals("run1.rl.scored-groups", config.topics().scoredGroups());
        assertEquals(3, config.batchGroups());
        assertEquals(2, config.stepsPerVersion());
        assertEquals(5, config.maxStaleness());
        assertEquals(0.001, config.update().optimizer().lr());
        assertEquals(7, config.maxSteps());
        assertTrue(config.stopAtEnd());
        assertEquals("option --reference is required", assertThrows(IllegalArgumentException.class,
                () -> TrainerMain.parse(new String[] {"--bootstrap", "b:1", "--checkpoint-dir", "d"})).getMessage());
        assertEquals("option --batch-groups must be an integer, got 'x'", assertThrows(IllegalArgumentException.class,
                () -> TrainerMain.parse(new String[] {"--bootstrap", "b", "--checkpoint-dir", "d", "--reference", "r", "--batch-groups", "x"}))
                .getMessage());
    }

    @Test
    void mainPicksTheAlgorithmWithItsDefaults() {
        String[] required = {"--bootstrap", "b:1", "--checkpoint-dir", "d", "--reference", "r"};
        TrainerConfig ppo = TrainerMain.parse(concat(required, "--algorithm", "ppo", "--lr", "0.0002"));
        assertEquals(Algorithm.PPO, ppo.algorithm());
        assertEquals(0.0002, ppo.update().optimizer().lr());
        assertEquals(0.0002 * PpoUpdater.Config.DEFAULT_CRITIC_LR_FACTOR, ((PpoUpdater.Config) ppo.update()).criticOptimizer().lr(), 1e-12);
        TrainerConfig dpo = TrainerMain.parse(concat(required, "--algorithm", "dpo"));
        assertEquals(DpoConfig.DEFAULT_BETA, ((DpoUpdater.Config) dpo.update()).loss().beta());
        assertEquals(TrainerConfig.DEFAULT_LR, dpo.update().optimizer().lr());
        assertEquals("unknown algorithm 'sac'; choose one of [grpo, ppo, dpo]", assertThrows(IllegalArgumentException.class,
                () -> TrainerMain.parse(concat(required, "--algorithm", "sac"))).getMessage());
    }

    @Test
    void mainReadsTheClustersClientSettings(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        java.nio.file.Path file = java.nio.file.Files.writeString(dir.resolve("cluster.properties"), "security.protocol=SASL_SSL\n");
        String[] required = {"--bootstrap", "b:1", "--checkpoint-dir", "d", "--reference", "r"};
        TrainerConfig config = TrainerMain.parse(concat(required, "--kafka-config", file.toString()));
        assertEquals("SASL_SSL", TrainerService.producerProperties(config).get("security.protocol"));
        var e = assertThrows(IllegalArgumentException.class, () -> TrainerMain.parse(concat(required, "--kafka-config", "absent.properties")));
        assertTrue(e.getMessage().contains("absent.properties"), e.getMessage());
    }

    private static String[] concat(String[] a, String... b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
