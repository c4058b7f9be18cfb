package dev.rlkafka.cli;

import ai.djl.Device;
import dev.rlkafka.generator.GeneratorService;
import dev.rlkafka.kafka.KafkaExtension;
import dev.rlkafka.kafka.TestKafka;
import dev.rlkafka.policy.model.ModelConfig;
import dev.rlkafka.policy.model.Policy;
import dev.rlkafka.policy.optim.AdamWConfig;
import dev.rlkafka.policy.sampling.SamplingParams;
import dev.rlkafka.policy.task.ArithmeticTask;
import dev.rlkafka.policy.task.Task;
import dev.rlkafka.policy.tokenizer.ByteTokenizer;
import dev.rlkafka.policy.train.Algorithm;
import dev.rlkafka.policy.train.Evaluator;
import dev.rlkafka.policy.train.SftConfig;
import dev.rlkafka.policy.train.SftTrainer;
import dev.rlkafka.policy.weights.Checkpoint;
import dev.rlkafka.reward.RewardConfig;
import dev.rlkafka.reward.RewardService;
import dev.rlkafka.schemas.TopicAdmin;
import dev.rlkafka.schemas.Topics;
import dev.rlkafka.trainer.StepResult;
import dev.rlkafka.trainer.TrainerConfig;
import dev.rlkafka.trainer.TrainerService;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Each algorithm through the whole loop on a real broker — generator → reward-service → trainer → policy versions
 * → generator — from one SFT checkpoint: the reward of the rollouts the trainer consumes rises, and so does the
 * held-out accuracy of the last checkpoint. Single-digit sums and a small model keep SFT at about 20 s (shared by
 * the three runs); its demonstrations are half wrong, so SFT samples the right answer about half the time.
 */
@ExtendWith(KafkaExtension.class)
class AlgorithmsEndToEndTest {
    private static final Task TASK = new ArithmeticTask(1, 0.5);
    private static final ModelConfig SMALL = new ModelConfig(ByteTokenizer.VOCAB_SIZE, 16, 64, 2, 2);
    private static final int STEPS = 40;
    private static final int BATCH_GROUPS = 8;
    private static final int GROUP_SIZE = 8;
    private static final int MAX_STALENESS = 1;
    private static final int MAX_TOKENS = 4;
    private static final int EVAL_PROMPTS = 200;

    @TempDir
    static Path dir;
    private static Path sft;
    private static double sftAccuracy;

    @BeforeAll
    static void supervisedFineTuning() throws Exception {
        sft = dir.resolve("sft.ckpt");
        try (Policy policy = Policy.create(SMALL, Device.cpu(), 1)) {
            SftTrainer.train(policy, TASK, new SftConfig(400, 32, AdamWConfig.DEFAULT.withLr(3e-3), 10, 1.0, 1), null);
            Checkpoint.of(policy, 400, Map.of(), Map.of("task", TASK.name())).write(sft);
            sftAccuracy = heldOutAccuracy(policy);
        }
        assertTrue(sftAccuracy > 0.25 && sftAccuracy < 0.75, "SFT samples the right sum about half the time, got " + sftAccuracy);
    }

    private static double heldOutAccuracy(Policy policy) {
        return Evaluator.evaluate(policy, TASK, EVAL_PROMPTS, 7, SamplingParams.plain(7, MAX_TOKENS)).accuracy();
    }

    @ParameterizedTest
    @EnumSource(Algorithm.class)
    void rewardAndHeldOutAccuracyRiseOverKafka(Algorithm algorithm, TestKafka kafka) throws Exception {
        String bootstrap = kafka.bootstrapServers();
        Topics topics = Topics.withPrefix("algo-" + algorithm.id() + "-" + System.nanoTime() + ".");
        TopicAdmin.ensureTopics(bootstrap, topics, 2, (short) 1);
        Path runDir = dir.resolve(algorithm.id());
        TrainerConfig trainerConfig = TrainerCommand.config(bootstrap, topics, sft, runDir.resolve("trainer"), BATCH_GROUPS, 1, MAX_STALENESS,
                        TrainerCommand.update(algorithm, 3e-4, null, null, STEPS))
                .withDevice("cpu", 1).withStop(STEPS, false);
        List<StepResult> steps = new CopyOnWriteArrayList<>();

        try (RewardService reward = new RewardService(RewardConfig.defaults(bootstrap).withTopics(topics)
                     .withStateDir(runDir.resolve("reward-state"))).start();
             TrainerService trainer = new TrainerService(trainerConfig).onStep(steps::add).start();
             GeneratorService generator = new GeneratorService(DemoRun.generatorConfig(bootstrap, topics, "algo-generator",
                     GROUP_SIZE, BATCH_GROUPS, MAX_STALENESS, 5).withSampling(1f, 0, 1f, MAX_TOKENS)).start()) {
            PromptFeeder.feed(bootstrap, topics, TASK, STEPS * BATCH_GROUPS * 2, GROUP_SIZE, 3, "p-");
            long deadline = System.nanoTime() + Duration.ofSeconds(240).toNanos();
            while (!trainer.awaitStop(Duration.ofMillis(200))) {
                assertTrue(System.nanoTime() < deadline, algorithm + ": " + steps.size() + " of " + STEPS + " steps in 240 s");
                assertTrue(trainer.failure().isEmpty() && generator.failure().isEmpty(),
                        () -> algorithm + " failed: " + trainer.failure() + " " + generator.failure());
            }
            assertTrue(trainer.failure().isEmpty(), () -> algorithm + " trainer failed: " + trainer.failure());
            assertTrue(generator.versionsSwapped() >= 1, "the generator sampled with newer policy versions");
        }

        assertEquals(STEPS, steps.size());
        double first = steps.subList(0, 3).stream().mapToDouble(StepResult::rewardMean).average().orElseThrow();
        double last = steps.subList(STEPS - 10, STEPS).stream().mapToDouble(StepResult::rewardMean).average().orElseThrow();
        assertTrue(last > first + 0.2, algorithm + ": mean reward of the rollouts trained on, first 3 steps " + first + ", last 10 " + last);
        try (Policy trained = dev.rlkafka.policy.weights.WeightCodec.decode(
                Checkpoint.read(runDir.resolve("trainer").resolve(TrainerConfig.CHECKPOINT_FILE)).weights(), Device.cpu())) {
            double accuracy = heldOutAccuracy(trained);
            assertTrue(accuracy > sftAccuracy + 0.15, algorithm + ": held-out sampled accuracy after SFT " + sftAccuracy + ", after RL " + accuracy);
        }
    }
}
