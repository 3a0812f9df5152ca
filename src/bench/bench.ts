/**
 * `npm run bench`: pre-produces a backlog per scenario (not timed), then drains it with the
 * scenario's consumer in a child process, timed from its group join to the commit of the last
 * offset (kcat, which has no group, from its start to its exit at the end of every partition).
 * Writes JSON to --out, a markdown table to stdout and an SVG chart beside the JSON.
 *
 * The variant scenarios share one backlog of real VCF records (real-variants.ts), so `variants`,
 * `ceiling-kcat` and `ceiling-kafkajs` drain the same topic; `old-way` gets its own, smaller one.
 */

import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import type { Kafka } from 'kafkajs';
import { brokersOrLocal } from '../cli/local-kafka.ts';
import { loadConfig } from '../config/index.ts';
import { createKafka } from '../consumers/kafka-client.ts';
import { kafkaPublishers } from '../consumers/publisher.ts';
import { ensureTopics } from '../consumers/topics.ts';
import { createLogger } from '../core/logger.ts';
import { parseBytes } from '../core/units.ts';
import { produceEmbeddings } from '../producer/produce-embeddings.ts';
import { benchChart } from './chart.ts';
import { type ChildUsage, isolatedEnv, MeasuredConsumer } from './child-process.ts';
import { graphCopyCeiling } from './graph-child.ts';
import { workload, workloadKafkaMessages } from './graph-workloads.ts';
import { headCommit } from './head-commit.ts';
import { type LanceCeiling, lanceEmbeddingCeiling } from './lance-ceiling.ts';
import { measureLatency } from './latency.ts';
import { MemoryCgroup } from './memory-cgroup.ts';
import { produceRealVariants, realVariantMessages, variantCorpus } from './real-variants.ts';
import { SCENARIOS, type Scenario } from './scenarios.ts';
import { lanceSitesCeiling, type SitesCeiling, siteMessages } from './sites.ts';

export interface ScenarioResult {
  name: string;
  messages: number;
  /** Rows landed: variant messages, or embeddings (an Arrow message carries many). */
  rows: number;
  seconds: number;
  msgsPerSec: number;
  rowsPerSec: number;
  mbPerSec: number;
  /** Sampled from /proc every 100 ms. */
  peakRssMb: number;
  /** The kernel's own peak (VmHWM). */
  osPeakRssMb: number;
  cpuSeconds: number;
  p50LatencyMs: number | null;
  p99LatencyMs: number | null;
  /** msgsPerSec / ceiling-kafkajs msgsPerSec, for scenarios draining variant messages. */
  ratioToCeiling: number | null;
  /** rowsPerSec / the store's own bulk path on the same data (genome, cohort: Kuzu's COPY). */
  ratioToStoreCeiling?: number | null;
  /** The memory cgroup the consumer ran in (genome, cohort; the others with --limit): its limit, peak and OOM kills. */
  cgroup?: { limit: string; peakMb: number | null; oomKills: number } | null;
  /** VARSTREAM_VARIANT_SINKS of the consumer (genome, cohort). */
  sinks?: string;
  /** Kuzu's bulk COPY of the same data, timed in the same run (genome, cohort). */
  storeCeiling?: { variantsPerSec: number; callsPerSec: number; seconds: number } | null;
  /** LanceDB's `add` and `mergeInsert` of the same embeddings, timed in the same run (embeddings-*). */
  lanceCeiling?: LanceCeiling;
  /** LanceDB's `add` and `mergeInsert` of the same site rows, timed in the same run (sites). */
  sitesCeiling?: SitesCeiling;
  /** With --repeat N: every run's msgs/s (this result is the median run). */
  runs?: number[];
}

interface Options {
  scenario: string;
  messages: number;
  embeddings: number;
  oldWay: number;
  dim: number;
  rate?: number;
  rateSeconds: number;
  graphScale: number;
  graphLimit: string;
  graphSinks: string;
  out: string;
  repeat: number;
  sitesSinks: string;
  limit?: string;
  keep?: boolean;
}

