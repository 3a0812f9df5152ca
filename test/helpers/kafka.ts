/**
 * Integration-test fixtures on the real local broker: start it (or reuse it), fresh topic and
 * group names per test, temporary data directories, and helpers to read what landed.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as lancedb from '@lancedb/lancedb';
import { Kafka, type KafkaMessage, logLevel, type Message } from 'kafkajs';
import { pino } from 'pino';
import type { VariantBatch } from '../../src/batching/variant-batch.ts';
import { isolatedEnv } from '../../src/bench/child-process.ts';
import { type Config, type ConfigOverrides, loadConfig } from '../../src/config/index.ts';
import { createKafka } from '../../src/consumers/kafka-client.ts';
import type { PipelineSpec } from '../../src/consumers/pipeline.ts';
import { PipelineConsumer } from '../../src/consumers/pipeline-consumer.ts';
import { caughtUp, ensureTopics } from '../../src/consumers/topics.ts';
import type { Sink } from '../../src/core/sink.ts';
import { configuredPipelines } from '../../src/pipelines/index.ts';
import { variantPipeline, variantSinks } from '../../src/pipelines/variants.ts';
import { KuzuStore } from '../../src/sinks/kuzu/kuzu-store.ts';
import { waitFor } from './wait.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export { FIXTURE_VCF, fixtureVcf, SHARED_VCF, sharedCorpusPresent, sharedVcf } from './shared-data.ts';
export const silentLogger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

let brokers: string | undefined;

/** Starts the project's local broker unless KAFKA_BROKERS names one; idempotent. */
export function ensureBroker(): string {
  if (brokers) return brokers;
  if (process.env.KAFKA_BROKERS) {
    brokers = process.env.KAFKA_BROKERS;
    return brokers;
  }
  const result = spawnSync('bash', [join(ROOT, 'scripts/kafka/kafka.sh'), 'up'], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  if (result.status !== 0) throw new Error(`could not start the local Kafka broker (exit ${result.status})`);
  brokers = `127.0.0.1:${process.env.KAFKA_PORT ?? '19092'}`;
  return brokers;
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}

export function testKafka(): Kafka {
  return new Kafka({
    clientId: 'varstream-test',
    brokers: ensureBroker().split(','),
    logLevel: logLevel.NOTHING,
  });
}

/** A configuration with fresh topics, group and data directories. */
export function testConfig(overrides: ConfigOverrides = {}): Config {
  const name = uniqueName('it');
  const dir = mkdtempSync(join(tmpdir(), 'varstream-it-'));
  return loadConfig({
    env: {},
    overrides: {
      ...overrides,
      kafka: { brokers: ensureBroker(), groupId: name, ...overrides.kafka },
      topics: {
        variants: `${name}-variants`,
        embeddings: `${name}-embeddings`,
        deadLetter: `${name}-dlq`,
        ...overrides.topics,
      },
      lancedb: { uri: join(dir, 'lancedb'), ...overrides.lancedb },
      kuzu: { path: join(dir, 'kuzu', 'graph.kuzu'), bufferPoolBytes: '128Mi', ...overrides.kuzu },
      batch: { lingerMs: 100, ...overrides.batch },
      sink: { retryInitialMs: 20, retryMaxMs: 200, ...overrides.sink },
    },
  });
}

/** An in-process variant consumer for `config`, with its configured sinks or the given ones. */
export function testConsumer(config: Config, sinks?: Sink<VariantBatch>[]): PipelineConsumer {
  return pipelinesConsumer(config, [variantPipeline(config, sinks ?? variantSinks(config, silentLogger))]);
}

/** An in-process consumer running the given pipelines (default: the configured ones). */
export function pipelinesConsumer(
  config: Config,
  // biome-ignore lint/suspicious/noExplicitAny: pipelines of different payload types
  pipelines: PipelineSpec<any, any>[] = configuredPipelines(config, silentLogger),
): PipelineConsumer {
  return new PipelineConsumer({
    kafka: createKafka(config, silentLogger),
    config,
    logger: silentLogger,
    pipelines,
  });
}

export async function waitUntilCaughtUp(
  kafka: Kafka,
  config: Config,
  timeoutMs = 120_000,
  topic = config.topics.variants,
): Promise<void> {
  await waitFor(async () => (await caughtUp(kafka, config.kafka.groupId, topic)).done, {
    timeoutMs,
    intervalMs: 200,
    message: `group ${config.kafka.groupId} to commit the end of ${topic}`,
  });
}

/** Committed offset per partition (-1 when nothing is committed). */
export async function committedOffsets(
  kafka: Kafka,
  groupId: string,
  topic: string,
): Promise<Map<number, number>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const [result] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return new Map((result?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
  } finally {
    await admin.disconnect();
  }
}

/** Reads `count` messages from the start of a topic with a throwaway group. */
export async function readTopic(
  kafka: Kafka,
  topic: string,
  count: number,
  timeoutMs = 60_000,
): Promise<KafkaMessage[]> {
  const consumer = kafka.consumer({ groupId: uniqueName('reader'), maxBytes: 64 * 1024 * 1024 });
  const messages: KafkaMessage[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void messages.push(message) });
    await waitFor(() => messages.length >= count, { timeoutMs, message: `${count} messages on ${topic}` });
    return messages;
  } finally {
    await consumer.disconnect();
  }
}

