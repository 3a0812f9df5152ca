/**
 * `npm run demo`: the main job end to end on this machine. Starts the local broker unless
 * KAFKA_BROKERS is set, publishes a VCF (by default DEMO_VCF, a real one), consumes it into
 * LanceDB and Kuzu until every offset is committed, and prints a summary.
 */

import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as lancedb from '@lancedb/lancedb';
import { type Config, formatBytes, loadConfig } from '../config/index.ts';
import { type createKafka, reachableKafka } from '../consumers/kafka-client.ts';
import { PipelineConsumer } from '../consumers/pipeline-consumer.ts';
import { kafkaPublishers } from '../consumers/publisher.ts';
import { caughtUp, ensureTopics } from '../consumers/topics.ts';
import type { Logger } from '../core/logger.ts';
import { variantPipeline, variantSinks } from '../pipelines/variants.ts';
import { produceVcf } from '../producer/produce-vcf.ts';
import { fixtureVcf } from '../producer/shared-data.ts';
import { writeSyntheticVcf } from '../producer/synthetic-vcf.ts';
import { graphCounts } from '../sinks/kuzu/graph-queries.ts';
import { KuzuStore } from '../sinks/kuzu/kuzu-store.ts';
import { brokersOrLocal } from './local-kafka.ts';
import { formatSeconds, Progress } from './progress.ts';
import { RssSampler } from './rss-sampler.ts';
import { skippedSummary, skipReporter } from './skipped.ts';

/**
 * The demo's real input: the Genome in a Bottle Ashkenazi trio (3 samples, 9,940 records, genes
 * from bcftools csq's BCSQ), vendored in fixtures/vcf/ (its README: source, licence, checksum).
 */
export const DEMO_VCF = 'giab_ashk_trio.bcsq.vcf.gz';

export interface DemoOptions {
  /** Default: DEMO_VCF; with `records` or `samples`, a generated VCF. */
  vcf?: string;
  records?: number;
  samples?: number;
  dataDir: string;
  timeoutMs: number;
}

export interface DemoSummary {
  messages: number;
  variants: number;
  genes: number;
  samples: number;
  carriedByEdges: number;
  inGeneEdges: number;
  deadLetters: number;
  produceSeconds: number;
  consumeSeconds: number;
  peakRssBytes: number;
  lancedbUri: string;
  kuzuPath: string;
  /** The run's settings (VARSTREAM_CONFIG for `status`, `dlq` and `query`). */
  configFile: string;
}

export async function demo(options: DemoOptions, logger: Logger): Promise<DemoSummary> {
  const rss = new RssSampler();
  const brokers = brokersOrLocal();
  const runId = `demo-${new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15)}`;
  const dir = resolve(options.dataDir, runId);
  mkdirSync(dir, { recursive: true });
  const settings = {
    kafka: { brokers, groupId: runId },
    topics: {
      variants: `${runId}-variants`,
      embeddings: `${runId}-embeddings`,
      deadLetter: `${runId}-dead-letter`,
    },
    pipelines: ['variants'],
    lancedb: { uri: join(dir, 'lancedb') },
    kuzu: { path: join(dir, 'kuzu', 'graph.kuzu') },
  };
  const config = loadConfig({ overrides: settings });
  // The run's settings as a VARSTREAM_CONFIG file: `varstream status`, `dlq` and `query` on its stores.
  const configFile = join(dir, 'varstream.json');
  writeFileSync(configFile, `${JSON.stringify(settings, null, 2)}\n`);
  const generated = options.records !== undefined || options.samples !== undefined;
  const vcf = options.vcf ?? (generated ? await syntheticVcf(dir, options) : fixtureVcf(DEMO_VCF));
  const kafka = await reachableKafka(config, logger);
  await ensureTopics(kafka, config, [config.topics.variants, config.topics.deadLetter]);

  const publishing = new Progress(`publishing ${vcf}`);
  const produced = await produceVcf(kafkaPublishers(kafka), vcf, {
    topic: config.topics.variants,
    onProgress: (count, fraction) => publishing.update({ count, fraction }),
    ...skipReporter(),
  });
  publishing.done({ count: produced.records });
  const skipped = skippedSummary(produced.skipped, produced.firstSkipped);
  if (skipped) process.stderr.write(`${skipped}\n`);

  const consumeStarted = performance.now();
  const consumer = new PipelineConsumer({
    kafka,
    config,
    logger,
    pipelines: [variantPipeline(config, variantSinks(config, logger))],
  });
  await consumer.start();
  // One measure for the progress line and the summary: the consumer's start to the last commit.
  const caughtUpAt = await waitUntilCaughtUp(
    kafka,
    config,
    produced.records,
    options.timeoutMs,
    consumeStarted,
  );
  const consumeSeconds = (caughtUpAt - consumeStarted) / 1000;
  await consumer.stop();
  rss.stop();

  const counts = await countStores(config);
  const deadLetters = Object.values(consumer.stats.deadLetters).reduce((a, b) => a + b, 0);
  return {
    messages: produced.records,
    ...counts,
    deadLetters,
    produceSeconds: produced.seconds,
    consumeSeconds,
    peakRssBytes: rss.peakBytes,
    lancedbUri: config.lancedb.uri,
    kuzuPath: config.kuzu.path,
    configFile,
  };
}

