package dev.rlkafka.generator;

import dev.rlkafka.policy.sampling.SamplingParams;
import dev.rlkafka.schemas.KafkaClientConfig;
import dev.rlkafka.schemas.Topics;

import java.time.Duration;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * Every setting of the generator-service, validated once built. Start from {@link #defaults(String)} and
 * change what you need with the {@code with...} methods.
 *
 * @param bootstrap        Kafka bootstrap servers, e.g. {@code localhost:9092}
 * @param clientConfig     Kafka client settings of the cluster (security, timeouts) that every client of the
 *                         service starts from; its own settings win (default none, {@link KafkaClientConfig#NONE})
 * @param topics           topic names of the run (default {@link Topics#DEFAULT})
 * @param generatorId      names this process in rollouts, metrics and dead letters, and derives its
 *                         {@code transactional.id} (default {@code generator-<8 random hex>})
 * @param groupId          consumer group of the prompt consumers; generators sharing it split the prompt
 *                         partitions (default {@code <prefix>rlkafka-generators}, see {@link #defaultGroupId})
 * @param groupSize        rollouts per prompt (G) when the prompt's own {@code groupSize} is 0
 *                         (default {@value #DEFAULT_GROUP_SIZE}); 1 to {@value #MAX_GROUP_SIZE}
 * @param maxBatchPrompts  most prompts sampled together in one batched call (each contributes G rows)
 *                         (default {@value #DEFAULT_MAX_BATCH_PROMPTS}); &ge; 1
 * @param linger           how long to wait for more prompts to fill a batch once the first one is there
 *                         (default {@link #DEFAULT_LINGER}); &ge; 0
 * @param temperature      sampling temperature, &gt; 0 (default {@value #DEFAULT_TEMPERATURE})
 * @param topK             keep the k most likely tokens; 0 = off (default 0)
 * @param topP             nucleus mass in (0, 1]; 1 = off (default 1)
 * @param maxTokens        completion length cap in tokens, &ge; 1 (default {@value #DEFAULT_MAX_TOKENS}); a prompt
 *                         whose tokens + maxTokens exceed the model's context length is dead-lettered
 * @param seed             base seed of the sampler; batch n samples with seeds from {@code seed + n·2^32}
 *                         (default {@value #DEFAULT_SEED})
 * @param device           DJL device name, {@code cpu} or {@code gpu} / {@code gpu0} (default {@value #DEFAULT_DEVICE})
 * @param maxStaleness     policy versions a rollout may lag the trainer; 0 = synchronous
 *                         (default {@value #DEFAULT_MAX_STALENESS}); &ge; 0
 * @param groupsPerVersion groups the trainer consumes per policy version (its groups per step × steps per
 *                         version); with maxStaleness it bounds how far ahead this generator may sample
 *                         (default {@value #DEFAULT_GROUPS_PER_VERSION}); &ge; 1
 * @param intraOpThreads   libtorch intra-op threads for sampling (default {@value #DEFAULT_INTRA_OP_THREADS}); &ge; 1
 */
public record GeneratorConfig(
        String bootstrap,
        Topics topics,
        String generatorId,
        String groupId,
        int groupSize,
        int maxBatchPrompts,
        Duration linger,
        float temperature,
        int topK,
        float topP,
        int maxTokens,
        long seed,
        String device,
        int maxStaleness,
        int groupsPerVersion,
        int intraOpThreads,
        KafkaClientConfig clientConfig) {

    public static final int DEFAULT_GROUP_SIZE = 8;
    /** Upper bound on any group size, the prompt's own included: a group is sampled in one batch. */
    public static final int MAX_GROUP_SIZE = 1024;
    public static final int DEFAULT_MAX_BATCH_PROMPTS = 16;
    public static final Duration DEFAULT_LINGER = Duration.ofMillis(20);
    public static final float DEFAULT_TEMPERATURE = 1.0f;
    public static final int DEFAULT_TOP_K = 0;
    public static final float DEFAULT_TOP_P = 1.0f;
    public static final int DEFAULT_MAX_TOKENS = 8;
    public static final long DEFAULT_SEED = 0;
    public static final String DEFAULT_DEVICE = "cpu";
    public static final int DEFAULT_MAX_STALENESS = 2;
    public static final int DEFAULT_GROUPS_PER_VERSION = 8;
    public static final int DEFAULT_INTRA_OP_THREADS = 1;
    public static final String GROUP_ID_BASE = "rlkafka-generators";

    /** Kafka allows these in ids that end up in topic-like names (transactional and group ids). */
    private static final Pattern LEGAL_ID = Pattern.compile("[a-zA-Z0-9._-]+");

    public GeneratorConfig {
        if (clientConfig == null) throw new IllegalArgumentException("clientConfig must not be null (use KafkaClientConfig.NONE)");
        if (bootstrap == null || bootstrap.isBlank()) {
            throw new IllegalArgumentException("bootstrap must be set, got '" + bootstrap + "'");
        }
        if (topics == null) throw new IllegalArgumentException("topics must not be null (use Topics.DEFAULT)");
        legalId("generatorId", generatorId);
        legalId("groupId", groupId);
        if (groupSize < 1 || groupSize > MAX_GROUP_SIZE) {
            throw new IllegalArgumentException("groupSize must be in [1, " + MAX_GROUP_SIZE + "], got " + groupSize);
        }
        if (maxBatchPrompts < 1) throw new IllegalArgumentException("maxBatchPrompts must be >= 1, got " + maxBatchPrompts);
        if (linger == null || linger.isNegative()) throw new IllegalArgumentException("linger must be >= 0, got " + linger);
        samplingParams(temperature, topK, topP, seed, maxTokens);   // validates the four sampling settings
        if (device == null || device.isBlank()) throw new IllegalArgumentException("device must be set, got '" + device + "'");
        if (maxStaleness < 0) throw new IllegalArgumentException("maxStaleness must be >= 0 (0 = synchronous), got " + maxStaleness);
        if (groupsPerVersion < 1) throw new IllegalArgumentException("groupsPerVersion must be >= 1, got " + groupsPerVersion);
        if (intraOpThreads < 1) throw new IllegalArgumentException("intraOpThreads must be >= 1, got " + intraOpThreads);
    }

    /** Every default, on {@code bootstrap}, with a fresh random generator id. */
    public static GeneratorConfig defaults(String bootstrap) {
        return new GeneratorConfig(bootstrap, Topics.DEFAULT, randomGeneratorId(), defaultGroupId(Topics.DEFAULT),
                DEFAULT_GROUP_SIZE, DEFAULT_MAX_BATCH_PROMPTS, DEFAULT_LINGER, DEFAULT_TEMPERATURE, DEFAULT_TOP_K,
                DEFAULT_TOP_P, DEFAULT_MAX_TOKENS, DEFAULT_SEED, DEFAULT_DEVICE, DEFAULT_MAX_STALENESS,
                DEFAULT_GROUPS_PER_VERSION, DEFAULT_INTRA_OP_THREADS, KafkaClientConfig.NONE);
    }

    /** {@code generator-} and 8 random hex digits. */
    public static String randomGeneratorId() {
        return "generator-" + UUID.randomUUID().toString().substring(0, 8);
    }

    /** {@code <prefix>rlkafka-generators}: runs with different topic prefixes get different consumer groups. */
    public static String defaultGroupId(Topics topics) {
        return topics.prefix() + GROUP_ID_BASE;
    }

    /** The transactional id of this generator's producer. */
    public String transactionalId() {
        return "rlkafka-" + generatorId;
    }

    /** The sampling settings with a batch's {@code seed}. */
    public SamplingParams sampling(long batchSeed) {
        return samplingParams(temperature, topK, topP, batchSeed, maxTokens);
    }

    private static SamplingParams samplingParams(float temperature, int topK, float topP, long seed, int maxTokens) {
        return new SamplingParams(temperature, topK, topP, seed, maxTokens);
    }

    private static void legalId(String name, String value) {
        if (value == null || !LEGAL_ID.matcher(value).matches()) {
            throw new IllegalArgumentException(name + " must be non-empty and use only a-z A-Z 0-9 . _ -, got '" + value + "'");
        }
    }

    /** Another run's topics; the consumer group follows the prefix when it was the default one. */
    public GeneratorConfig withTopics(Topics topics) {
        String group = groupId.equals(defaultGroupId(this.topics)) && topics != null ? defaultGroupId(topics) : groupId;
        return new GeneratorConfig(bootstrap, topics, generatorId, group, groupSize, maxBatchPrompts, linger,
                temperature, topK, topP, maxTokens, seed, device, maxStaleness, groupsPerVersion, intraOpThreads, clientConfig);
    }

    /** The cluster's own client settings (security, timeouts), under the ones this service needs. */
    public GeneratorConfig withClientConfig(KafkaClientConfig clientConfig) {
        return new GeneratorConfig(bootstrap, topics, generatorId, groupId, groupSize, maxBatchPrompts, linger,
                temperature, topK, topP, maxTokens, seed, device, maxStaleness, groupsPerVersion, intraOpThreads,
                clientConfig);
    }

    public GeneratorConfig withGeneratorId(String generatorId) {
        return new GeneratorConfig(bootstrap, topics, generatorId, groupId, groupSize, maxBatchPrompts, linger,
                temperature, topK, topP, maxTokens, seed, device, maxStaleness, groupsPerVersion, intraOpThreads, clientConfig);
    }

    public GeneratorConfig withGroupId(String groupId) {
        return new GeneratorConfig(bootstrap, topics, generatorId, groupId, groupSize, maxBatchPrompts, linger,
                temperature, topK, topP, maxTokens, seed, device, maxStaleness, groupsPerVersion, intraOpThreads, clientConfig);
    }

    public GeneratorConfig withGroupSize(int groupSize) {
        return new GeneratorConfig(bootstrap, topics, generatorId, groupId, groupSize, maxBatchPrompts, linger,
                temperature, topK, topP, maxTokens, seed, device, maxStaleness, groupsPerVersion, intraOpThreads, clientConfig);
    }

    public GeneratorConfig withBatching(int maxBatchPrompts, Duration linger) {
        return new GeneratorConfig(bootstrap, topics, generatorId, groupId, groupSize, maxBatchPrompts, linger,
                temperature, topK, topP, maxTokens, seed, device, maxStaleness, groupsPerVersion, intraOpThreads, clientConfig);
    }

    public GeneratorConfig withSampling(float temperature, int topK, float topP, int maxTokens) {
        return new GeneratorConfig(bootstrap, topics, generatorId, groupId, groupSize, maxBatchPrompts, linger,
                temperature, topK, topP, maxTokens, seed, device, maxStaleness, groupsPerVersion, intraOpThreads, clientConfig);
    }

    public GeneratorConfig withSeed(long seed) {
        return new GeneratorConfig(bootstrap, topics, generatorId, groupId, groupSize, maxBatchPrompts, linger,
                temperature, topK, topP, maxTokens, seed, device, maxStaleness, groupsPerVersion, intraOpThreads, clientConfig);
    }

    public GeneratorConfig withDevice(String device) {
        return new GeneratorConfig(bootstrap, topics, generatorId, groupId, groupSize, maxBatchPrompts, linger,
                temperature, topK, topP, maxTokens, seed, device, maxStaleness, groupsPerVersion, intraOpThreads, clientConfig);
    }

    /** Admission bound: see {@link AdmissionGate}. */
    public GeneratorConfig withStaleness(int maxStaleness, int groupsPerVersion) {
        return new GeneratorConfig(bootstrap, topics, generatorId, groupId, groupSize, maxBatchPrompts, linger,
                temperature, topK, topP, maxTokens, seed, device, maxStaleness, groupsPerVersion, intraOpThreads, clientConfig);
    }

    public GeneratorConfig withIntraOpThreads(int intraOpThreads) {
        return new GeneratorConfig(bootstrap, topics, generatorId, groupId, groupSize, maxBatchPrompts, linger,
                temperature, topK, topP, maxTokens, seed, device, maxStaleness, groupsPerVersion, intraOpThreads, clientConfig);
    }
}
