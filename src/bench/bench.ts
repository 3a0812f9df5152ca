/**
 * `npm run bench`: pre-produces a backlog per scenario (not timed), then runs `varstream consume`
 * in a child process and times it from its group join to the commit of the last offset.
 * Writes JSON to --out and a markdown table to stdout.
 */
import { execSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { Command } from 'commander';
import { localBrokerAddress, localKafka } from '../cli/local-kafka.ts';
import { loadConfig } from '../config/index.ts';
import { createKafka } from '../consumers/kafka-client.ts';
import { ensureTopics } from '../consumers/topics.ts';
import { produceEmbeddings } from '../producer/produce-embeddings.ts';
import { createLogger } from '../telemetry/logger.ts';
import { isolatedEnv, MeasuredConsumer } from './child-process.ts';

export const SCENARIOS = ['embeddings-json', 'embeddings-f32', 'embeddings-arrow'] as const;
type Scenario = (typeof SCENARIOS)[number];

export interface ScenarioResult {
  name: string;
  messages: number;
  rows: number;
  seconds: number;
  msgsPerSec: number;
  rowsPerSec: number;
  mbPerSec: number;
  peakRssMb: number;
  osPeakRssMb: number;
  cpuSeconds: number;
  p50LatencyMs: number | null;
  p99LatencyMs: number | null;
  ratioToCeiling: number | null;
}

const MB = 1024 * 1024;

async function runScenario(
  name: Scenario,
  count: number,
  dim: number,
  runDir: string,
): Promise<ScenarioResult> {
  const id = `bench-${name}-${Date.now().toString(36)}`;
  const env = isolatedEnv(id, join(runDir, id), {
    VARSTREAM_PIPELINES: 'embeddings',
    VARSTREAM_EMBEDDING_DIM: String(dim),
  });
  const config = loadConfig({ env: { ...process.env, ...env } });
  const kafka = createKafka(config, createLogger('warn'));
  await ensureTopics(kafka, config);
  const encoding = name.slice('embeddings-'.length) as 'json' | 'f32' | 'arrow';
  const produced = await produceEmbeddings(kafka, { topic: config.topics.embeddings, count, dim, encoding });
  process.stderr.write(
    `${name}: backlog of ${produced.messages} messages (${(produced.bytes / MB).toFixed(0)} MB) ready\n`,
  );

  const consumer = new MeasuredConsumer(env);
  await consumer.waitCaughtUp(kafka, config.kafka.groupId, config.topics.embeddings, 1_800_000);
  const finished = performance.now();
  const usage = await consumer.stop();
  const seconds = (finished - (consumer.joinedAt ?? finished)) / 1000;
  return {
    name,
    messages: produced.messages,
    rows: produced.embeddings,
    seconds: round(seconds, 2),
    msgsPerSec: Math.round(produced.messages / seconds),
    rowsPerSec: Math.round(produced.embeddings / seconds),
    mbPerSec: round(produced.bytes / MB / seconds, 1),
    peakRssMb: round(usage.peakRssBytes / MB, 1),
    osPeakRssMb: round(usage.hwmBytes / MB, 1),
    cpuSeconds: round(usage.cpuSeconds, 1),
    p50LatencyMs: null,
    p99LatencyMs: null,
    ratioToCeiling: null,
  };
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

function table(results: ScenarioResult[]): string {
  const head =
    '| scenario | messages | rows | seconds | msgs/s | rows/s | MB/s | peak RSS MB (sampled / OS) | CPU s |';
  const rows = results.map(
    (r) =>
      `| ${r.name} | ${r.messages.toLocaleString('en-US')} | ${r.rows.toLocaleString('en-US')} | ${r.seconds} | ${r.msgsPerSec.toLocaleString('en-US')} | ${r.rowsPerSec.toLocaleString('en-US')} | ${r.mbPerSec} | ${r.peakRssMb} / ${r.osPeakRssMb} | ${r.cpuSeconds} |`,
  );
  return [head, '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |', ...rows].join('\n');
}

const program = new Command('bench')
  .option('--scenario <names>', `comma-separated: ${SCENARIOS.join(', ')}`, SCENARIOS.join(','))
  .option('--messages <n>', 'embeddings per scenario', (v) => Number(v), 20_000)
  .option('--dim <d>', 'vector dimension', (v) => Number(v), 1536)
  .option('--out <file>', 'JSON result', 'bench-result.json')
  .action(async (opts: { scenario: string; messages: number; dim: number; out: string }) => {
    const names = opts.scenario.split(',').map((s) => s.trim());
    for (const n of names)
      if (!(SCENARIOS as readonly string[]).includes(n))
        throw new Error(`unknown scenario "${n}": expected ${SCENARIOS.join(', ')}`);
    if (!process.env.KAFKA_BROKERS) {
      localKafka('up');
      process.env.KAFKA_BROKERS = localBrokerAddress();
    }
    const runDir = resolve('.cache/bench', new Date().toISOString().replace(/[:.]/g, '-'));
    mkdirSync(runDir, { recursive: true });
    const results: ScenarioResult[] = [];
    for (const name of names)
      results.push(await runScenario(name as Scenario, opts.messages, opts.dim, runDir));
    const commit = execSync('git rev-parse HEAD', { encoding: 'utf8' }).trim();
    const machine = {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model,
      memoryGb: round(totalmem() / 1024 ** 3, 1),
      node: process.version,
    };
    writeFileSync(
      opts.out,
      `${JSON.stringify({ commit, machine, dim: opts.dim, scenarios: results }, null, 2)}\n`,
    );
    console.log(table(results));
    console.log(`\nwritten: ${opts.out}`);
  });

program.parseAsync().catch((error: unknown) => {
  console.error(`bench: ${(error as Error).message ?? error}`);
  process.exit(1);
});