interface Backlog {
  topic: string;
  messages: number;
  bytes: number;
}

const MB = 1024 * 1024;
const DRAIN_TIMEOUT_MS = 3 * 3_600_000;
const DRAIN_KAFKAJS = fileURLToPath(new URL('./drain-kafkajs.ts', import.meta.url));

class Bench {
  private variantBacklog: Backlog | undefined;
  private lanceCeilingResult: LanceCeiling | undefined;
  /** The ids (prefixes of topics and groups) this run made: deleted at its end. */
  readonly ids = new Set<string>();
  /** One cycle for the whole run: the backlog takes its first messages, a rate run the next. */
  private readonly variantSource = realVariantMessages()[Symbol.asyncIterator]();

  constructor(
    private readonly kafka: Kafka,
    private readonly runDir: string,
    private readonly opts: Options,
  ) {}

  /** Runs one scenario; its stores (GBs for embeddings) are deleted afterwards unless --keep. */
  async run(name: Scenario): Promise<ScenarioResult> {
    const id = `bench-${name}-${Date.now().toString(36)}`;
    this.ids.add(id);
    const dir = join(this.runDir, id);
    try {
      return await this.scenario(name, id, dir);
    } finally {
      if (!this.opts.keep)
        for (const stores of [
          join(dir, 'lancedb'),
          join(dir, 'kuzu'),
          join(dir, 'ceiling'),
          `${dir}-ceiling`,
        ])
          rmSync(stores, { recursive: true, force: true });
    }
  }

  private async scenario(name: Scenario, id: string, dir: string): Promise<ScenarioResult> {
    switch (name) {
      case 'ceiling-kcat':
        return this.kcat(name, await this.variants());
      case 'ceiling-kafkajs': {
        const backlog = await this.variants();
        const env = isolatedEnv(id, dir, { VARSTREAM_TOPIC_VARIANTS: backlog.topic });
        const child = new MeasuredConsumer(env, {
          command: process.execPath,
          args: ['--import', 'tsx', DRAIN_KAFKAJS],
        });
        return this.drain(name, child, env, backlog, backlog.messages);
      }
      case 'variants': {
        const backlog = await this.variants();
        const env = isolatedEnv(id, dir, {
          VARSTREAM_PIPELINES: 'variants',
          VARSTREAM_TOPIC_VARIANTS: backlog.topic,
          ...this.limitEnv(),
        });
        return this.limited(id, env, (child) =>
          this.drain(name, child, env, backlog, backlog.messages, this.opts.rate),
        );
      }
      case 'sites':
        return this.sites(name, id, dir);
      case 'genome':
      case 'cohort':
        return this.workload(name, id, dir);
      case 'old-way': {
        // The replaced systems' write pattern: a write per message to each store, committed per message.
        const env = isolatedEnv(id, dir, {
          VARSTREAM_PIPELINES: 'variants',
          VARSTREAM_BATCH_MAX_ROWS: '1',
          VARSTREAM_BATCH_ADAPTIVE: 'false',
          VARSTREAM_BATCH_MAX_IN_FLIGHT: '1',
        });
        const config = loadConfig({ env });
        const topic = config.topics.variants;
        await ensureTopics(this.kafka, config);
        const produced = await produceRealVariants(this.kafka, topic, this.opts.oldWay);
        const backlog = { topic, ...produced };
        this.ready(name, backlog);
        return this.drain(name, new MeasuredConsumer(env), env, backlog, backlog.messages);
      }
      default: {
        const encoding = name.slice('embeddings-'.length) as 'json' | 'f32' | 'arrow';
        const env = isolatedEnv(id, dir, {
          VARSTREAM_PIPELINES: 'embeddings',
          VARSTREAM_EMBEDDING_DIM: String(this.opts.dim),
          ...this.limitEnv(),
        });
        const config = loadConfig({ env });
        await ensureTopics(this.kafka, config);
        const produced = await produceEmbeddings(kafkaPublishers(this.kafka), {
          topic: config.topics.embeddings,
          count: this.opts.embeddings,
          dim: this.opts.dim,
          encoding,
        });
        const backlog = {
          topic: config.topics.embeddings,
          messages: produced.messages,
          bytes: produced.bytes,
        };
        this.ready(name, backlog);
        const r = await this.limited(id, env, (child) =>
          this.drain(name, child, env, backlog, produced.embeddings),
        );
        // The store's own write paths on the same vectors, in batches of the sink's byte ceiling.
        // Measured again with every drain: on shared cores the store's own rate moves between runs too.
        this.lanceCeilingResult = await lanceEmbeddingCeiling(join(this.runDir, `${id}-ceiling`), {
          rows: this.opts.embeddings,
          dim: this.opts.dim,
          batchRows: Math.max(1, Math.floor(config.batch.maxBytes / (this.opts.dim * 4))),
        });
        const c = this.lanceCeilingResult;
        process.stderr.write(
          `LanceDB on the same ${c.rows.toLocaleString('en-US')} vectors (${c.batchRows} per batch): add ${c.addRowsPerSec.toLocaleString('en-US')} rows/s, mergeInsert ${c.mergeRowsPerSec.toLocaleString('en-US')} rows/s\n`,
        );
        r.lanceCeiling = c;
        r.ratioToStoreCeiling = round(r.rowsPerSec / c.addRowsPerSec, 3);
        return r;
      }
    }
  }

