/**
 * `npm run bench:graph`: the Kuzu graph sink alone (no Kafka), batch by batch, on generated
 * workloads shaped like real data (graph-workloads.ts), each in a child process inside a memory
 * cgroup of --limit with the pool the budget derives there; then, in the same run, Kuzu's own bulk
 * COPY of the same final graph into an empty database (the ceiling). Reports per-batch write time
 * by decile of the run (median, mean, p95), RSS, bytes written, the four queries' latency, a
 * redelivery of the last tenth, and the ratio to COPY. JSON to --out, a chart beside it, a table
 * to stdout.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { Command } from 'commander';
import { deriveBudget } from '../backpressure/memory-budget.ts';
import { parseBytes } from '../core/units.ts';
import { graphChart } from './graph-chart.ts';
import { child } from './graph-child.ts';
import { WORKLOADS, type WorkloadName } from './graph-workloads.ts';
import { headCommit } from './head-commit.ts';
import { MemoryCgroup } from './memory-cgroup.ts';

const MiB = 1024 ** 2;

interface BatchLine {
  i: number;
  graphVariants: number;
  graphCalls: number;
  variants: number;
  calls: number;
  ms: number;
  writtenMb: number;
  rssMb: number;
  hwmMb: number;
}

interface Options {
  workloads: string;
  scale: number;
  batch: number;
  limit: string;
  ceilingPool: string;
  queries: number;
  ceiling: boolean;
  cgroup: boolean;
  out: string;
}

function decileStats(batches: BatchLine[]) {
  const n = batches.length;
  return Array.from({ length: 10 }, (_, d) => {
    const part = batches.slice(
      Math.floor((d * n) / 10),
      Math.max(Math.floor(((d + 1) * n) / 10), Math.floor((d * n) / 10) + 1),
    );
    const ms = part.map((b) => b.ms).sort((a, b) => a - b);
    const at = (q: number) => ms[Math.min(ms.length - 1, Math.floor(q * ms.length))] ?? 0;
    return {
      decile: d + 1,
      graphVariantsAtStart: part[0]?.graphVariants ?? 0,
      medianMs: at(0.5),
      meanMs: Math.round(ms.reduce((a, b) => a + b, 0) / Math.max(1, ms.length)),
      p95Ms: at(0.95),
      maxMs: ms.at(-1) ?? 0,
      medianWrittenMb: part.map((b) => b.writtenMb).sort((a, b) => a - b)[Math.floor(part.length / 2)] ?? 0,
      maxRssMb: Math.max(...part.map((b) => b.rssMb)),
    };
  });
}

async function runWorkload(
  name: WorkloadName,
  o: Options,
  runDir: string,
  poolBytes: number,
  limitBytes: number,
) {
  const dir = join(runDir, name);
  const common = ['--workload', name, '--scale', String(o.scale), '--batch', String(o.batch)];
  const cgroup = o.cgroup
    ? MemoryCgroup.create(`graph-${name}-${Date.now().toString(36)}`, limitBytes)
    : undefined;
  if (o.cgroup && !cgroup)
    process.stderr.write('no writable memory cgroup here: RSS is measured, not enforced\n');
  let lines: Array<Record<string, unknown>>;
  let cgroupPeakMb: number | null = null;
  let oomKills: number | null = null;
  try {
    lines = await child(
      [...common, '--pool', String(poolBytes), '--dir', dir, '--queries', String(o.queries)],
      cgroup,
    );
  } finally {
    const peak = cgroup?.peakBytes();
    cgroupPeakMb = peak === undefined ? null : Math.round(peak / MiB);
    oomKills = cgroup ? cgroup.oomKills() : null;
    cgroup?.remove();
  }
  const batches = lines.filter((l) => l.type === 'batch') as unknown as BatchLine[];
  const summary = lines.find((l) => l.type === 'summary') as Record<string, unknown>;
  const writeSeconds = batches.reduce((s, b) => s + b.ms, 0) / 1000;
  const calls = Number(summary.calls);
  const variants = Number(summary.variants);
  const deciles = decileStats(batches);
  rmSync(dir, { recursive: true, force: true });
  let ceiling: Record<string, unknown> | null = null;
  if (o.ceiling) {
    const ceilingDir = join(runDir, `${name}-ceiling`);
    const pool = parseBytes(o.ceilingPool) as number;
    ceiling = (await child([...common, '--pool', String(pool), '--dir', ceilingDir, '--ceiling'])).find(
      (l) => l.type === 'ceiling',
    ) as Record<string, unknown>;
    rmSync(ceilingDir, { recursive: true, force: true });
  }
  const copyCallsPerSec = ceiling ? Number(ceiling.calls) / Number(ceiling.seconds) : null;
  const copyVariantsPerSec = ceiling ? Number(ceiling.variants) / Number(ceiling.seconds) : null;
  return {
    name,
    samples: WORKLOADS[name].samples,
    variants,
    calls,
    batches: batches.length,
    wallSeconds: summary.seconds,
    writeSeconds: Math.round(writeSeconds * 10) / 10,
    variantsPerSec: Math.round(variants / writeSeconds),
    callsPerSec: Math.round(calls / writeSeconds),
    deciles,
    flatRatio: Math.round(((deciles[9]?.medianMs ?? 0) / Math.max(1, deciles[0]?.medianMs ?? 1)) * 100) / 100,
    peakRssMb: Math.max(...batches.map((b) => b.rssMb)),
    hwmMb: summary.hwmMb,
    cgroupPeakMb,
    oomKills,
    counts: summary.counts,
    redelivery: {
      batches: summary.rereadBatches,
      rereadMedianMs: summary.rereadMedianMs,
      republishedMedianMs: summary.republishedMedianMs,
      countsUnchanged: JSON.stringify(summary.counts) === JSON.stringify(summary.countsAfterRedelivery),
    },
    queries: summary.queries,
    checkpoints: summary.checkpoints,
    reopens: summary.reopens,
    ceiling,
    ratioToCopy:
      copyCallsPerSec === null
        ? null
        : {
            calls: Math.round((calls / writeSeconds / copyCallsPerSec) * 1000) / 1000,
            variants: Math.round((variants / writeSeconds / (copyVariantsPerSec as number)) * 1000) / 1000,
          },
    perBatch: batches.map((b) => [b.graphVariants, b.ms, b.rssMb] as const),
  };
}

type Result = Awaited<ReturnType<typeof runWorkload>>;

function table(results: Result[], poolMb: number): string {
  const head =
    '| workload | decile | graph at start | median ms | mean ms | p95 ms | MiB written (median) | max RSS MiB |';
  const lines = [head, '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |'];
  for (const r of results)
    for (const d of r.deciles)
      lines.push(
        `| ${r.name} | ${d.decile} | ${d.graphVariantsAtStart.toLocaleString('en-US')} | ${d.medianMs} | ${d.meanMs} | ${d.p95Ms} | ${d.medianWrittenMb} | ${d.maxRssMb} |`,
      );
  lines.push('', `pool ${poolMb} MiB`, '');
  lines.push(
    '| workload | variants | calls | variants/s | calls/s | last/first decile | VmHWM MiB | cgroup peak MiB | OOM kills | COPY calls/s | × COPY (calls) | carriers p50 | sample+gene p50 | gene p50 | count p50 | last 10%: re-read / republished ms | counts unchanged |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |',
  );
  for (const r of results) {
    const q = r.queries as Record<string, { p50Ms: number }>;
    const copy = r.ceiling ? Math.round(Number(r.ceiling.calls) / Number(r.ceiling.seconds)) : null;
    lines.push(
      `| ${r.name} | ${r.variants.toLocaleString('en-US')} | ${r.calls.toLocaleString('en-US')} | ${r.variantsPerSec.toLocaleString('en-US')} | ${r.callsPerSec.toLocaleString('en-US')} | ${r.flatRatio} | ${r.hwmMb} | ${r.cgroupPeakMb ?? '–'} | ${r.oomKills ?? '–'} | ${copy?.toLocaleString('en-US') ?? '–'} | ${r.ratioToCopy?.calls ?? '–'} | ${q.carriers?.p50Ms} | ${q.sampleVariantsInGene?.p50Ms} | ${q.geneVariants?.p50Ms} | ${q.sampleVariantCount?.p50Ms} | ${r.redelivery.rereadMedianMs} / ${r.redelivery.republishedMedianMs} | ${r.redelivery.countsUnchanged} |`,
    );
  }
  return lines.join('\n');
}

const program = new Command('bench:graph')
  .option(
    '--workloads <list>',
    `comma-separated: ${Object.keys(WORKLOADS).join(', ')}`,
    Object.keys(WORKLOADS).join(','),
  )
  .option('--scale <x>', 'run a fraction of each workload (e.g. 0.01 for a smoke run)', Number, 1)
  .option('--batch <n>', 'variant rows per batch', Number, 5000)
  .option(
    '--limit <size>',
    'memory cgroup of the sink process; the pool is what the budget derives there',
    '1Gi',
  )
  .option('--ceiling-pool <size>', 'buffer pool of the bulk COPY ceiling (no cgroup)', '4Gi')
  .option('--queries <n>', 'runs of each of the four queries', Number, 50)
  .option('--no-ceiling', 'skip the bulk COPY ceiling')
  .option('--no-cgroup', 'run without a memory cgroup')
  .option('--out <file>', 'JSON result (the chart is written beside it, .svg)', 'bench-graph.json')
  .action(async (o: Options) => {
    const commit = headCommit();
    const names = o.workloads.split(',').map((s) => s.trim()) as WorkloadName[];
    for (const n of names)
      if (!(n in WORKLOADS))
        throw new Error(`unknown workload "${n}": expected ${Object.keys(WORKLOADS).join(', ')}`);
    if (!(o.scale > 0 && o.scale <= 1)) throw new Error(`--scale must be in (0, 1], got ${o.scale}`);
    const limitBytes = parseBytes(o.limit);
    if (limitBytes === undefined) throw new Error(`--limit: not a size: ${o.limit}`);
    const poolBytes = deriveBudget(limitBytes, 'VARSTREAM_MEMORY_LIMIT').kuzuBufferPoolBytes;
    const runDir = resolve('.cache/bench-graph', new Date().toISOString().replace(/[:.]/g, '-'));
    mkdirSync(runDir, { recursive: true });
    const results: Result[] = [];
    for (const name of names) {
      process.stderr.write(
        `${name}: ${Math.round(WORKLOADS[name].variants * o.scale).toLocaleString('en-US')} variants, pool ${poolBytes / MiB} MiB, limit ${o.limit}\n`,
      );
      results.push(await runWorkload(name, o, runDir, poolBytes, limitBytes));
    }
    const machine = {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model,
      memoryGb: Math.round(totalmem() / 1024 ** 3),
      node: process.version,
    };
    writeFileSync(
      o.out,
      `${JSON.stringify({ commit, machine, kuzu: '0.11.3', limit: o.limit, poolMb: poolBytes / MiB, batch: o.batch, scale: o.scale, workloads: results }, null, 1)}\n`,
    );
    const chart = o.out.replace(/(\.json)?$/, '.svg');
    writeFileSync(
      chart,
      graphChart(
        results.map((r) => ({ name: r.name, points: r.perBatch })),
        `bench:graph ${commit.slice(0, 7)}: per-batch write time against graph size (pool ${poolBytes / MiB} MiB)`,
      ),
    );
    console.log(table(results, poolBytes / MiB));
    console.log(`\nwritten: ${o.out}, ${chart}`);
    process.exit(0);
  });

program.parseAsync().catch((error: unknown) => {
  console.error(`bench:graph: ${(error as Error).message ?? error}`);
  process.exit(1);
});
