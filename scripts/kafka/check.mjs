#!/usr/bin/env node
// End-to-end check of the local broker with kafkajs (the client this project
// uses), covering exactly the calls varstream relies on:
//   admin.createTopics (3 partitions), producer.send (1000 records, one of
//   them a 2 MB value), consumer group join + eachBatch with
//   eachBatchAutoResolve:false / autoCommit:false, explicit
//   consumer.commitOffsets, admin.fetchTopicOffsets and admin.fetchOffsets.
//
//   KAFKA_BROKERS=127.0.0.1:19092 node scripts/kafka/check.mjs
//
// Every run uses a fresh topic + group named varstream-check-<time>. Topics of
// earlier runs are listed first with their end offsets and committed group
// offsets, which shows that data survived a broker restart. Pass --cleanup to
// delete this run's topic at the end. Exit code 0 means every check passed.

import { createHash } from 'node:crypto';
import process from 'node:process';
import { Kafka, logLevel, Partitioners } from 'kafkajs';

const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:19092').split(',');
const cleanup = process.argv.includes('--cleanup');
const PREFIX = 'varstream-check-';
const runId = new Date().toISOString().replace(/[-:.TZ]/g, '');
const topic = `${PREFIX}${runId}`;
const groupId = `${PREFIX}group-${runId}`;
const TOTAL = 1000;
const BIG_INDEX = 500;
const BIG_SIZE = 2 * 1024 * 1024;

const t0 = performance.now();
const ms = () => `${Math.round(performance.now() - t0)} ms`;
const log = (msg) => console.log(`[check ${ms().padStart(8)}] ${msg}`);
const failures = [];
function expect(ok, what) {
  log(`${ok ? 'PASS' : 'FAIL'} ${what}`);
  if (!ok) failures.push(what);
}

// Record which protocol API versions kafkajs negotiated with this broker (its
// DEBUG log names every request as "Request <Api>(key: K, version: V)"), and
// print WARN/ERROR entries like kafkajs' default logger does.
const apiVersions = new Map();
const logCreator =
  () =>
  ({ namespace, level, label, log: entry }) => {
    const m = /^Request (\w+)\(key: (\d+), version: (\d+)\)/.exec(entry.message);
    if (m) apiVersions.set(m[1], `${m[1]}(key ${m[2]}) v${m[3]}`);
    if (level <= logLevel.WARN) {
      const { message, ...rest } = entry;
      console.error(`[kafkajs ${label} ${namespace}] ${message} ${JSON.stringify(rest)}`);
    }
  };
const kafka = new Kafka({ clientId: 'varstream-kafka-check', brokers, logLevel: logLevel.DEBUG, logCreator });
const admin = kafka.admin();
await admin.connect();

const cluster = await admin.describeCluster();
log(`connected to ${brokers.join(',')}: cluster ${cluster.clusterId}, ${cluster.brokers.length} broker(s)`);

// Earlier runs (persistence across restarts).
const existing = (await admin.listTopics()).filter((t) => t.startsWith(PREFIX)).sort();
for (const old of existing) {
  const ends = await admin.fetchTopicOffsets(old);
  const oldGroup = `${PREFIX}group-${old.slice(PREFIX.length)}`;
  const committed = await admin.fetchOffsets({ groupId: oldGroup, topics: [old] });
  const endStr = ends.map((p) => `${p.partition}:${p.high}`).join(' ');
  const comStr = committed[0].partitions.map((p) => `${p.partition}:${p.offset}`).join(' ');
  log(`existing topic ${old}: end offsets ${endStr} | group committed ${comStr}`);
}

// 1. createTopics
const created = await admin.createTopics({
  topics: [{ topic, numPartitions: 3, replicationFactor: 1 }],
  waitForLeaders: true,
});
const meta = await admin.fetchTopicMetadata({ topics: [topic] });
expect(created && meta.topics[0].partitions.length === 3, `createTopics ${topic} with 3 partitions`);

