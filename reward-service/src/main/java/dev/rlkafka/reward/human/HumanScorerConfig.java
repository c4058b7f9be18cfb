package dev.rlkafka.reward.human;

import dev.rlkafka.schemas.KafkaClientConfig;
import dev.rlkafka.schemas.Topics;

import java.time.Duration;

/**
 * Every setting of the human scoring page, validated once built. Start from {@link #defaults(String)}.
 *
 * @param bootstrap   Kafka bootstrap servers, e.g. {@code localhost:9092}
 * @param clientConfig Kafka client settings of the cluster (security, timeouts) that every client of the
 *                     service starts from; its own settings win (default none, {@link KafkaClientConfig#NONE})
 * @param topics      topic names of the run (default {@link Topics#DEFAULT})
 * @param scorerId    the scorer id its rewards carry; register it with the reward-service as a required or
 *                    optional scorer (default {@value #DEFAULT_SCORER_ID})
 * @param scale       the ratings people give and how they map to a reward (default {@value RatingScale#DEFAULT})
 * @param bindAddress the address the page listens on; {@code 0.0.0.0} lets other machines in
 *                    (default {@value #DEFAULT_BIND_ADDRESS}: this machine only — the page has no login)
 * @param port        TCP port of the page; 0 picks a free one (default {@value #DEFAULT_PORT})
 * @param lease       how long a rollout stays reserved for the rater it was shown to before others may get it
 *                    (default {@link #DEFAULT_LEASE}); &gt; 0
 * @param maxWaiting  most rollouts held waiting; beyond it the oldest unleased one is dropped
 *                    (default {@value #DEFAULT_MAX_WAITING}); &gt; 0
 * @param serviceId   names this process in dead letters, reward metadata and client ids
 *                    (default {@code human-scorer-<scorerId>})
 */
public record HumanScorerConfig(String bootstrap, Topics topics, String scorerId, RatingScale scale, String bindAddress,
                                int port, Duration lease, int maxWaiting, String serviceId,
        KafkaClientConfig clientConfig) {
    public static final String DEFAULT_SCORER_ID = "human";
    public static final String DEFAULT_BIND_ADDRESS = "127.0.0.1";
    public static final int DEFAULT_PORT = 8080;
    public static final Duration DEFAULT_LEASE = Duration.ofMinutes(5);
    public static final int DEFAULT_MAX_WAITING = 1000;

    public HumanScorerConfig {
        if (clientConfig == null) throw new IllegalArgumentException("clientConfig must not be null (use KafkaClientConfig.NONE)");
        if (bootstrap == null || bootstrap.isBlank()) {
            throw new IllegalArgumentException("bootstrap servers must be set, got '" + bootstrap + "'");
        }
        if (topics == null) throw new IllegalArgumentException("topics must be set");
        if (scorerId == null || !scorerId.matches("[A-Za-z0-9._-]{1,64}")) {
            throw new IllegalArgumentException("scorer id must be 1-64 characters of A-Z a-z 0-9 . _ -, got '" + scorerId + "'");
        }
        if (scale == null) throw new IllegalArgumentException("rating scale must be set");
        if (bindAddress == null || bindAddress.isBlank()) {
            throw new IllegalArgumentException("bind address must be set, got '" + bindAddress + "'");
        }
        if (port < 0 || port > 65535) throw new IllegalArgumentException("port must be 0..65535, got " + port);
        if (lease == null || lease.isNegative() || lease.isZero()) {
            throw new IllegalArgumentException("lease must be > 0, got " + lease);
        }
        if (maxWaiting < 1) throw new IllegalArgumentException("maxWaiting must be >= 1, got " + maxWaiting);
        if (serviceId == null || serviceId.isBlank()) {
            throw new IllegalArgumentException("service id must be set, got '" + serviceId + "'");
        }
    }

    public static HumanScorerConfig defaults(String bootstrap) {
        return new HumanScorerConfig(bootstrap, Topics.DEFAULT, DEFAULT_SCORER_ID, RatingScale.parse(RatingScale.DEFAULT),
                DEFAULT_BIND_ADDRESS, DEFAULT_PORT, DEFAULT_LEASE, DEFAULT_MAX_WAITING, defaultServiceId(DEFAULT_SCORER_ID), KafkaClientConfig.NONE);
    }

    static String defaultServiceId(String scorerId) {
        return "human-scorer-" + scorerId;
    }

    public HumanScorerConfig withTopics(Topics topics) {
        return new HumanScorerConfig(bootstrap, topics, scorerId, scale, bindAddress, port, lease, maxWaiting, serviceId, clientConfig);
    }

    /** The cluster's own client settings (security, timeouts), under the ones this service needs. */
    public HumanScorerConfig withClientConfig(KafkaClientConfig clientConfig) {
        return new HumanScorerConfig(bootstrap, topics, scorerId, scale, bindAddress, port, lease, maxWaiting,
                serviceId, clientConfig);
    }

    /** A new scorer id; the service id follows it while it is the default one. */
    public HumanScorerConfig withScorerId(String scorerId) {
        String service = serviceId.equals(defaultServiceId(this.scorerId)) ? defaultServiceId(scorerId) : serviceId;
        return new HumanScorerConfig(bootstrap, topics, scorerId, scale, bindAddress, port, lease, maxWaiting, service, clientConfig);
    }

    public HumanScorerConfig withScale(RatingScale scale) {
        return new HumanScorerConfig(bootstrap, topics, scorerId, scale, bindAddress, port, lease, maxWaiting, serviceId, clientConfig);
    }

    public HumanScorerConfig withAddress(String bindAddress, int port) {
        return new HumanScorerConfig(bootstrap, topics, scorerId, scale, bindAddress, port, lease, maxWaiting, serviceId, clientConfig);
    }

    public HumanScorerConfig withLease(Duration lease) {
        return new HumanScorerConfig(bootstrap, topics, scorerId, scale, bindAddress, port, lease, maxWaiting, serviceId, clientConfig);
    }

    public HumanScorerConfig withMaxWaiting(int maxWaiting) {
        return new HumanScorerConfig(bootstrap, topics, scorerId, scale, bindAddress, port, lease, maxWaiting, serviceId, clientConfig);
    }
}
