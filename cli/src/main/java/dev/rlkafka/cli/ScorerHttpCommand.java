package dev.rlkafka.cli;

import dev.rlkafka.reward.http.HttpScorerConfig;
import dev.rlkafka.reward.http.HttpScorerService;
import dev.rlkafka.reward.http.RetryPolicy;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.net.URI;
import java.time.Duration;
import java.util.concurrent.Callable;

/** Runs the HTTP scorer adapter (an AI judge or reward-model server behind a URL) until Ctrl-C. */
@Command(name = "http", mixinStandardHelpOptions = true,
        description = {
                "Score rollouts with an HTTP server (AI judge, reward model): POST one JSON per rollout "
                        + "{rolloutId, groupId, promptId, task, prompt, completion, referenceAnswer, policyVersion, generatorId} "
                        + "and expect {\"score\": <finite number>, \"rationale\": optional string, \"metadata\": optional string map}; "
                        + "the score becomes a Reward on rl.rewards.",
                "Timeouts, connection errors, 5xx, 408 and 429 are retried with exponential back-off and jitter; other "
                        + "answers that are not a score are not, nor is an answer over 1 MiB. "
                        + "A rollout with no score after that goes to rl.dead-letters "
                        + "and gets no reward: the reward-service's group timeout or optional-scorer grace then decides its "
                        + "group. At least once: offsets are committed after each rollout's reward or dead letter is written. "
                        + "Ctrl-C stops it cleanly."})
final class ScorerHttpCommand implements Callable<Integer> {
    @Mixin KafkaOptions kafka;

    @Option(names = "--url", required = true, description = "The scorer's http(s) endpoint, e.g. http://localhost:8000/score.")
    URI url;

    @Option(names = "--scorer-id", required = true,
            description = "Scorer id written on the rewards; register it with the reward-service (a-z A-Z 0-9 . _ -).")
    String scorerId;

    @Option(names = "--group-id", description = "Kafka consumer group (default: <prefix>" + HttpScorerConfig.GROUP_ID_BASE + "<scorer-id>).")
    String groupId;

    @Option(names = "--concurrency", defaultValue = "" + HttpScorerConfig.DEFAULT_CONCURRENCY,
            description = "Rollouts being scored at once (default: ${DEFAULT-VALUE}).")
    int concurrency;

    @Option(names = "--timeout", defaultValue = "PT30S",
            description = "Per HTTP attempt, connecting included (ISO-8601, default: ${DEFAULT-VALUE}).")
    Duration timeout;

    @Option(names = "--retries", defaultValue = "" + RetryPolicy.DEFAULT_RETRIES,
            description = "Attempts after the first for a timeout, connection error, 5xx, 408 or 429 (default: ${DEFAULT-VALUE}).")
    int retries;

    @Option(names = "--backoff", defaultValue = "PT0.5S",
            description = "Delay scale d of the first retry; d doubles per retry up to 30 s (or --backoff when larger); "
                    + "each delay is drawn from [d/2, d) (ISO-8601, default: ${DEFAULT-VALUE}).")
    Duration backoff;

    @Override
    public Integer call() throws Exception {
        HttpScorerConfig config = HttpScorerConfig.defaults(kafka.bootstrap, url, scorerId).withClientConfig(kafka.clientConfig()).withTopics(kafka.topics())
                .withConcurrency(concurrency)
                .withTimeout(timeout)
                .withRetryPolicy(RetryPolicy.of(retries, backoff));
        if (groupId != null) config = config.withGroupId(groupId);
        try (ShutdownSignal signal = new ShutdownSignal(); HttpScorerService scorer = new HttpScorerService(config).start()) {
            System.out.println("HTTP scorer " + config.scorerId() + " scoring " + config.topics().rollouts() + " with "
                    + config.url() + " (consumer group " + config.groupId() + "); at worst " + config.worstCaseLatency()
                    + " per rollout, so a reward-service requiring it needs a longer --group-timeout. Ctrl-C stops it.");
            while (!signal.stopRequested() && !scorer.awaitStopped(Duration.ofMillis(500))) {
                // waiting for Ctrl-C, or for the scorer to stop on its own after a fatal error
            }
            if (scorer.failure().isPresent()) {
                System.err.println("HTTP scorer " + config.scorerId() + " stopped: " + scorer.failure().get());
                return 1;
            }
        }
        return 0;
    }
}
