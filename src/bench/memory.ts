/**
 * `npm run bench:memory`: consumes backlogs of increasing size (synthetic variant messages, both
 * sinks) at one memory limit, in a child process, and reports peak RSS per backlog. Bounded memory
 * means the peak does not grow with the backlog. Writes JSON to --out and a table to stdout.
 */
import { execSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Command } from 'commander';
import { brokersOrLocal } from '../cli/local-kafka.ts';
import { loadConfig } from '../config/index.ts';
import { createKafka } from '../consumers/kafka-client.ts';
import { ensureTopics } from '../consumers/topics.ts';
import { produceVcf } from '../producer/produce-vcf.ts';
import { writeSyntheticVcf } from '../producer/synthetic-vcf.ts';
import { createLogger } from '../telemetry/logger.ts';
import { isolatedEnv, MeasuredConsumer } from './child-process.ts';

const MiB = 1024 ** 2;

interface BacklogResult {
  backlog: number;
  seconds: number;
  msgsPerSec: number;
  peakRssMb: number;
  osPeakRssMb: number;
  cpuSeconds: number;
  pauses: number;
}

async function runBacklog(
  n: number,
  opts: { limit: string; samples: number; sinks: string },
  runDir: string,
): Promise<BacklogResult> {
  const id = `memb-${n}-${Date.now().toString(36)}`;
  const dir = join(runDir, id);
  mkdirSync(dir, { recursive: true });
  const env = isolatedEnv(id, dir, {
    VARSTREAM_PIPELINES: 'variants',
    VARSTREAM_VARIANT_SINKS: opts.sinks,
    VARSTREAM_MEMORY_LIMIT: opts.limit,
  });
  const config = loadConfig({ env });
  const kafka = createKafka(config, createLogger('warn'));
  await ensureTopics(kafka, config);
  const vcf = join(dir, 'backlog.vcf');
  await writeSyntheticVcf(vcf, { records: n, samples: opts.samples, seed: 1 });
  const produced = await produceVcf(kafka, vcf, { topic: config.topics.variants });
  rmSync(vcf);
  process.stderr.write(`backlog of ${produced.records.toLocaleString('en-US')} messages ready\n`);
  const consumer = new MeasuredConsumer(env);
  await consumer.waitCaughtUp(kafka, config.kafka.groupId, config.topics.variants, 6 * 3_600_000);
  const seconds = (performance.now() - (consumer.joinedAt as number)) / 1000;
  const usage = await consumer.stop();
  return {
    backlog: produced.records,
    seconds: Math.round(seconds * 10) / 10,
    msgsPerSec: Math.round(produced.records / seconds),
    peakRssMb: Math.round((usage.peakRssBytes / MiB) * 10) / 10,
    osPeakRssMb: Math.round((usage.hwmBytes / MiB) * 10) / 10,
    cpuSeconds: Math.round(usage.cpuSeconds * 10) / 10,
    pauses: consumer.messages.get('paused partitions') ?? 0,
  };
}

new Command('bench:memory')
  .option('--backlogs <list>', 'comma-separated backlog sizes (messages)', '100000,1000000,5000000')
  .option('--limit <bytes>', 'VARSTREAM_MEMORY_LIMIT of the consumer', '1Gi')
  .option('--samples <n>', 'samples per synthetic VCF record', (v) => Number(v), 20)
  .option('--sinks <list>', 'VARSTREAM_VARIANT_SINKS of the consumer', 'lancedb,kuzu')
  .option('--out <file>', 'JSON result', 'bench-memory.json')
  .action(async (opts: { backlogs: string; limit: string; samples: number; sinks: string; out: string }) => {
    brokersOrLocal();
    const runDir = resolve('.cache/bench', `memory-${new Date().toISOString().replace(/[:.]/g, '-')}`);
    const results: BacklogResult[] = [];
    for (const n of opts.backlogs.split(',').map(Number)) results.push(await runBacklog(n, opts, runDir));
    const peaks = results.map((r) => r.osPeakRssMb);
    const growth = Math.max(...peaks) / Math.min(...peaks) - 1;
    const commit = execSync('git rev-parse HEAD', { encoding: 'utf8' }).trim();
    const out = {
      commit,
      limit: opts.limit,
      samples: opts.samples,
      sinks: opts.sinks,
      results,
      peakGrowth: Math.round(growth * 1000) / 1000,
    };
    writeFileSync(opts.out, `${JSON.stringify(out, null, 2)}\n`);
    console.log('| backlog | seconds | msgs/s | peak RSS MB (sampled / OS) | CPU s | pauses |');
    console.log('| ---: | ---: | ---: | ---: | ---: | ---: |');
    for (const r of results)
      console.log(
        `| ${r.backlog.toLocaleString('en-US')} | ${r.seconds} | ${r.msgsPerSec.toLocaleString('en-US')} | ${r.peakRssMb} / ${r.osPeakRssMb} | ${r.cpuSeconds} | ${r.pauses} |`,
      );
    console.log(
      `\npeak RSS growth from the smallest to the largest backlog: ${(growth * 100).toFixed(1)}% (limit ${opts.limit}, sinks ${opts.sinks})`,
    );
    console.log(`written: ${opts.out}`);
  })
  .parseAsync()
  .catch((error: unknown) => {
    console.error(`bench:memory: ${(error as Error).message ?? error}`);
    process.exit(1);
  });
