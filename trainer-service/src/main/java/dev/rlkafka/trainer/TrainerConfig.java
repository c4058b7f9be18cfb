package dev.rlkafka.trainer;

import dev.rlkafka.policy.train.Algorithm;
import dev.rlkafka.policy.train.UpdaterConfig;
import dev.rlkafka.schemas.KafkaClientConfig;
import dev.rlkafka.schemas.TopicSpec;
import dev.rlkafka.schemas.Topics;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * Every setting of the trainer, validated once here.
 *
 * @param bootstrap        Kafka bootstrap servers, e.g. {@code localhost:9092}
 * @param clientConfig     Kafka client settings of the cluster (security, timeouts) that every client of the
 *                         service starts from; its own settings win (default none, {@link KafkaClientConfig#NONE})
 * @param topics           topic names of the run (a prefix moves them all)
 * @param trainerId        id of this trainer: Metric/DeadLetter serviceId and part of the transactional id
 * @param batchGroups      B, scored groups per optimiser step, >= 1 (default {@value #DEFAULT_BATCH_GROUPS}); groups
 *                         dropped as stale keep their places when no other group is waiting and half or more are left
 * @param stepsPerVersion  K, optimiser steps between published policy versions, >= 1 (default {@value #DEFAULT_STEPS_PER_VERSION})
 * @param maxStaleness     policy versions a group's oldest rollout may lag the trainer's version, >= 0; older groups are
 *                         dropped and counted (default {@value #DEFAULT_MAX_STALENESS})
 * @param update           the algorithm and its settings: GRPO (default), PPO or online DPO ({@link UpdaterConfig}'s types),
 *                         its loss, AdamW (lr default {@value #DEFAULT_LR}, about 10× below SFT's) and the global
 *                         gradient-norm clip (default {@value #DEFAULT_MAX_GRAD_NORM})
 * @param checkpointDir    where {@value #CHECKPOINT_FILE} lives; required. Its checkpoint is the trainer's whole state:
 *                         a run resumes from it, and deleting it starts the run over from the reference
 * @param referencePath    the SFT checkpoint file: the frozen reference of the KL term, and the initial policy (version 0)
 *                         when {@code checkpointDir} holds no checkpoint yet
 * @param device           DJL device name: {@code cpu} (default), {@code gpu}, {@code gpu1}, ...
 * @param intraOpThreads   libtorch intra-op threads, >= 1 (default {@value #DEFAULT_INTRA_OP_THREADS}, fastest on 2 cores)
 * @param weightChunkBytes bytes per WeightChunk on the weights topic, in [1, {@link TopicSpec#WEIGHT_CHUNK_BYTES}] (the default)
 * @param weightsStore     null (default): versions ride the weights topic in chunks. Else a directory every generator
 *                         mounts at the same path: each version is written to {@link #weightsStoreDir()} and only a
 *                         pointer is published ({@link dev.rlkafka.schemas.WeightBlobs}), so the broker does not carry
 *                         and keep the weights; the newest {@value #WEIGHTS_STORE_KEEP} versions are kept
 * @param maxSteps         stop after this many optimiser steps in total (resumed runs count earlier steps); 0 = no limit
 * @param stopAtEnd        stop once every scored group that was on the topic when the trainer started has been consumed
 *                         (a last, smaller batch is trained); false = keep waiting for new groups until closed
 * @param pollTimeout      longest one consumer poll blocks, > 0 (default 200 ms); bounds how fast {@code close()} is noticed
 * @param seed             seed of the policy's initial weights before the checkpoint is loaded into it (no effect on results)
 */
public record TrainerConfig(String bootstrap, Topics topics, String trainerId, int batchGroups, int stepsPerVersion,
                            int maxStaleness, UpdaterConfig update, Path checkpointDir, Path referencePath,
                            String device, int intraOpThreads, int weightChunkBytes, Path weightsStore, long maxSteps,
                            boolean stopAtEnd, Duration pollTimeout, long seed, KafkaClientConfig clientConfig) {

    public static final String DEFAULT_TRAINER_ID = "trainer";
    public static final int DEFAULT_BATCH_GROUPS = 8;
    public static final int DEFAULT_STEPS_PER_VERSION = 1;
    public static final int DEFAULT_MAX_STALENESS = 2;
    public static final double DEFAULT_LR = 1e-4;
    public static final double DEFAULT_MAX_GRAD_NORM = 1.0;
    public static final Algorithm DEFAULT_ALGORITHM = Algorithm.GRPO;
    public static final UpdaterConfig DEFAULT_UPDATE = defaultUpdate(DEFAULT_ALGORITHM);
    public static final String DEFAULT_DEVICE = "cpu";
    public static final int DEFAULT_INTRA_OP_THREADS = 2;
    public static final int DEFAULT_WEIGHT_CHUNK_BYTES = TopicSpec.WEIGHT_CHUNK_BYTES;
    public static final Duration DEFAULT_POLL_TIMEOUT = Duration.ofMillis(200);
    /** Versions a weights store keeps: a generator loads the newest it sees, so older ones are only for a slow reader. */
    public static final int WEIGHTS_STORE_KEEP = 8;
    /** The checkpoint's file name inside {@code checkpointDir}. */
    public static final String CHECKPOINT_FILE = "trainer.ckpt";

    public TrainerConfig {
        if (clientConfig == null) throw new IllegalArgumentException("clientConfig must not be null (use KafkaClientConfig.NONE)");
        if (bootstrap == null || bootstrap.isBlank()) throw new IllegalArgumentException("bootstrap must be set, got '" + bootstrap + "'");
        Objects.requireNonNull(topics, "topics");
        if (trainerId == null || !trainerId.matches("[a-zA-Z0-9._-]+")) {
            throw new IllegalArgumentException("trainerId must be non-empty and use only a-z A-Z 0-9 . _ -, got '" + trainerId + "'");
        }
        if (batchGroups < 1) throw new IllegalArgumentException("batchGroups must be >= 1, got " + batchGroups);
        if (stepsPerVersion < 1) throw new IllegalArgumentException("stepsPerVersion must be >= 1, got " + stepsPerVersion);
        if (maxStaleness < 0) throw new IllegalArgumentException("maxStaleness must be >= 0, got " + maxStaleness);
        Objects.requireNonNull(update, "update");
        if (checkpointDir == null) throw new IllegalArgumentException("checkpointDir is required");
        if (referencePath == null) throw new IllegalArgumentException("referencePath (the SFT checkpoint) is required");
        if (device == null || device.isBlank()) throw new IllegalArgumentException("device must be set, got '" + device + "'");
        if (intraOpThreads < 1) throw new IllegalArgumentException("intraOpThreads must be >= 1, got " + intraOpThreads);
        if (weightChunkBytes < 1 || weightChunkBytes > TopicSpec.WEIGHT_CHUNK_BYTES) {
            throw new IllegalArgumentException("weightChunkBytes must be in [1, " + TopicSpec.WEIGHT_CHUNK_BYTES + "], got " + weightChunkBytes);
        }
        if (maxSteps < 0) throw new IllegalArgumentException("maxSteps must be >= 0 (0 = no limit), got " + maxSteps);
        if (pollTimeout == null || pollTimeout.isNegative() || pollTimeout.isZero()) {
            throw new IllegalArgumentException("pollTimeout must be > 0, got " + pollTimeout);
        }
    }

    /** The defaults, with the three settings that have none. */
    public static TrainerConfig defaults(String bootstrap, Path checkpointDir, Path referencePath) {
        return new TrainerConfig(bootstrap, Topics.DEFAULT, DEFAULT_TRAINER_ID, DEFAULT_BATCH_GROUPS, DEFAULT_STEPS_PER_VERSION,
                DEFAULT_MAX_STALENESS, DEFAULT_UPDATE, checkpointDir, referencePath, DEFAULT_DEVICE, DEFAULT_INTRA_OP_THREADS,
                DEFAULT_WEIGHT_CHUNK_BYTES, null, 0, false, DEFAULT_POLL_TIMEOUT, 0, KafkaClientConfig.NONE);
    }

    /** {@code algorithm}'s update with the trainer's default learning rate and gradient clip, its own default β, no decay. */
    public static UpdaterConfig defaultUpdate(Algorithm algorithm) {
        return algorithm.config(DEFAULT_LR, algorithm.defaultBeta(), 0, DEFAULT_MAX_GRAD_NORM);
    }

    /** The update rule of this run; set by the type of {@link #update()}. */
    public Algorithm algorithm() {
        return update.algorithm();
    }

    /** {@code checkpointDir/trainer.ckpt}. */
    public Path checkpointPath() {
        return checkpointDir.resolve(CHECKPOINT_FILE);
    }

    /** The run's own folder of the weights store, named after its weights topic (runs sharing a store never prune each other); null without one. */
    public Path weightsStoreDir() {
        return weightsStore == null ? null : weightsStore.resolve(topics.policyWeights());
    }

    public StalenessPolicy stalenessPolicy() {
        return new StalenessPolicy(maxStaleness);
    }

    /** Producer transactional id: one per run and trainer, so a restarted trainer fences its killed predecessor. */
    public String transactionalId() {
        return "rlkafka-trainer-" + topics.prefix() + trainerId;
    }

    public TrainerConfig withTopics(Topics topics) {
        return new TrainerConfig(bootstrap, topics, trainerId, batchGroups, stepsPerVersion, maxStaleness, update, checkpointDir,
                referencePath, device, intraOpThreads, weightChunkBytes, weightsStore, maxSteps, stopAtEnd, pollTimeout, seed, clientConfig);
    }

    /** The cluster's own client settings (security, timeouts), under the ones this service needs. */
    public TrainerConfig withClientConfig(KafkaClientConfig clientConfig) {
        return new TrainerConfig(bootstrap, topics, trainerId, batchGroups, stepsPerVersion, maxStaleness, update,
                checkpointDir, referencePath, device, intraOpThreads, weightChunkBytes, weightsStore, maxSteps, stopAtEnd,
                pollTimeout, seed, clientConfig);
    }

    public TrainerConfig withTrainerId(String trainerId) {
        return new TrainerConfig(bootstrap, topics, trainerId, batchGroups, stepsPerVersion, maxStaleness, update, checkpointDir,
                referencePath, device, intraOpThreads, weightChunkBytes, weightsStore, maxSteps, stopAtEnd, pollTimeout, seed, clientConfig);
    }

    /** B, K and the staleness bound together: they are usually tuned together. */
    public TrainerConfig withBatching(int batchGroups, int stepsPerVersion, int maxStaleness) {
        return new TrainerConfig(bootstrap, topics, trainerId, batchGroups, stepsPerVersion, maxStaleness, update, checkpointDir,
                referencePath, device, intraOpThreads, weightChunkBytes, weightsStore, maxSteps, stopAtEnd, pollTimeout, seed, clientConfig);
    }

    public TrainerConfig withUpdate(UpdaterConfig update) {
        return new TrainerConfig(bootstrap, topics, trainerId, batchGroups, stepsPerVersion, maxStaleness, update, checkpointDir,
                referencePath, device, intraOpThreads, weightChunkBytes, weightsStore, maxSteps, stopAtEnd, pollTimeout, seed, clientConfig);
    }

    public TrainerConfig withDevice(String device, int intraOpThreads) {
        return new TrainerConfig(bootstrap, topics, trainerId, batchGroups, stepsPerVersion, maxStaleness, update, checkpointDir,
                referencePath, device, intraOpThreads, weightChunkBytes, weightsStore, maxSteps, stopAtEnd, pollTimeout, seed, clientConfig);
    }

    public TrainerConfig withWeightChunkBytes(int weightChunkBytes) {
        return new TrainerConfig(bootstrap, topics, trainerId, batchGroups, stepsPerVersion, maxStaleness, update, checkpointDir,
                referencePath, device, intraOpThreads, weightChunkBytes, weightsStore, maxSteps, stopAtEnd, pollTimeout, seed, clientConfig);
    }

    /** When to stop: after {@code maxSteps} steps in total (0 = no limit) and/or at the end of the topic. */
    public TrainerConfig withStop(long maxSteps, boolean stopAtEnd) {
        return new TrainerConfig(bootstrap, topics, trainerId, batchGroups, stepsPerVersion, maxStaleness, update, checkpointDir,
                referencePath, device, intraOpThreads, weightChunkBytes, weightsStore, maxSteps, stopAtEnd, pollTimeout, seed, clientConfig);
    }

    /** Where versions go instead of the weights topic; null sends them in chunks (see {@code weightsStore}). */
    public TrainerConfig withWeightsStore(Path weightsStore) {
        return new TrainerConfig(bootstrap, topics, trainerId, batchGroups, stepsPerVersion, maxStaleness, update, checkpointDir,
                referencePath, device, intraOpThreads, weightChunkBytes, weightsStore, maxSteps, stopAtEnd, pollTimeout, seed, clientConfig);
    }

    public TrainerConfig withPollTimeout(Duration pollTimeout) {
        return new TrainerConfig(bootstrap, topics, trainerId, batchGroups, stepsPerVersion, maxStaleness, update, checkpointDir,
                referencePath, device, intraOpThreads, weightChunkBytes, weightsStore, maxSteps, stopAtEnd, pollTimeout, seed, clientConfig);
    }
}