  /**
   * A generated workload of bench:graph (graph-workloads.ts) through the whole variant pipeline,
   * both sinks, in a memory cgroup of --graph-limit; then Kuzu's bulk COPY of the same data, the
   * graph's own ceiling, in the same run.
   */
  private async workload(name: 'genome' | 'cohort', id: string, dir: string): Promise<ScenarioResult> {
    const w = workload(name, this.opts.graphScale);
    mkdirSync(dir, { recursive: true });
    const env = isolatedEnv(id, dir, {
      VARSTREAM_PIPELINES: 'variants',
      VARSTREAM_VARIANT_SINKS: this.opts.graphSinks,
      VARSTREAM_MEMORY_LIMIT: this.opts.graphLimit,
    });
    const config = loadConfig({ env });
    await ensureTopics(this.kafka, config);
    const produced = await produceRealVariants(
      this.kafka,
      config.topics.variants,
      Number.MAX_SAFE_INTEGER,
      workloadKafkaMessages(w)[Symbol.iterator](),
    );
    const backlog = { topic: config.topics.variants, ...produced };
    this.ready(name, backlog);
    const limitBytes = parseBytes(this.opts.graphLimit) as number;
    const cgroup = MemoryCgroup.create(id, limitBytes);
    const child = new MeasuredConsumer(env, { cgroup, logFile: join(dir, 'consumer.log') });
    let r: ScenarioResult;
    let peak: number | undefined;
    let kills = 0;
    try {
      r = await this.drain(name, child, env, backlog, w.variants);
    } finally {
      peak = cgroup?.peakBytes();
      kills = cgroup?.oomKills() ?? 0;
      cgroup?.remove();
    }
    r.cgroup = cgroup
      ? {
          limit: this.opts.graphLimit,
          peakMb: peak === undefined ? null : Math.round(peak / MB),
          oomKills: kills,
        }
      : null;
    r.sinks = this.opts.graphSinks;
    await this.deleteTopics(config);
    const ceiling = await graphCopyCeiling(name, this.opts.graphScale, join(dir, 'ceiling'));
    r.storeCeiling = {
      variantsPerSec: Math.round(ceiling.variants / ceiling.seconds),
      callsPerSec: Math.round(ceiling.calls / ceiling.seconds),
      seconds: round(ceiling.seconds, 1),
    };
    r.ratioToStoreCeiling = round(r.rowsPerSec / r.storeCeiling.variantsPerSec, 3);
    rmSync(dir, { recursive: true, force: true });
    return r;
  }

