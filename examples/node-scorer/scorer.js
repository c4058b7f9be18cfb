#!/usr/bin/env node
'use strict';
// An external reward scorer for rlkafka: consumes <prefix>rl.rollouts in its own consumer group,
// scores each rollout by exact match of its answer against the reference answer, and writes one
// Reward per rollout to <prefix>rl.rewards, keyed by group id. See docs/scorers.md.
//
//   node scorer.js --bootstrap localhost:9092 --prefix run-abc. --scorer-id node-exact-answer

const path = require('path');
const { parseArgs } = require('util');
const { Kafka, Partitioners, logLevel } = require('kafkajs');
const { loadContract, hex } = require('./contract');

const USAGE = `usage: node scorer.js [options]
  --bootstrap HOST:PORT[,...]  Kafka bootstrap servers (env RLKAFKA_BOOTSTRAP, default localhost:9092)
  --prefix P                   topic prefix of the run, e.g. run-abc. (env RLKAFKA_PREFIX, default none)
  --scorer-id ID               scorer id written on every Reward (env RLKAFKA_SCORER_ID, default node-exact-answer)
  --group-id G                 consumer group (default <prefix>rlkafka-scorer-<scorer id>)
  --schemas DIR                directory of the .avsc files (env RLKAFKA_SCHEMAS, default schemas/src/main/avro of this repository)
  --fingerprints               print the writer-schema fingerprints and exit
  --verbose                    log every batch
  --help                       this text`;

