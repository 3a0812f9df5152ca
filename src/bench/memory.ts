/**
 * `npm run bench:memory`: consumes backlogs of increasing size (synthetic variant messages, both
 * sinks by default) at one memory limit, in a child process, and reports peak RSS per backlog.
 * Bounded memory means the peak does not grow with the backlog. Writes JSON to --out and a table
 * to stdout.
 *
 * What waits in Kafka and what the stores hold are two different things: a backlog of 5M new
 * sites also leaves a table and a graph of 5M variants, whose own working set grows with them
 * (README, "How memory is bounded"). To measure the backlog alone, `--sites N` (default 100,000)
 * keeps the stores at N sites: they are filled with the N sites first (a warm-up pass consumed by
 * an unmeasured consumer, as after a downtime), then the backlog publishes the same N sites again,
 * one pass per N messages with the pass in the `source` field (as cohorts re-publishing a site
 * do): every pass updates every LanceDB row, while the graph's nodes and edges stay the same.
 * `--sites 0` makes every message a new site: then the peak also measures the stores' growth with
 * their size.
 */

import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Command } from 'commander';
import { brokersOrLocal } from '../cli/local-kafka.ts';
import { loadConfig } from '../config/index.ts';
import { createKafka } from '../consumers/kafka-client.ts';
import { kafkaPublishers } from '../consumers/publisher.ts';
import { ensureTopics } from '../consumers/topics.ts';
import { createLogger } from '../core/logger.ts';
import { parseBytes } from '../core/units.ts';
import { produceVcf } from '../producer/produce-vcf.ts';
import { writeSyntheticVcf } from '../producer/synthetic-vcf.ts';
import { isolatedEnv, MeasuredConsumer } from './child-process.ts';
import { headCommit } from './head-commit.ts';
import { MemoryCgroup } from './memory-cgroup.ts';
import { type ResidentBreakdown, readResidentBreakdown } from './smaps.ts';

const MiB = 1024 ** 2;

interface BacklogResult {
  backlog: number;
  /** Distinct sites in the backlog (the stores' size). */
  sites: number;
  passes: number;
  seconds: number;
  msgsPerSec: number;
  peakRssMb: number;
  osPeakRssMb: number;
  cpuSeconds: number;
  pauses: number;
  /** The consumer's memory cgroup: its peak (RSS and page cache) and OOM kills; null without one. */
  cgroupPeakMb: number | null;
  oomKills: number | null;
  /** The consumer's resident memory by kind (/proc/PID/smaps), every --breakdown-every seconds. */
  resident: Array<{ s: number } & ResidentBreakdown>;
}

interface BenchOptions {
  limit: string;
  samples: number;
  sinks: string;
  sites: number;
  cgroup: boolean;
  breakdownEvery: number;
  wrap?: string;
}