export function formatSummary(s: DemoSummary): string {
  const n = (x: number) => x.toLocaleString('en-US');
  return [
    `varstream demo: ${n(s.messages)} messages -> ${n(s.variants)} variants, ${n(s.genes)} genes, ${n(s.samples)} samples, ` +
      `${n(s.carriedByEdges)} CARRIED_BY and ${n(s.inGeneEdges)} IN_GENE edges, ${n(s.deadLetters)} dead letters; ` +
      `consumed in ${formatSeconds(s.consumeSeconds)} (${n(Math.round(s.messages / s.consumeSeconds))} messages/s, ` +
      `${n(Math.round(s.variants / s.consumeSeconds))} variants/s), published in ${formatSeconds(s.produceSeconds)}, ` +
      `peak RSS ${formatBytes(s.peakRssBytes)}`,
    `  LanceDB: ${s.lancedbUri} (table variants)`,
    `  Kuzu:    ${s.kuzuPath}`,
    `  Inspect: VARSTREAM_CONFIG=${s.configFile} npm run varstream -- status`,
  ].join('\n');
}

async function syntheticVcf(dir: string, options: DemoOptions): Promise<string> {
  const path = join(dir, 'synthetic.vcf');
  await writeSyntheticVcf(path, {
    records: options.records ?? 20_000,
    samples: options.samples ?? 50,
    seed: 42,
  });
  return path;
}

async function waitUntilCaughtUp(
  kafka: ReturnType<typeof createKafka>,
  config: Config,
  total: number,
  timeoutMs: number,
  started: number,
) {
  const progress = new Progress('consuming (committed)', undefined, undefined, started);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { done, lag } = await caughtUp(kafka, config.kafka.groupId, config.topics.variants);
    progress.update({ count: total - lag, fraction: total > 0 ? (total - lag) / total : 1 });
    if (done) break;
    if (Date.now() > deadline)
      throw new Error(`demo: consumer still ${lag} messages behind after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
  const at = performance.now();
  progress.done({ count: total }, at);
  return at;
}

async function countStores(config: Config) {
  const db = await lancedb.connect(config.lancedb.uri);
  const table = await db.openTable(config.lancedb.variantsTable);
  const variants = await table.countRows();
  table.close();
  db.close();
  const store = new KuzuStore(config.kuzu.path, config.kuzu.bufferPoolBytes);
  await store.open();
  try {
    const graph = await graphCounts(store);
    return {
      variants,
      genes: graph.genes,
      samples: graph.samples,
      carriedByEdges: graph.carriedBy,
      inGeneEdges: graph.inGene,
    };
  } finally {
    await store.close();
  }
}