function options() {
  const { values } = parseArgs({
    options: {
      bootstrap: { type: 'string', default: process.env.RLKAFKA_BOOTSTRAP || 'localhost:9092' },
      prefix: { type: 'string', default: process.env.RLKAFKA_PREFIX || '' },
      'scorer-id': { type: 'string', default: process.env.RLKAFKA_SCORER_ID || 'node-exact-answer' },
      'group-id': { type: 'string' },
      schemas: {
        type: 'string',
        default: process.env.RLKAFKA_SCHEMAS || path.join(__dirname, '..', '..', 'schemas', 'src', 'main', 'avro'),
      },
      fingerprints: { type: 'boolean', default: false },
      verbose: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  const scorerId = values['scorer-id'];
  if (!scorerId.trim()) throw new Error('--scorer-id must not be blank');
  return {
    bootstrap: values.bootstrap.split(',').map((s) => s.trim()).filter(Boolean),
    prefix: values.prefix,
    scorerId,
    groupId: values['group-id'] || `${values.prefix}rlkafka-scorer-${scorerId}`,
    schemas: values.schemas,
    fingerprints: values.fingerprints,
    verbose: values.verbose,
    help: values.help,
  };
}

function log(message) {
  console.error(`${new Date().toISOString()} [node-scorer] ${message}`);
}

/**
 * The score of one rollout: 1 when its completion, stripped of surrounding whitespace, is exactly
 * the reference answer (the arithmetic task's completion is the answer digits, e.g. "81"), else 0.
 */
function score(rollout) {
  if (rollout.referenceAnswer === null) {
    return { score: 0, rationale: 'no reference answer to compare with' };
  }
  const answer = rollout.completionText.trim();
  const reference = rollout.referenceAnswer.trim();
  return answer === reference
    ? { score: 1, rationale: `answer '${answer}' is the reference answer` }
    : { score: 0, rationale: `answer '${answer}' is not the reference answer '${reference}'` };
}

/** `topic-partition@offset`, as rlkafka's own messages name a record. */
function where(topic, partition, message) {
  return `${topic}-${partition}@${message.offset}`;
}

async function main() {
  const opts = options();
  if (opts.help) {
    console.log(USAGE);
    return;
  }
  const contract = loadContract(opts.schemas);
  if (opts.fingerprints) {
    for (const name of ['rollout', 'reward', 'deadLetter']) {
      console.log(`${contract[name].name} ${hex(contract[name].fingerprint)}`);
    }
    return;
  }
  const topics = {
    rollouts: opts.prefix + 'rl.rollouts',
    rewards: opts.prefix + 'rl.rewards',
    deadLetters: opts.prefix + 'rl.dead-letters',
  };

  const kafka = new Kafka({ clientId: opts.scorerId, brokers: opts.bootstrap, logLevel: logLevel.WARN });
  // Java-compatible murmur2 partitioner (the Java producer's default): a reward keyed by its group
  // id lands on the partition of that group's rollouts
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  // readUncommitted false = read_committed: the generator writes rollouts in transactions
  // maxWaitTimeInMs bounds how long an idle fetch, and so a SIGTERM, waits (kafkajs default 5 s)
  const consumer = kafka.consumer({ groupId: opts.groupId, readUncommitted: false, maxWaitTimeInMs: 1000 });

  const stats = { rollouts: 0, correct: 0, bad: 0 };
  let stopping = false;
  const stop = async (signal) => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: stopping (finishing the current batch)`);
    let code = 0;
    try {
      await consumer.disconnect();  // waits for the running batch, then leaves the group
      await producer.disconnect();
    } catch (e) {
      log(`could not stop cleanly: ${e.stack || e}`);
      code = 1;
    }
    log(`stopped after ${stats.rollouts} rollouts (${stats.correct} correct), ${stats.bad} bad records`);
    process.exit(code);
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));

  consumer.on(consumer.events.GROUP_JOIN, (e) => {
    log(`joined consumer group ${opts.groupId}: partitions ${JSON.stringify(e.payload.memberAssignment)}`);
  });
  consumer.on(consumer.events.CRASH, (e) => {
    if (!e.payload.restart) {
      log(`consumer crashed and will not restart: ${e.payload.error}`);
      process.exit(1);
    }
  });

  await producer.connect();
  await consumer.connect();
  // fromBeginning: a new group scores the rollouts already on the topic, as the reward-service reads them
  await consumer.subscribe({ topic: topics.rollouts, fromBeginning: true });
  log(`scorer ${opts.scorerId} on ${opts.bootstrap.join(',')}: ${topics.rollouts} -> ${topics.rewards} `
    + `(rollout schema ${hex(contract.rollout.fingerprint)}, reward schema ${hex(contract.reward.fingerprint)})`);

  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    eachBatch: async ({ batch, resolveOffset, heartbeat }) => {
      if (batch.messages.length === 0) return;
      const rewards = [];
      const deadLetters = [];
      for (const message of batch.messages) {
        let rollout;
        try {
          rollout = contract.rollout.decode(message.value);
        } catch (e) {
          // bad input never stops the scorer: report it with its bytes and go on
          const reason = `cannot decode Rollout from ${where(batch.topic, batch.partition, message)}: ${e.message}`;
          log(`dead letter UNDECODABLE: ${reason}`);
          stats.bad++;
          deadLetters.push({
            key: opts.scorerId,
            value: contract.deadLetter.encode({
              sourceTopic: batch.topic,
              sourcePartition: batch.partition,
              sourceOffset: BigInt(message.offset),
              sourceKey: message.key,
              originalBytes: message.value,
              reason,
              errorType: 'UNDECODABLE',
              serviceId: opts.scorerId,
              timestampMs: new Date(),
            }),
          });
          continue;
        }
        const result = score(rollout);
        stats.rollouts++;
        if (result.score === 1) stats.correct++;
        rewards.push({
          key: rollout.groupId,  // UTF-8 group id: co-partitions the reward with its rollouts
          value: contract.reward.encode({
            rolloutId: rollout.rolloutId,
            groupId: rollout.groupId,
            scorerId: opts.scorerId,
            score: result.score,
            rationale: result.rationale,
            metadata: { source: 'examples/node-scorer', policyVersion: String(rollout.policyVersion) },
            createdAtMs: new Date(),
          }),
        });
      }
      const topicMessages = [];
      if (rewards.length) topicMessages.push({ topic: topics.rewards, messages: rewards });
      if (deadLetters.length) topicMessages.push({ topic: topics.deadLetters, messages: deadLetters });
      if (topicMessages.length) await producer.sendBatch({ topicMessages, acks: -1 });
      // offsets only after the rewards are acknowledged: a crash before this re-scores the batch,
      // and the reward-service keeps the first score of each (scorer, rollout) and dead-letters repeats
      const last = batch.messages[batch.messages.length - 1].offset;
      await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: (BigInt(last) + 1n).toString() }]);
      resolveOffset(last);
      await heartbeat();
      if (opts.verbose) {
        log(`${batch.topic}-${batch.partition}@${batch.firstOffset()}..${last}: ${rewards.length} rewards, `
          + `${deadLetters.length} dead letters (total ${stats.rollouts} rollouts, ${stats.correct} correct)`);
      }
    },
  });
}

main().catch((e) => {
  if (String(e.code).startsWith('ERR_PARSE_ARGS')) {
    console.error(`${e.message}\n${USAGE}`);
    process.exit(2);
  }
  log(`failed: ${e.stack || e}`);
  process.exit(1);
});
