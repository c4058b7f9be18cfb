package dev.rlkafka.reward.http;

import dev.rlkafka.schemas.KafkaClientConfig;
import dev.rlkafka.schemas.Topics;

import java.net.URI;
import java.time.Duration;
import java.util.regex.Pattern;

/**
 * Every setting of one HTTP scorer ({@code rlkafka scorer http}), validated once built. Start from
 * {@link #defaults(String, URI, String)} and change what you need with the {@code with...} methods.
 *
 * @param bootstrap        Kafka bootstrap servers
 * @param clientConfig     Kafka client settings of the cluster (security, timeouts) that every client of the
 *                         service starts from; its own settings win (default none, {@link KafkaClientConfig#NONE})
 * @param topics           topic names of the run (default {@link Topics#DEFAULT})
 * @param url              http(s) endpoint that answers a POSTed {@link ScoreRequest} with a {@link ScoreResponse}
 * @param scorerId         the rewards' scorer id; also names this scorer in dead letters, metrics and logs;
 *                         a-z A-Z 0-9 . _ -
 * @param groupId          Kafka consumer group; instances sharing it share the rollouts (default
 *                         {@code <prefix>rlkafka-scorer-<scorerId>}, see {@link #defaultGroupId})
 * @param concurrency      rollouts being scored at once, retries and back-off included (default
 *                         {@value #DEFAULT_CONCURRENCY}); 1..{@value #MAX_CONCURRENCY}
 * @param timeout          per HTTP attempt, connecting included (default {@link #DEFAULT_TIMEOUT}); &gt; 0
 * @param retryPolicy      retries and back-off after a timeout, connection error, 5xx, 408 or 429
 *                         (default {@link RetryPolicy#defaults()})
 * @param progressInterval how often a progress line is logged and a metric written to {@code rl.metrics}
 *                         (default {@link #DEFAULT_PROGRESS_INTERVAL}); &gt; 0
 * @param drainTimeout     how long {@code close()} waits for rollouts in flight to be resolved before leaving them
 *                         uncommitted for the next run (default {@link #DEFAULT_DRAIN_TIMEOUT}); &ge; 0
 */