async function runBacklog(n: number, opts: BenchOptions, runDir: string): Promise<BacklogResult> {
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
  const sites = opts.sites > 0 ? opts.sites : n;
  const passes = n / sites;
  const vcf = join(dir, 'backlog.vcf');
  await writeSyntheticVcf(vcf, { records: sites, samples: opts.samples, seed: 1 });
  const publish = async (source: string) =>
    (await produceVcf(kafkaPublishers(kafka), vcf, { topic: config.topics.variants, source })).records;
  if (opts.sites > 0) {
    // The stores already hold the sites when the backlog arrives, as after a consumer's downtime:
    // every backlog then meets the same stores and the same work (updates).
    await publish('warm-up');
    const warmUp = new MeasuredConsumer(env, { logFile: join(dir, 'warm-up.log') });
    await warmUp.waitCaughtUp(kafka, config.kafka.groupId, config.topics.variants, 3_600_000);
    await warmUp.stop();
    process.stderr.write(`stores hold ${sites.toLocaleString('en-US')} sites\n`);
  }
  let messages = 0;
  for (let pass = 1; pass <= passes; pass++) messages += await publish(`pass-${pass}`);
  rmSync(vcf);
  process.stderr.write(
    `backlog of ${messages.toLocaleString('en-US')} messages (${passes} × ${sites.toLocaleString('en-US')} sites) ready\n`,
  );
  const limitBytes = parseBytes(opts.limit) as number;
  const cgroup = opts.cgroup ? MemoryCgroup.create(id, limitBytes) : undefined;
  if (opts.cgroup && !cgroup)
    process.stderr.write('no writable memory cgroup here: the limit is VARSTREAM_MEMORY_LIMIT alone\n');
  const consumer = new MeasuredConsumer(env, {
    logFile: join(dir, 'consumer.log'),
    cgroup,
    wrap: opts.wrap?.split(/\s+/).filter(Boolean),
  });
  const resident: BacklogResult['resident'] = [];
  const sampleResident = () => {
    const breakdown = consumer.child.pid ? readResidentBreakdown(consumer.child.pid) : undefined;
    if (breakdown)
      resident.push({ s: Math.round((performance.now() - consumer.spawnedAt) / 1000), ...breakdown });
  };
  const residentTimer = setInterval(sampleResident, opts.breakdownEvery * 1000);
  let usage: Awaited<ReturnType<MeasuredConsumer['stop']>>;
  let seconds: number;
  try {
    await consumer.waitCaughtUp(kafka, config.kafka.groupId, config.topics.variants, 6 * 3_600_000);
    seconds = (performance.now() - (consumer.joinedAt as number)) / 1000;
    sampleResident();
    clearInterval(residentTimer);
    usage = await consumer.stop();
  } catch (error) {
    clearInterval(residentTimer);
    const kills = cgroup?.oomKills() ?? 0;
    consumer.child.kill('SIGKILL');
    cgroup?.remove();
    throw kills > 0 ? new Error(`the kernel OOM-killed the consumer at its ${opts.limit} limit`) : error;
  }
  const cgroupPeak = cgroup?.peakBytes();
  const oomKills = cgroup ? cgroup.oomKills() : null;
  cgroup?.remove();
  // Millions of messages in the broker's log: the topics go once measured (left behind, they
  // filled the disk); the stores and the consumer's log stay under runDir.
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.deleteTopics({ topics: Object.values(config.topics) });
  } finally {
    await admin.disconnect();
  }
  return {
    backlog: messages,
    sites,
    passes,
    seconds: Math.round(seconds * 10) / 10,
    msgsPerSec: Math.round(messages / seconds),
    peakRssMb: Math.round((usage.peakRssBytes / MiB) * 10) / 10,
    osPeakRssMb: Math.round((usage.hwmBytes / MiB) * 10) / 10,
    cpuSeconds: Math.round(usage.cpuSeconds * 10) / 10,
    pauses: consumer.messages.get('paused partitions') ?? 0,
    cgroupPeakMb: cgroupPeak === undefined ? null : Math.round((cgroupPeak / MiB) * 10) / 10,
    oomKills,
    resident,
  };
}

