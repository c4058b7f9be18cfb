package dev.rlkafka.trainer;

import dev.rlkafka.policy.train.Algorithm;
import dev.rlkafka.schemas.KafkaClientConfig;
import dev.rlkafka.schemas.Topics;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * Runs one trainer process until it stops (maxSteps, {@code --stop-at-end}) or is terminated (SIGTERM closes it).
 * Plain argument parsing; the {@code rlkafka trainer} command of the CLI is the full front end.
 *
 * <pre>
 * --bootstrap HOST:PORT --checkpoint-dir DIR --reference SFT.ckpt      (required)
 * [--prefix P] [--trainer-id ID] [--batch-groups B] [--steps-per-version K] [--max-staleness S]
 * [--algorithm grpo|ppo|dpo] [--lr LR] [--device cpu] [--threads N] [--max-steps N] [--stop-at-end]
 * [--kafka-config FILE]     (the cluster's client settings, as for the CLI's --kafka-config)
 * </pre>
 * Exit status: 0 on a clean stop, 1 when the loop failed, 2 on bad arguments.
 */
public final class TrainerMain {
    private static final Logger log = LoggerFactory.getLogger(TrainerMain.class);
    private static final Set<String> FLAGS = Set.of("--stop-at-end");
    private static final Set<String> OPTIONS = Set.of("--bootstrap", "--prefix", "--checkpoint-dir", "--reference", "--trainer-id",
            "--batch-groups", "--steps-per-version", "--max-staleness", "--algorithm", "--lr", "--device", "--threads", "--max-steps",
            "--kafka-config");

    private TrainerMain() {
    }

    public static void main(String[] args) throws Exception {
        TrainerConfig config;
        try {
            config = parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("trainer: " + e.getMessage());
            System.exit(2);
            return;
        }
        TrainerService service = new TrainerService(config);
        Runtime.getRuntime().addShutdownHook(new Thread(service::close, "trainer-shutdown"));
        service.start();
        while (!service.awaitStop(Duration.ofSeconds(1))) {
            // the loop runs until it stops itself or the shutdown hook closes it
        }
        service.close();
        if (service.failure().isPresent()) {
            log.error("trainer failed", service.failure().get());
            System.exit(1);
        }
    }

    /** The config the arguments describe; {@link IllegalArgumentException} names a bad or missing option. */
    public static TrainerConfig parse(String[] args) {
        Map<String, String> values = new HashMap<>();
        for (int i = 0; i < args.length; i++) {
            String name = args[i];
            if (FLAGS.contains(name)) {
                values.put(name, "true");
            } else if (OPTIONS.contains(name)) {
                if (i + 1 >= args.length) throw new IllegalArgumentException("option " + name + " needs a value");
                values.put(name, args[++i]);
            } else {
                throw new IllegalArgumentException("unknown argument '" + name + "'; options: " + OPTIONS + ", flags: " + FLAGS);
            }
        }
        TrainerConfig config = TrainerConfig.defaults(required(values, "--bootstrap"), Path.of(required(values, "--checkpoint-dir")),
                Path.of(required(values, "--reference")));
        config = config.withTopics(Topics.withPrefix(values.getOrDefault("--prefix", "")))
                .withTrainerId(values.getOrDefault("--trainer-id", TrainerConfig.DEFAULT_TRAINER_ID))
                .withBatching(integer(values, "--batch-groups", TrainerConfig.DEFAULT_BATCH_GROUPS),
                        integer(values, "--steps-per-version", TrainerConfig.DEFAULT_STEPS_PER_VERSION),
                        integer(values, "--max-staleness", TrainerConfig.DEFAULT_MAX_STALENESS))
                .withDevice(values.getOrDefault("--device", TrainerConfig.DEFAULT_DEVICE),
                        integer(values, "--threads", TrainerConfig.DEFAULT_INTRA_OP_THREADS))
                .withStop(number(values, "--max-steps", 0), values.containsKey("--stop-at-end"));
        Algorithm algorithm = Algorithm.byId(values.getOrDefault("--algorithm", TrainerConfig.DEFAULT_ALGORITHM.id()));
        double lr = values.containsKey("--lr") ? decimal(values, "--lr") : TrainerConfig.DEFAULT_LR;
        config = config.withUpdate(algorithm.config(lr, algorithm.defaultBeta(), 0, TrainerConfig.DEFAULT_MAX_GRAD_NORM));
        if (values.containsKey("--kafka-config")) {
            config = config.withClientConfig(KafkaClientConfig.load(Path.of(values.get("--kafka-config"))));
        }
        return config;
    }

    private static String required(Map<String, String> values, String name) {
        String value = values.get(name);
        if (value == null) throw new IllegalArgumentException("option " + name + " is required");
        return value;
    }

    private static int integer(Map<String, String> values, String name, int fallback) {
        return Math.toIntExact(number(values, name, fallback));
    }

    private static long number(Map<String, String> values, String name, long fallback) {
        String value = values.get(name);
        if (value == null) return fallback;
        try {
            return Long.parseLong(value);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("option " + name + " must be an integer, got '" + value + "'");
        }
    }

    private static double decimal(Map<String, String> values, String name) {
        String value = values.get(name);
        try {
            return Double.parseDouble(value);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("option " + name + " must be a number, got '" + value + "'");
        }
    }
}