public record HttpScorerConfig(
        String bootstrap,
        Topics topics,
        URI url,
        String scorerId,
        String groupId,
        int concurrency,
        Duration timeout,
        RetryPolicy retryPolicy,
        Duration progressInterval,
        Duration drainTimeout,
        KafkaClientConfig clientConfig) {

    public static final String GROUP_ID_BASE = "rlkafka-scorer-";
    public static final int DEFAULT_CONCURRENCY = 8;
    public static final int MAX_CONCURRENCY = 1024;
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);
    public static final Duration DEFAULT_PROGRESS_INTERVAL = Duration.ofSeconds(10);
    public static final Duration DEFAULT_DRAIN_TIMEOUT = Duration.ofSeconds(30);

    private static final Pattern LEGAL_ID = Pattern.compile("[a-zA-Z0-9._-]+");

    public HttpScorerConfig {
        if (clientConfig == null) throw new IllegalArgumentException("clientConfig must not be null (use KafkaClientConfig.NONE)");
        if (bootstrap == null || bootstrap.isBlank()) throw new IllegalArgumentException("bootstrap must be set, got '" + bootstrap + "'");
        if (topics == null) throw new IllegalArgumentException("topics must not be null (use Topics.DEFAULT)");
        if (url == null || url.getHost() == null
                || !("http".equalsIgnoreCase(url.getScheme()) || "https".equalsIgnoreCase(url.getScheme()))) {
            throw new IllegalArgumentException("url must be an absolute http:// or https:// URL with a host, got '" + url + "'");
        }
        if (scorerId == null || !LEGAL_ID.matcher(scorerId).matches()) {
            throw new IllegalArgumentException("scorerId must be non-empty and use only a-z A-Z 0-9 . _ -, got '" + scorerId + "'");
        }
        if (groupId == null || groupId.isBlank()) throw new IllegalArgumentException("groupId must be non-blank, got '" + groupId + "'");
        if (concurrency < 1 || concurrency > MAX_CONCURRENCY) {
            throw new IllegalArgumentException("concurrency must be in [1, " + MAX_CONCURRENCY + "], got " + concurrency);
        }
        positive("timeout", timeout);
        if (retryPolicy == null) throw new IllegalArgumentException("retryPolicy must not be null (use RetryPolicy.defaults())");
        positive("progressInterval", progressInterval);
        if (drainTimeout == null || drainTimeout.isNegative()) {
            throw new IllegalArgumentException("drainTimeout must be >= 0, got " + drainTimeout);
        }
    }

    /** Every default, for scorer {@code scorerId} at {@code url}, on {@code bootstrap}. */
    public static HttpScorerConfig defaults(String bootstrap, URI url, String scorerId) {
        return new HttpScorerConfig(bootstrap, Topics.DEFAULT, url, scorerId, defaultGroupId(Topics.DEFAULT, scorerId),
                DEFAULT_CONCURRENCY, DEFAULT_TIMEOUT, RetryPolicy.defaults(), DEFAULT_PROGRESS_INTERVAL, DEFAULT_DRAIN_TIMEOUT, KafkaClientConfig.NONE);
    }

    /** {@code <prefix>rlkafka-scorer-<scorerId>}: one consumer group per scorer and run, so each scorer sees every rollout. */
    public static String defaultGroupId(Topics topics, String scorerId) {
        return topics.prefix() + GROUP_ID_BASE + scorerId;
    }

    /**
     * The longest one rollout can take before it is scored or dead-lettered: every attempt timing out and every
     * back-off at its longest. A reward-service that requires this scorer needs a longer {@code groupTimeout}.
     */
    public Duration worstCaseLatency() {
        Duration total = timeout.multipliedBy(retryPolicy.maxAttempts());
        for (int retry = 1; retry <= retryPolicy.retries(); retry++) total = total.plus(retryPolicy.maxDelayBefore(retry));
        return total;
    }

    /** Another run's topics; the consumer group follows the prefix when it was the default one. */
    public HttpScorerConfig withTopics(Topics topics) {
        String group = groupId.equals(defaultGroupId(this.topics, scorerId)) && topics != null
                ? defaultGroupId(topics, scorerId) : groupId;
        return new HttpScorerConfig(bootstrap, topics, url, scorerId, group, concurrency, timeout, retryPolicy,
                progressInterval, drainTimeout, clientConfig);
    }

    /** The cluster's own client settings (security, timeouts), under the ones this service needs. */
    public HttpScorerConfig withClientConfig(KafkaClientConfig clientConfig) {
        return new HttpScorerConfig(bootstrap, topics, url, scorerId, groupId, concurrency, timeout, retryPolicy,
                progressInterval, drainTimeout, clientConfig);
    }

    public HttpScorerConfig withUrl(URI url) {
        return new HttpScorerConfig(bootstrap, topics, url, scorerId, groupId, concurrency, timeout, retryPolicy,
                progressInterval, drainTimeout, clientConfig);
    }

    public HttpScorerConfig withGroupId(String groupId) {
        return new HttpScorerConfig(bootstrap, topics, url, scorerId, groupId, concurrency, timeout, retryPolicy,
                progressInterval, drainTimeout, clientConfig);
    }

    public HttpScorerConfig withConcurrency(int concurrency) {
        return new HttpScorerConfig(bootstrap, topics, url, scorerId, groupId, concurrency, timeout, retryPolicy,
                progressInterval, drainTimeout, clientConfig);
    }

    public HttpScorerConfig withTimeout(Duration timeout) {
        return new HttpScorerConfig(bootstrap, topics, url, scorerId, groupId, concurrency, timeout, retryPolicy,
                progressInterval, drainTimeout, clientConfig);
    }

    public HttpScorerConfig withRetryPolicy(RetryPolicy retryPolicy) {
        return new HttpScorerConfig(bootstrap, topics, url, scorerId, groupId, concurrency, timeout, retryPolicy,
                progressInterval, drainTimeout, clientConfig);
    }

    public HttpScorerConfig withProgressInterval(Duration progressInterval) {
        return new HttpScorerConfig(bootstrap, topics, url, scorerId, groupId, concurrency, timeout, retryPolicy,
                progressInterval, drainTimeout, clientConfig);
    }

    public HttpScorerConfig withDrainTimeout(Duration drainTimeout) {
        return new HttpScorerConfig(bootstrap, topics, url, scorerId, groupId, concurrency, timeout, retryPolicy,
                progressInterval, drainTimeout, clientConfig);
    }

    private static void positive(String name, Duration value) {
        if (value == null || value.isZero() || value.isNegative()) {
            throw new IllegalArgumentException(name + " must be > 0, got " + value);
        }
    }
}