new Command('bench:memory')
  .option('--backlogs <list>', 'comma-separated backlog sizes (messages)', '100000,1000000,5000000')
  .option('--limit <bytes>', 'VARSTREAM_MEMORY_LIMIT of the consumer', '1Gi')
  .option('--samples <n>', 'samples per synthetic VCF record', (v) => Number(v), 20)
  .option('--sinks <list>', 'VARSTREAM_VARIANT_SINKS of the consumer', 'lancedb,kuzu')
  .option(
    '--sites <n>',
    'distinct sites (the stores hold this many; a larger backlog re-publishes them); 0: every message a new site',
    (v) => Number(v),
    100_000,
  )
  .option(
    '--breakdown-every <s>',
    "seconds between samples of the consumer's resident memory by kind (smaps)",
    (v) => Number(v),
    30,
  )
  .option(
    '--wrap <command>',
    'run the measured consumer under this command, which must exec its arguments (words split on whitespace, no quoting; e.g. "env LD_PRELOAD=… MALLOC_CONF=…")',
  )
  .option('--no-cgroup', 'do not run the consumer in a memory cgroup of --limit (used when one can be made)')
  .option('--out <file>', 'JSON result', 'bench-memory.json')
  .action(async (opts: BenchOptions & { backlogs: string; out: string }) => {
    const commit = headCommit();
    const backlogs = opts.backlogs.split(',').map(Number);
    if (parseBytes(opts.limit) === undefined)
      throw new Error(`--limit: expected a size such as 768Mi or 1Gi, got ${opts.limit}`);
    if (!(opts.breakdownEvery >= 1))
      throw new Error(`--breakdown-every: expected seconds >= 1, got ${opts.breakdownEvery}`);
    if (!Number.isSafeInteger(opts.sites) || opts.sites < 0)
      throw new Error(`--sites: expected a non-negative integer, got ${opts.sites}`);
    for (const n of backlogs) {
      if (!Number.isSafeInteger(n) || n < 1)
        throw new Error(`--backlogs: expected positive integers, got ${n}`);
      if (opts.sites > 0 && n % opts.sites !== 0)
        throw new Error(
          `--backlogs: ${n} is not a multiple of --sites ${opts.sites} (one pass per ${opts.sites})`,
        );
    }
    brokersOrLocal();
    const runDir = resolve('.cache/bench', `memory-${new Date().toISOString().replace(/[:.]/g, '-')}`);
    const results: BacklogResult[] = [];
    for (const n of backlogs) {
      const result = await runBacklog(n, opts, runDir);
      process.stderr.write(`${JSON.stringify(result)}\n`);
      results.push(result);
    }
    const peaks = results.map((r) => r.osPeakRssMb);
    const growth = Math.max(...peaks) / Math.min(...peaks) - 1;
    const out = {
      commit,
      limit: opts.limit,
      samples: opts.samples,
      sinks: opts.sinks,
      sites: opts.sites,
      ...(opts.wrap ? { wrap: opts.wrap } : {}),
      results,
      peakGrowth: Math.round(growth * 1000) / 1000,
    };
    writeFileSync(opts.out, `${JSON.stringify(out, null, 2)}\n`);
    console.log(
      '| backlog | sites (passes) | seconds | msgs/s | peak RSS MB (sampled / OS) | cgroup peak MB (incl. page cache) | OOM kills | CPU s | pauses |',
    );
    console.log('| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
    const fmt = (x: number) => x.toLocaleString('en-US');
    for (const r of results)
      console.log(
        `| ${fmt(r.backlog)} | ${fmt(r.sites)} (${r.passes}) | ${r.seconds} | ${fmt(r.msgsPerSec)} | ${r.peakRssMb} / ${r.osPeakRssMb} | ${r.cgroupPeakMb ?? '–'} | ${r.oomKills ?? '–'} | ${r.cpuSeconds} | ${r.pauses} |`,
      );
    console.log(
      `\npeak RSS (OS) from the lowest to the highest: +${(growth * 100).toFixed(1)}% (limit ${opts.limit}, sinks ${opts.sinks}, ${opts.sites > 0 ? `${fmt(opts.sites)} sites` : 'every message a new site'})`,
    );
    console.log(
      "\nresident memory by kind (MiB; smaps): Kuzu's buffer pool, mapped files, glibc's main heap, other anonymous (arenas, V8, stacks)",
    );
    console.log('| backlog | when | RSS | Kuzu pool | files | main heap | other anonymous |');
    console.log('| ---: | --- | ---: | ---: | ---: | ---: | ---: |');
    for (const r of results) {
      const early = r.resident.find((x) => x.s >= 60) ?? r.resident[0];
      const last = r.resident.at(-1);
      for (const [when, x] of [
        [`${early?.s ?? '–'} s`, early],
        [`${last?.s ?? '–'} s (end)`, last],
      ] as const)
        if (x)
          console.log(
            `| ${fmt(r.backlog)} | ${when} | ${x.rssMb} | ${x.kuzuPoolMb} | ${x.filesMb} | ${x.brkHeapMb} | ${x.otherAnonMb} |`,
          );
    }
    console.log(`written: ${opts.out}`);
  })
  .parseAsync()
  .catch((error: unknown) => {
    console.error(`bench:memory: ${(error as Error).message ?? error}`);
    process.exit(1);
  });