// 2. produce 1000 records, one of them 2 MB
const bigValue = Buffer.alloc(BIG_SIZE);
for (let i = 0; i < BIG_SIZE; i++) bigValue[i] = (i * 31 + 7) & 0xff;
const bigHash = createHash('sha256').update(bigValue).digest('hex');
const producer = kafka.producer({
  createPartitioner: Partitioners.DefaultPartitioner,
  allowAutoTopicCreation: false,
});
await producer.connect();
const tProduce = performance.now();
let produced = 0;
for (let start = 0; start < TOTAL; start += 100) {
  const messages = [];
  for (let i = start; i < Math.min(TOTAL, start + 100); i++) {
    messages.push({
      key: `variant-${i}`,
      value: i === BIG_INDEX ? bigValue : JSON.stringify({ i, chrom: `chr${(i % 22) + 1}`, pos: 10_000 + i }),
      headers: { seq: String(i) },
    });
  }
  const res = await producer.send({ topic, acks: -1, messages });
  produced += messages.length;
  if (start === 0) log(`first send acked: ${JSON.stringify(res)}`);
}
await producer.disconnect();
expect(
  produced === TOTAL,
  `produced ${produced} records incl. one ${BIG_SIZE}-byte value in ${Math.round(performance.now() - tProduce)} ms`,
);

// 3. fetchTopicOffsets
const ends = await admin.fetchTopicOffsets(topic);
const endTotal = ends.reduce((n, p) => n + Number(p.high), 0);
expect(
  endTotal === TOTAL,
  `fetchTopicOffsets: ${ends.map((p) => `p${p.partition} high=${p.high}`).join(', ')} (sum ${endTotal})`,
);

// 4. consume in a group, manual resolve + explicit commits
const consumer = kafka.consumer({
  groupId,
  sessionTimeout: 30000,
  heartbeatInterval: 3000,
  maxWaitTimeInMs: 500,
});
let joinedMs;
consumer.on(consumer.events.GROUP_JOIN, (e) => {
  joinedMs = Math.round(performance.now() - t0);
  const p = e.payload;
  log(
    `group joined: ${groupId} protocol ${p.groupProtocol}, leader=${p.isLeader}, assignment ${JSON.stringify(p.memberAssignment)}`,
  );
});
await consumer.connect();
await consumer.subscribe({ topics: [topic], fromBeginning: true });

const seen = new Set();
let bigOk = false;
let batches = 0;
let commits = 0;
const lastCommitted = new Map();
const tConsume = performance.now();
const done = new Promise((resolve, reject) => {
  const timer = setTimeout(
    () => reject(new Error(`consumed only ${seen.size}/${TOTAL} within 60 s`)),
    60_000,
  );
  consumer
    .run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
        batches += 1;
        let last;
        for (const m of batch.messages) {
          if (!isRunning() || isStale()) break;
          const seq = Number(m.headers.seq.toString());
          seen.add(seq);
          if (seq === BIG_INDEX) {
            bigOk =
              m.value.length === BIG_SIZE && createHash('sha256').update(m.value).digest('hex') === bigHash;
          }
          resolveOffset(m.offset);
          last = m.offset;
        }
        if (last !== undefined) {
          const next = (BigInt(last) + 1n).toString();
          await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: next }]);
          lastCommitted.set(batch.partition, next);
          commits += 1;
        }
        await heartbeat();
        if (seen.size >= TOTAL) {
          clearTimeout(timer);
          resolve();
        }
      },
    })
    .catch(reject);
});
await done;
expect(
  seen.size === TOTAL,
  `consumed ${seen.size} distinct records in ${batches} batches, ${commits} explicit commitOffsets, in ${Math.round(performance.now() - tConsume)} ms (group joined at ${joinedMs} ms)`,
);
expect(bigOk, `2 MB value arrived intact (sha256 ${bigHash.slice(0, 16)}…)`);
await consumer.disconnect();

// 5. fetchOffsets: committed offsets must equal the end offsets
const committed = await admin.fetchOffsets({ groupId, topics: [topic] });
const byPartition = new Map(committed[0].partitions.map((p) => [p.partition, p.offset]));
const matches = ends.every(
  (p) => byPartition.get(p.partition) === p.high && lastCommitted.get(p.partition) === p.high,
);
expect(
  matches,
  `fetchOffsets(${groupId}): ${[...byPartition].map(([p, o]) => `p${p}=${o}`).join(', ')} == end offsets`,
);

if (cleanup) {
  await admin.deleteTopics({ topics: [topic] });
  await admin.deleteGroups([groupId]);
  log(`deleted topic ${topic} and group ${groupId}`);
}
await admin.disconnect();

log(`API versions kafkajs negotiated: ${[...apiVersions.values()].sort().join(', ')}`);

if (failures.length) {
  log(`FAILED: ${failures.length} check(s): ${failures.join('; ')}`);
  process.exit(1);
}
log(`OK: all checks passed against ${brokers.join(',')}`);