export interface StoreCounts {
  rows: number;
  distinctIds: number;
  variants: number;
  genes: number;
  samples: number;
  inGene: number;
  carriedBy: number;
}

/** Rows of the LanceDB variants table, and how many distinct variant ids they hold. */
export async function countLance(config: Config): Promise<{ rows: number; distinctIds: number }> {
  const db = await lancedb.connect(config.lancedb.uri);
  const table = await db.openTable(config.lancedb.variantsTable);
  try {
    const ids = (await table.query().select(['variant_id']).toArray()).map((r) => String(r.variant_id));
    return { rows: await table.countRows(), distinctIds: new Set(ids).size };
  } finally {
    table.close();
    db.close();
  }
}

/** Counts what landed in LanceDB and Kuzu (opens them after the consumer closed them). */
export async function countStores(config: Config): Promise<StoreCounts> {
  const { rows, distinctIds } = await countLance(config);
  const store = new KuzuStore(config.kuzu.path, 128 * 1024 * 1024);
  await store.open();
  try {
    return {
      rows,
      distinctIds,
      // Every node with a variant key, whichever variant table (shard) holds it.
      variants: Number((await store.run('MATCH (v) WHERE v.key IS NOT NULL RETURN count(*) AS n'))[0]?.n),
      genes: await store.count('(:Gene)'),
      samples: await store.count('(:Sample)'),
      inGene: await store.count('()-[:IN_GENE]->()'),
      carriedBy: await store.count('()-[:CARRIED_BY]->()'),
    };
  } finally {
    await store.close();
  }
}

/**
 * A consumer environment of its own (group, topics, store directories: isolatedEnv, plus `extra`),
 * its topics created, and `messages(topic)` sent to its variants topic: the backlog a test then
 * consumes with a child `varstream consume`.
 */
export async function isolatedVariantBacklog(
  prefix: string,
  extra: Record<string, string>,
  messages: (topic: string) => Message[],
): Promise<{ id: string; env: Record<string, string>; config: Config; kafka: Kafka; topic: string }> {
  const id = uniqueName(prefix);
  const env = isolatedEnv(id, mkdtempSync(join(tmpdir(), `varstream-${prefix}-`)), extra);
  const config = loadConfig({ env });
  const kafka = createKafka(config, silentLogger);
  await ensureTopics(kafka, config);
  const topic = config.topics.variants;
  const producer = kafka.producer();
  await producer.connect();
  try {
    await producer.send({ topic, messages: messages(topic) });
  } finally {
    await producer.disconnect();
  }
  return { id, env, config, kafka, topic };
}