  /**
   * Runs `drain` with a consumer that, with --limit, runs in a memory cgroup of that size (as in a
   * pod: the kernel enforces it and Node sizes its heap from it) and reports the cgroup's peak.
   */
  private async limited(
    id: string,
    env: Record<string, string>,
    drain: (child: MeasuredConsumer) => Promise<ScenarioResult>,
  ): Promise<ScenarioResult> {
    const { limit } = this.opts;
    const cgroup = limit ? MemoryCgroup.create(id, parseBytes(limit) as number) : undefined;
    if (limit && !cgroup)
      process.stderr.write(`no memory cgroup here: --limit ${limit} is the budget's only\n`);
    try {
      const r = await drain(new MeasuredConsumer(env, { cgroup }));
      const peak = cgroup?.peakBytes();
      if (limit)
        r.cgroup = cgroup
          ? { limit, peakMb: peak === undefined ? null : Math.round(peak / MB), oomKills: cgroup.oomKills() }
          : null;
      return r;
    } finally {
      cgroup?.remove();
    }
  }

  /** VARSTREAM_MEMORY_LIMIT of the variants, sites and embeddings consumers (--limit), if given. */
  private limitEnv(): Record<string, string> {
    return this.opts.limit ? { VARSTREAM_MEMORY_LIMIT: this.opts.limit } : {};
  }

