package dev.rlkafka.reward;

import dev.rlkafka.policy.loss.Advantages;
import dev.rlkafka.policy.task.Scorer;
import dev.rlkafka.policy.task.Tasks;
import dev.rlkafka.schemas.KafkaClientConfig;
import dev.rlkafka.schemas.Topics;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * Every setting of the reward-service, validated once built. Start from {@link #defaults(String)} and
 * change what you need with the {@code with...} methods.
 *
 * @param bootstrap           Kafka bootstrap servers, e.g. {@code localhost:9092}
 * @param clientConfig        Kafka client settings of the cluster (security, timeouts) that every client of the
 *                            service starts from; its own settings win (default none, {@link KafkaClientConfig#NONE})
 * @param topics              topic names of the run (default {@link Topics#DEFAULT})
 * @param applicationId       Kafka Streams application id; instances sharing it share the work
 *                            (default {@code <prefix>rlkafka-reward}, see {@link #defaultApplicationId})
 * @param serviceId           names this service in dead letters and metrics (default {@value #DEFAULT_SERVICE_ID})
 * @param requiredScorers     scorer id → weight; a group is complete once every rollout has a score from each
 *                            (default: the built-in scorers of task {@link Tasks#DEFAULT}, each with its own
 *                            {@link Scorer#weight()})
 * @param optionalScorers     scorer id → weight; waited for up to {@code optionalGrace} after the required ones,
 *                            weighted in when they answered for every rollout, else listed as missing (default none)
 * @param groupTimeout        wall-clock time from a group's first record after which an incomplete group is expired;
 *                            a group restored after a restart gets this long again from the restart, since the scores
 *                            written while the service was down are still to be read (default
 *                            {@link #DEFAULT_GROUP_TIMEOUT}); &gt; 0
 * @param optionalGrace       how long a group with every required score waits for the optional scorers
 *                            (default {@link #DEFAULT_OPTIONAL_GRACE}); &ge; 0
 * @param divideByStd         advantages are {@code (r − mean)/(std + eps)} when true, {@code r − mean} when false
 *                            (default true)
 * @param advantageEps        eps added to the group's std, finite and &ge; 0 (default {@link Advantages#DEFAULT_EPS})
 * @param builtInScorers      when true the service runs, for each rollout, the built-in scorers of the rollout's
 *                            task ({@link Tasks#byName}) and writes their rewards to {@code rl.rewards} (default true)
 * @param stateDir            Kafka Streams state directory (default {@code <java.io.tmpdir>/rlkafka-reward-state})
 * @param punctuationInterval how often (wall clock) groups are checked for grace and timeout
 *                            (default {@link #DEFAULT_PUNCTUATION_INTERVAL}); &gt; 0
 * @param metricsInterval     how often (wall clock) the counters are written to {@code rl.metrics}
 *                            (default {@link #DEFAULT_METRICS_INTERVAL}); &gt; 0
 * @param closedRetention     how long ids of emitted or expired groups are remembered, so that their late records
 *                            are dead-lettered as late rather than unknown (default {@link #DEFAULT_CLOSED_RETENTION});
 *                            &gt; 0
 * @param commitInterval      Streams commit interval; with exactly-once it bounds the latency seen by
 *                            read_committed consumers (default {@link #DEFAULT_COMMIT_INTERVAL}); &gt; 0
 * @param replicationFactor   replication factor of the Streams internal topics (changelogs);
 *                            -1 = the broker's default (default -1)
 * @param startTimeout        how long {@link RewardService#start()} waits for RUNNING (default
 *                            {@link #DEFAULT_START_TIMEOUT}); &gt; 0
 */
public record RewardConfig(
        String bootstrap,
        Topics topics,
        String applicationId,
        String serviceId,
        Map<String, Double> requiredScorers,
        Map<String, Double> optionalScorers,
        Duration groupTimeout,
        Duration optionalGrace,
        boolean divideByStd,
        double advantageEps,
        boolean builtInScorers,
        Path stateDir,
        Duration punctuationInterval,
        Duration metricsInterval,
        Duration closedRetention,
        Duration commitInterval,
        int replicationFactor,
        Duration startTimeout,
        KafkaClientConfig clientConfig) {

    public static final String DEFAULT_SERVICE_ID = "reward-service";
    public static final String APPLICATION_ID_BASE = "rlkafka-reward";
    public static final Duration DEFAULT_GROUP_TIMEOUT = Duration.ofSeconds(60);
    public static final Duration DEFAULT_OPTIONAL_GRACE = Duration.ofSeconds(2);
    public static final boolean DEFAULT_DIVIDE_BY_STD = true;
    public static final double DEFAULT_ADVANTAGE_EPS = Advantages.DEFAULT_EPS;
    public static final boolean DEFAULT_BUILT_IN_SCORERS = true;
    public static final Duration DEFAULT_PUNCTUATION_INTERVAL = Duration.ofSeconds(1);
    public static final Duration DEFAULT_METRICS_INTERVAL = Duration.ofSeconds(10);
    public static final Duration DEFAULT_CLOSED_RETENTION = Duration.ofMinutes(10);
    /**
     * Every scored group waits for its transaction's commit before the trainer can read it: the interval is
     * on the loop's critical path, and a commit only happens when something was processed.
     */
    public static final Duration DEFAULT_COMMIT_INTERVAL = Duration.ofMillis(25);
    public static final int DEFAULT_REPLICATION_FACTOR = -1;
    public static final Duration DEFAULT_START_TIMEOUT = Duration.ofSeconds(60);

    /** Kafka allows these in an application id (it prefixes internal topic names). */
    private static final Pattern LEGAL_ID = Pattern.compile("[a-zA-Z0-9._-]+");

    public RewardConfig {
        if (clientConfig == null) throw new IllegalArgumentException("clientConfig must not be null (use KafkaClientConfig.NONE)");
        if (bootstrap == null || bootstrap.isBlank()) {
            throw new IllegalArgumentException("bootstrap must be set, got '" + bootstrap + "'");
        }
        if (topics == null) throw new IllegalArgumentException("topics must not be null (use Topics.DEFAULT)");
        if (applicationId == null || !LEGAL_ID.matcher(applicationId).matches()) {
            throw new IllegalArgumentException("applicationId must be non-empty and use only a-z A-Z 0-9 . _ -, got '"
                    + applicationId + "'");
        }
        if (serviceId == null || serviceId.isBlank()) {
            throw new IllegalArgumentException("serviceId must be non-blank, got '" + serviceId + "'");
        }
        requiredScorers = checkedWeights("requiredScorers", requiredScorers);
        optionalScorers = checkedWeights("optionalScorers", optionalScorers);
        if (requiredScorers.isEmpty()) {
            throw new IllegalArgumentException("requiredScorers must name at least one scorer: a group completes when "
                    + "every rollout has a score from each");
        }
        for (String id : optionalScorers.keySet()) {
            if (requiredScorers.containsKey(id)) {
                throw new IllegalArgumentException("scorer '" + id + "' is both required and optional; pick one");
            }
        }
        positive("groupTimeout", groupTimeout);
        if (optionalGrace == null || optionalGrace.isNegative()) {
            throw new IllegalArgumentException("optionalGrace must be >= 0, got " + optionalGrace);
        }
        if (!(advantageEps >= 0 && Double.isFinite(advantageEps))) {
            throw new IllegalArgumentException("advantageEps must be finite and >= 0, got " + advantageEps);
        }
        if (stateDir == null) throw new IllegalArgumentException("stateDir must not be null");
        positive("punctuationInterval", punctuationInterval);
        positive("metricsInterval", metricsInterval);
        positive("closedRetention", closedRetention);
        positive("commitInterval", commitInterval);
        if (replicationFactor != -1 && replicationFactor < 1) {
            throw new IllegalArgumentException("replicationFactor must be >= 1 or -1 (broker default), got " + replicationFactor);
        }
        positive("startTimeout", startTimeout);
    }

    /** Every default, on {@code bootstrap}. */
    public static RewardConfig defaults(String bootstrap) {
        return new RewardConfig(bootstrap, Topics.DEFAULT, defaultApplicationId(Topics.DEFAULT), DEFAULT_SERVICE_ID,
                builtInWeights(Tasks.DEFAULT), Map.of(), DEFAULT_GROUP_TIMEOUT, DEFAULT_OPTIONAL_GRACE,
                DEFAULT_DIVIDE_BY_STD, DEFAULT_ADVANTAGE_EPS, DEFAULT_BUILT_IN_SCORERS,
                Path.of(System.getProperty("java.io.tmpdir"), "rlkafka-reward-state"),
                DEFAULT_PUNCTUATION_INTERVAL, DEFAULT_METRICS_INTERVAL, DEFAULT_CLOSED_RETENTION,
                DEFAULT_COMMIT_INTERVAL, DEFAULT_REPLICATION_FACTOR, DEFAULT_START_TIMEOUT, KafkaClientConfig.NONE);
    }

    /** {@code <prefix>rlkafka-reward}: runs with different topic prefixes get different Streams applications. */
    public static String defaultApplicationId(Topics topics) {
        return topics.prefix() + APPLICATION_ID_BASE;
    }

    /** The built-in scorers of {@code task} (see {@link Tasks#names()}), id → their own weight, in the task's order. */
    public static Map<String, Double> builtInWeights(String task) {
        Map<String, Double> weights = new LinkedHashMap<>();
        for (Scorer scorer : Tasks.byName(task).scorers()) weights.put(scorer.id(), scorer.weight());
        return weights;
    }

    /** Weight of {@code scorerId}, required or optional; null when it is neither. */
    public Double weightOf(String scorerId) {
        Double weight = requiredScorers.get(scorerId);
        return weight != null ? weight : optionalScorers.get(scorerId);
    }

    /**
     * Another run's topics; the application id follows the prefix when it was the default one, so two runs
     * never share Streams state by accident.
     */
    public RewardConfig withTopics(Topics topics) {
        String appId = applicationId.equals(defaultApplicationId(this.topics)) && topics != null
                ? defaultApplicationId(topics) : applicationId;
        return new RewardConfig(bootstrap, topics, appId, serviceId, requiredScorers, optionalScorers, groupTimeout,
                optionalGrace, divideByStd, advantageEps, builtInScorers, stateDir, punctuationInterval,
                metricsInterval, closedRetention, commitInterval, replicationFactor, startTimeout, clientConfig);
    }

    /** The cluster's own client settings (security, timeouts), under the ones this service needs. */
    public RewardConfig withClientConfig(KafkaClientConfig clientConfig) {
        return new RewardConfig(bootstrap, topics, applicationId, serviceId, requiredScorers, optionalScorers,
                groupTimeout, optionalGrace, divideByStd, advantageEps, builtInScorers, stateDir, punctuationInterval,
                metricsInterval, closedRetention, commitInterval, replicationFactor, startTimeout, clientConfig);
    }

    public RewardConfig withApplicationId(String applicationId) {
        return new RewardConfig(bootstrap, topics, applicationId, serviceId, requiredScorers, optionalScorers,
                groupTimeout, optionalGrace, divideByStd, advantageEps, builtInScorers, stateDir, punctuationInterval,
                metricsInterval, closedRetention, commitInterval, replicationFactor, startTimeout, clientConfig);
    }

    public RewardConfig withServiceId(String serviceId) {
        return new RewardConfig(bootstrap, topics, applicationId, serviceId, requiredScorers, optionalScorers,
                groupTimeout, optionalGrace, divideByStd, advantageEps, builtInScorers, stateDir, punctuationInterval,
                metricsInterval, closedRetention, commitInterval, replicationFactor, startTimeout, clientConfig);
    }

    /** Scorers by id → weight; {@code optional} may be empty. */
    public RewardConfig withScorers(Map<String, Double> required, Map<String, Double> optional) {
        return new RewardConfig(bootstrap, topics, applicationId, serviceId, required, optional,
                groupTimeout, optionalGrace, divideByStd, advantageEps, builtInScorers, stateDir, punctuationInterval,
                metricsInterval, closedRetention, commitInterval, replicationFactor, startTimeout, clientConfig);
    }

    public RewardConfig withGroupTimeout(Duration groupTimeout) {
        return new RewardConfig(bootstrap, topics, applicationId, serviceId, requiredScorers, optionalScorers,
                groupTimeout, optionalGrace, divideByStd, advantageEps, builtInScorers, stateDir, punctuationInterval,
                metricsInterval, closedRetention, commitInterval, replicationFactor, startTimeout, clientConfig);
    }

    public RewardConfig withOptionalGrace(Duration optionalGrace) {
        return new RewardConfig(bootstrap, topics, applicationId, serviceId, requiredScorers, optionalScorers,
                groupTimeout, optionalGrace, divideByStd, advantageEps, builtInScorers, stateDir, punctuationInterval,
                metricsInterval, closedRetention, commitInterval, replicationFactor, startTimeout, clientConfig);
    }

    public RewardConfig withAdvantages(boolean divideByStd, double advantageEps) {
        return new RewardConfig(bootstrap, topics, applicationId, serviceId, requiredScorers, optionalScorers,
                groupTimeout, optionalGrace, divideByStd, advantageEps, builtInScorers, stateDir, punctuationInterval,
                metricsInterval, closedRetention, commitInterval, replicationFactor, startTimeout, clientConfig);
    }

    public RewardConfig withBuiltInScorers(boolean builtInScorers) {
        return new RewardConfig(bootstrap, topics, applicationId, serviceId, requiredScorers, optionalScorers,
                groupTimeout, optionalGrace, divideByStd, advantageEps, builtInScorers, stateDir, punctuationInterval,
                metricsInterval, closedRetention, commitInterval, replicationFactor, startTimeout, clientConfig);
    }

    public RewardConfig withStateDir(Path stateDir) {
        return new RewardConfig(bootstrap, topics, applicationId, serviceId, requiredScorers, optionalScorers,
                groupTimeout, optionalGrace, divideByStd, advantageEps, builtInScorers, stateDir, punctuationInterval,
                metricsInterval, closedRetention, commitInterval, replicationFactor, startTimeout, clientConfig);
    }

    public RewardConfig withIntervals(Duration punctuationInterval, Duration metricsInterval) {
        return new RewardConfig(bootstrap, topics, applicationId, serviceId, requiredScorers, optionalScorers,
                groupTimeout, optionalGrace, divideByStd, advantageEps, builtInScorers, stateDir, punctuationInterval,
                metricsInterval, closedRetention, commitInterval, replicationFactor, startTimeout, clientConfig);
    }

    public RewardConfig withClosedRetention(Duration closedRetention) {
        return new RewardConfig(bootstrap, topics, applicationId, serviceId, requiredScorers, optionalScorers,
                groupTimeout, optionalGrace, divideByStd, advantageEps, builtInScorers, stateDir, punctuationInterval,
                metricsInterval, closedRetention, commitInterval, replicationFactor, startTimeout, clientConfig);
    }

    public RewardConfig withCommitInterval(Duration commitInterval) {
        return new RewardConfig(bootstrap, topics, applicationId, serviceId, requiredScorers, optionalScorers,
                groupTimeout, optionalGrace, divideByStd, advantageEps, builtInScorers, stateDir, punctuationInterval,
                metricsInterval, closedRetention, commitInterval, replicationFactor, startTimeout, clientConfig);
    }

    public RewardConfig withReplicationFactor(int replicationFactor) {
        return new RewardConfig(bootstrap, topics, applicationId, serviceId, requiredScorers, optionalScorers,
                groupTimeout, optionalGrace, divideByStd, advantageEps, builtInScorers, stateDir, punctuationInterval,
                metricsInterval, closedRetention, commitInterval, replicationFactor, startTimeout, clientConfig);
    }

    public RewardConfig withStartTimeout(Duration startTimeout) {
        return new RewardConfig(bootstrap, topics, applicationId, serviceId, requiredScorers, optionalScorers,
                groupTimeout, optionalGrace, divideByStd, advantageEps, builtInScorers, stateDir, punctuationInterval,
                metricsInterval, closedRetention, commitInterval, replicationFactor, startTimeout, clientConfig);
    }

    private static Map<String, Double> checkedWeights(String name, Map<String, Double> weights) {
        if (weights == null) throw new IllegalArgumentException(name + " must not be null (use an empty map)");
        Map<String, Double> copy = new TreeMap<>();
        for (var e : weights.entrySet()) {
            if (e.getKey() == null || e.getKey().isBlank()) {
                throw new IllegalArgumentException(name + " has a blank scorer id: " + weights);
            }
            if (e.getValue() == null || !Double.isFinite(e.getValue())) {
                throw new IllegalArgumentException("weight of scorer '" + e.getKey() + "' in " + name
                        + " must be finite, got " + e.getValue());
            }
            copy.put(e.getKey(), e.getValue());
        }
        return Collections.unmodifiableMap(copy);
    }

    private static void positive(String name, Duration value) {
        if (value == null || value.isZero() || value.isNegative()) {
            throw new IllegalArgumentException(name + " must be > 0, got " + value);
        }
    }
}
