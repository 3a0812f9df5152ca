#!/usr/bin/env node
// Readiness probe for the local broker, used by kafka.sh (`up`, `status`).
// It asks the broker for real answers through kafkajs (the client this project
// uses): describeCluster (Metadata) + listTopics. A listening port alone is not
// enough: a KRaft broker accepts connections before it has caught up with the
// metadata log and can serve requests.
//
//   node scripts/kafka/ready.mjs --brokers 127.0.0.1:19092 [--timeout-ms 90000] [--pid N]
//
// Exit codes: 0 ready, 1 timed out, 2 the watched pid died, 3 kafkajs missing.

import { readFileSync } from 'node:fs';
import process from 'node:process';
import { setTimeout as sleep } from 'node:timers/promises';

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

const brokers = arg('brokers', process.env.KAFKA_BROKERS ?? '127.0.0.1:19092').split(',');
const timeoutMs = Number(arg('timeout-ms', '90000'));
const pid = arg('pid') ? Number(arg('pid')) : undefined;
const quiet = process.argv.includes('--quiet');

// kafkajs 2.2.4 calls setTimeout with a negative delay in its request queue
// (throttledUntil - Date.now() while not throttled); Node >= 24 warns about it
// on stderr. Harmless (Node clamps it to 1 ms), so keep this probe quiet.
const emitWarning = process.emitWarning;
process.emitWarning = function (warning, ...rest) {
  const type =
    typeof warning === 'object' ? warning?.name : typeof rest[0] === 'object' ? rest[0]?.type : rest[0];
  if (type === 'TimeoutNegativeWarning') return;
  return emitWarning.call(this, warning, ...rest);
};

let kafkajs;
try {
  kafkajs = await import('kafkajs');
} catch (err) {
  console.error(`ready.mjs: cannot load kafkajs (run \`npm ci\` in the repo first): ${err.message}`);
  process.exit(3);
}
const { Kafka, logLevel } = kafkajs;

function pidAlive(p) {
  try {
    process.kill(p, 0);
  } catch (err) {
    if (err.code !== 'EPERM') return false;
  }
  // A process that died but was not reaped yet (zombie) still answers kill(0).
  try {
    const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true; // no procfs: trust kill(0)
  }
}

const kafka = new Kafka({
  clientId: 'varstream-kafka-ready',
  brokers,
  logLevel: logLevel.NOTHING,
  connectionTimeout: 1000,
  requestTimeout: 5000,
  retry: { retries: 0 },
});

const deadline = Date.now() + timeoutMs;
let lastError = 'no attempt made';
let attempts = 0;
while (Date.now() < deadline) {
  if (pid !== undefined && !pidAlive(pid)) {
    console.error(`ready.mjs: broker process ${pid} exited while waiting (last error: ${lastError})`);
    process.exit(2);
  }
  attempts += 1;
  const admin = kafka.admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    const topics = await admin.listTopics();
    if (!quiet) {
      console.log(
        `ready: cluster ${cluster.clusterId}, controller ${cluster.controller}, ` +
          `${cluster.brokers.length} broker(s), ${topics.length} topic(s), ${attempts} attempt(s)`,
      );
    }
    await admin.disconnect().catch(() => {});
    process.exit(0);
  } catch (err) {
    lastError = `${err.name}: ${err.message}`;
    await admin.disconnect().catch(() => {});
  }
  await sleep(Math.min(500, Math.max(0, deadline - Date.now())));
}
console.error(
  `ready.mjs: broker at ${brokers.join(',')} not ready after ${timeoutMs} ms (last error: ${lastError})`,
);
process.exit(1);