  private async deleteTopics(config: ReturnType<typeof loadConfig>): Promise<void> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      await admin.deleteTopics({ topics: [config.topics.variants, config.topics.deadLetter] });
    } finally {
      await admin.disconnect();
    }
  }

  /**
   * Annotated sites without samples (sites.ts), through `--sites-sinks`; then LanceDB's own `add`
   * and `mergeInsert` of the same rows, in batches of the sink's ceiling, in the same run.
   */
  private async sites(name: 'sites', id: string, dir: string): Promise<ScenarioResult> {
    const env = isolatedEnv(id, dir, {
      VARSTREAM_PIPELINES: 'variants',
      VARSTREAM_VARIANT_SINKS: this.opts.sitesSinks,
      ...this.limitEnv(),
    });
    const config = loadConfig({ env });
    await ensureTopics(this.kafka, config);
    const produced = await produceRealVariants(
      this.kafka,
      config.topics.variants,
      this.opts.messages,
      siteMessages()[Symbol.asyncIterator](),
    );
    const backlog = { topic: config.topics.variants, ...produced };
    this.ready(name, backlog);
    const r = await this.limited(id, env, (child) => this.drain(name, child, env, backlog, backlog.messages));
    const c = await lanceSitesCeiling(join(dir, 'ceiling'), {
      messages: backlog.messages,
      batchMessages: config.batch.maxRows,
    });
    process.stderr.write(
      `LanceDB on the same ${c.rows.toLocaleString('en-US')} site rows (${c.batchRows.toLocaleString('en-US')} per batch): add ${c.addRowsPerSec.toLocaleString('en-US')} rows/s, mergeInsert ${c.mergeRowsPerSec.toLocaleString('en-US')} rows/s\n`,
    );
    // Rows are the variant rows (one per ALT allele) the messages make, as the ceiling counts them.
    r.rows = c.rows;
    r.rowsPerSec = Math.round(c.rows / r.seconds);
    r.sinks = this.opts.sitesSinks;
    r.sitesCeiling = c;
    r.ratioToStoreCeiling = round(r.rowsPerSec / c.addRowsPerSec, 3);
    return r;
  }

  /** The shared variants backlog, produced on first use. */
  private async variants(): Promise<Backlog> {
    if (this.variantBacklog) return this.variantBacklog;
    const id = `bench-variants-${Date.now().toString(36)}`;
    this.ids.add(id);
    const config = loadConfig({ env: isolatedEnv(id, join(this.runDir, id), {}) });
    await ensureTopics(this.kafka, config);
    const topic = config.topics.variants;
    const produced = await produceRealVariants(this.kafka, topic, this.opts.messages, this.variantSource);
    this.variantBacklog = { topic, ...produced };
    this.ready('variants', this.variantBacklog);
    return this.variantBacklog;
  }

  private ready(name: string, b: Backlog): void {
    process.stderr.write(
      `${name}: backlog of ${b.messages.toLocaleString('en-US')} messages (${(b.bytes / MB).toFixed(0)} MB) ready\n`,
    );
  }

  private async drain(
    name: Scenario,
    child: MeasuredConsumer,
    env: Record<string, string>,
    backlog: Backlog,
    rows: number,
    rate?: number,
  ): Promise<ScenarioResult> {
    const groupId = env.VARSTREAM_GROUP_ID as string;
    await child.waitCaughtUp(this.kafka, groupId, backlog.topic, DRAIN_TIMEOUT_MS);
    const seconds = (performance.now() - (child.joinedAt as number)) / 1000;
    let latency: { p50Ms: number; p99Ms: number } | undefined;
    if (rate) {
      const r = await measureLatency(this.kafka, this.variantSource, {
        topic: backlog.topic,
        groupId,
        rate,
        seconds: this.opts.rateSeconds,
      });
      process.stderr.write(
        `${name}: ${r.messages.toLocaleString('en-US')} messages at ${Math.round(r.achievedRate)}/s: produce→commit p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms, max ${r.maxMs} ms\n`,
      );
      latency = r;
    }
    const usage = await child.stop();
    if (usage.exitCode !== 0)
      throw new Error(
        `${name}: the consumer exited with ${usage.exitCode}:\n${child.lines.slice(-20).join('\n')}`,
      );
    return result(name, backlog, rows, seconds, usage, latency);
  }

  /** librdkafka's CLI: reads every partition from the start and exits at the end of each. */
  private async kcat(name: Scenario, backlog: Backlog): Promise<ScenarioResult> {
    const brokers = process.env.KAFKA_BROKERS as string;
    if (spawnSync('kcat', ['-V']).error)
      throw new Error('ceiling-kcat needs kcat (Debian: apt-get install kcat); .ci/run installs it');
    const child = new MeasuredConsumer(
      {},
      {
        command: 'kcat',
        args: ['-C', '-b', brokers, '-t', backlog.topic, '-o', 'beginning', '-e', '-f', '%o\n'],
        discardStdout: true,
      },
    );
    const usage = await child.waitExit(DRAIN_TIMEOUT_MS);
    const seconds = (performance.now() - child.spawnedAt) / 1000;
    // "% Reached end of topic T [p] at offset N: exiting" per partition: N sums to the backlog.
    const read = child.lines
      .map((l) => /Reached end of topic .* at offset (\d+)/.exec(l)?.[1])
      .reduce((sum, n) => sum + Number(n ?? 0), 0);
    if (usage.exitCode !== 0 || read < backlog.messages)
      throw new Error(
        `kcat exited with ${usage.exitCode} after ${read} of ${backlog.messages} messages:\n${child.lines.slice(-10).join('\n')}`,
      );
    return result(name, backlog, backlog.messages, seconds, usage);
  }
}

/** Deletes the topics of this run (their names start with one of its ids). */
async function deleteBenchTopics(kafka: Kafka, ids: ReadonlySet<string>): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const topics = (await admin.listTopics()).filter((t) => [...ids].some((id) => t.startsWith(id)));
    if (topics.length > 0) await admin.deleteTopics({ topics });
    process.stderr.write(`deleted the run's ${topics.length} topics\n`);
  } catch (error) {
    process.stderr.write(`could not delete the run's topics: ${(error as Error).message}\n`);
  } finally {
    await admin.disconnect();
  }
}

