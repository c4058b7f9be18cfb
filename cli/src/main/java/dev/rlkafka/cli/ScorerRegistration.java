package dev.rlkafka.cli;

import dev.rlkafka.reward.RewardConfig;
import picocli.CommandLine.Option;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/** Which scorers the reward-service waits for, and for how long: shared by {@code reward} and {@code demo}. */
final class ScorerRegistration {
    @Option(names = "--required", split = ",", paramLabel = "ID=WEIGHT",
            description = "Required scorers with weights, e.g. exact-answer=1,format=0.1,judge=0.5: a group waits until "
                    + "every rollout has a score from each (default: the default task's built-in scorers at their own weights).")
    Map<String, Double> required = new LinkedHashMap<>();

    @Option(names = "--optional", split = ",", paramLabel = "ID=WEIGHT",
            description = "Optional scorers: weighted in when they scored every rollout of a group within --optional-grace, "
                    + "noted as missing otherwise.")
    Map<String, Double> optional = new LinkedHashMap<>();

    @Option(names = "--group-timeout", defaultValue = "PT60S",
            description = "A group still missing required scores after this long is dead-lettered, never trained "
                    + "(ISO-8601; raise it for slow or human scorers; default: ${DEFAULT-VALUE}).")
    Duration groupTimeout;

    @Option(names = "--optional-grace", defaultValue = "PT2S",
            description = "How long a group with all required scores waits for optional scorers (default: ${DEFAULT-VALUE}).")
    Duration optionalGrace;

    @Option(names = "--no-built-in-scorers", negatable = false,
            description = "Do not run the tasks' built-in scorers inside the reward-service (external scorers only).")
    boolean noBuiltIn;

    RewardConfig applyTo(RewardConfig config) {
        if (!required.isEmpty() || !optional.isEmpty()) {
            config = config.withScorers(required.isEmpty() ? config.requiredScorers() : required, optional);
        }
        return config.withGroupTimeout(groupTimeout).withOptionalGrace(optionalGrace).withBuiltInScorers(!noBuiltIn);
    }
}