function result(
  name: Scenario,
  backlog: Backlog,
  rows: number,
  seconds: number,
  usage: ChildUsage,
  latency?: { p50Ms: number; p99Ms: number },
): ScenarioResult {
  return {
    name,
    messages: backlog.messages,
    rows,
    seconds: round(seconds, 2),
    msgsPerSec: Math.round(backlog.messages / seconds),
    rowsPerSec: Math.round(rows / seconds),
    mbPerSec: round(backlog.bytes / MB / seconds, 1),
    peakRssMb: round(usage.peakRssBytes / MB, 1),
    osPeakRssMb: round(usage.hwmBytes / MB, 1),
    cpuSeconds: round(usage.cpuSeconds, 1),
    p50LatencyMs: latency?.p50Ms ?? null,
    p99LatencyMs: latency?.p99Ms ?? null,
    ratioToCeiling: null,
  };
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

function table(results: ScenarioResult[]): string {
  const head =
    '| scenario | messages | rows | seconds | msgs/s | rows/s | MB/s | peak RSS MB (sampled / OS) | CPU s | p50 / p99 ms | × ceiling-kafkajs | × store ceiling |';
  const rows = results.map(
    (r) =>
      `| ${r.name} | ${r.messages.toLocaleString('en-US')} | ${r.rows.toLocaleString('en-US')} | ${r.seconds} | ${r.msgsPerSec.toLocaleString('en-US')} | ${r.rowsPerSec.toLocaleString('en-US')} | ${r.mbPerSec} | ${r.peakRssMb} / ${r.osPeakRssMb} | ${r.cpuSeconds} | ${r.p50LatencyMs ?? '–'} / ${r.p99LatencyMs ?? '–'} | ${r.ratioToCeiling ?? '–'} | ${r.ratioToStoreCeiling ?? '–'} |`,
  );
  return [
    head,
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows,
  ].join('\n');
}

const VARIANT_DRAINS: readonly string[] = [
  'variants',
  'sites',
  'genome',
  'cohort',
  'old-way',
  'ceiling-kcat',
];

const program = new Command('bench')
  .option('--scenario <names>', `comma-separated: ${SCENARIOS.join(', ')}`, SCENARIOS.join(','))
  .option('--messages <n>', 'variant messages in the shared backlog', (v) => Number(v), 200_000)
  .option('--embeddings <n>', 'embeddings per embeddings scenario', (v) => Number(v), 20_000)
  .option('--old-way <n>', 'variant messages for old-way (per-message writes)', (v) => Number(v), 2_000)
  .option('--dim <d>', 'vector dimension', (v) => Number(v), 1536)
  .option(
    '--rate <r>',
    'after the variants backlog: produce R msgs/s and measure produce→commit latency',
    (v) => Number(v),
  )
  .option('--rate-seconds <s>', 'length of the steady-rate run', (v) => Number(v), 30)
  .option(
    '--graph-scale <x>',
    "fraction of the genome and cohort workloads (bench:graph's)",
    (v) => Number(v),
    1,
  )
  .option(
    '--graph-limit <size>',
    'memory cgroup (and VARSTREAM_MEMORY_LIMIT) of the genome and cohort consumers',
    '1Gi',
  )
  .option(
    '--graph-sinks <list>',
    'VARSTREAM_VARIANT_SINKS of the genome and cohort consumers',
    'lancedb,kuzu',
  )
  .option('--out <file>', 'JSON result (the chart is written beside it, .svg)', 'bench-result.json')
  .option('--sites-sinks <list>', 'VARSTREAM_VARIANT_SINKS of the sites consumer', 'lancedb')
  .option('--keep', "keep each scenario's stores under .cache/bench/<time>/ (deleted by default)")
  .option(
    '--limit <size>',
    "VARSTREAM_MEMORY_LIMIT of the variants, sites and embeddings consumers (default: the service's)",
  )
  .option(
    '--repeat <n>',
    'drain each scenario N times and report the median run (by msgs/s)',
    (v) => Number(v),
    1,
  )
  .action(async (opts: Options) => {
    const commit = headCommit();
    const names = opts.scenario.split(',').map((s) => s.trim());
    for (const n of names)
      if (!(SCENARIOS as readonly string[]).includes(n))
        throw new Error(`unknown scenario "${n}": expected ${SCENARIOS.join(', ')}`);
    for (const [flag, v] of Object.entries({
      messages: opts.messages,
      embeddings: opts.embeddings,
      'old-way': opts.oldWay,
      repeat: opts.repeat,
    }))
      if (!Number.isInteger(v) || v < 1) throw new Error(`--${flag} must be a positive integer, got ${v}`);
    if (opts.rate !== undefined && !(opts.rate > 0)) throw new Error(`--rate must be > 0, got ${opts.rate}`);
    brokersOrLocal();
    const runDir = resolve('.cache/bench', new Date().toISOString().replace(/[:.]/g, '-'));
    mkdirSync(runDir, { recursive: true });
    const kafka = createKafka(loadConfig(), createLogger('warn'));
    const corpus = variantCorpus();
    process.stderr.write(`variant messages from ${corpus.note}\n`);
    const bench = new Bench(kafka, runDir, opts);
    const results: ScenarioResult[] = [];
    // A scenario whose consumer fails (e.g. OOM-killed under --limit) is reported, and the run goes on.
    const failed: { name: string; error: string }[] = [];
    for (const name of names) {
      // --repeat N: N drains (the variant scenarios of one shared backlog); the median run by msgs/s.
      const runs: ScenarioResult[] = [];
      for (let i = 0; i < opts.repeat; i++) {
        let r: ScenarioResult;
        try {
          r = await bench.run(name as Scenario);
        } catch (error) {
          const message = (error as Error).message.split('\n')[0] ?? String(error);
          process.stderr.write(`${name}: FAILED: ${message}\n`);
          failed.push({ name, error: message });
          break;
        }
        process.stderr.write(
          `${name}${opts.repeat > 1 ? ` (run ${i + 1} of ${opts.repeat})` : ''}: ${r.msgsPerSec.toLocaleString('en-US')} msgs/s, peak RSS ${r.osPeakRssMb} MB\n`,
        );
        runs.push(r);
      }
      if (runs.length === 0) continue;
      const sorted = [...runs].sort((a, b) => a.msgsPerSec - b.msgsPerSec);
      const median = sorted[Math.floor((sorted.length - 1) / 2)] as ScenarioResult;
      if (runs.length > 1) median.runs = runs.map((r) => r.msgsPerSec);
      results.push(median);
    }
    await deleteBenchTopics(kafka, bench.ids);
    const ceiling = results.find((r) => r.name === 'ceiling-kafkajs');
    if (ceiling)
      for (const r of results)
        if (VARIANT_DRAINS.includes(r.name)) r.ratioToCeiling = round(r.msgsPerSec / ceiling.msgsPerSec, 3);
    const machine = {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model,
      memoryGb: round(totalmem() / 1024 ** 3, 1),
      node: process.version,
    };
    writeFileSync(
      opts.out,
      `${JSON.stringify({ commit, machine, variantCorpus: corpus.note, dim: opts.dim, memoryLimit: opts.limit ?? null, scenarios: results, failed }, null, 2)}\n`,
    );
    const chart = opts.out.replace(/(\.json)?$/, '.svg');
    writeFileSync(
      chart,
      benchChart(results, `varstream bench ${commit.slice(0, 7)} (${machine.cpus} cores)`),
    );
    console.log(table(results));
    for (const f of failed) console.log(`${f.name}: FAILED (${f.error})`);
    console.log(`\nwritten: ${opts.out}, ${chart}`);
    process.exit(failed.length > 0 ? 1 : 0);
  });

program.parseAsync().catch((error: unknown) => {
  console.error(`bench: ${(error as Error).message ?? error}`);
  process.exit(1);
});
