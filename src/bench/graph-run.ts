/**
 * One bench:graph run, in its own process (the parent puts it in a memory cgroup): a workload
 * through KuzuGraphSink batch by batch, then the four queries, then the last tenth of the batches
 * written again without their offsets (the sink must find every row present and change nothing).
 * Prints one JSON line per batch and a summary line; `--ceiling` instead loads the same final
 * graph with Kuzu's bulk COPY into an empty database.
 */
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { VariantBatch } from '../batching/variant-batch.ts';
import type { DecodedVariantMessage } from '../contract/variant-decoder.ts';
import { mulberry32 } from '../producer/prng.ts';
import { GRAPH_QUERIES, graphCounts } from '../sinks/kuzu/graph-queries.ts';
import { KuzuGraphSink } from '../sinks/kuzu/graph-sink.ts';
import { KuzuStore } from '../sinks/kuzu/kuzu-store.ts';
import { variantKey } from '../sinks/kuzu/variant-key.ts';
import { copyCeiling } from './graph-ceiling.ts';
import { type WorkloadName, workload, workloadMessages } from './graph-workloads.ts';
import { readResidentBreakdown } from './smaps.ts';

const MiB = 1024 ** 2;

function proc(file: string, key: string): number {
  const m = new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(readFileSync(file, 'utf8'));
  return Number(m?.[1] ?? 0);
}
const rssMb = () => proc('/proc/self/status', 'VmRSS') / 1024;
const hwmMb = () => proc('/proc/self/status', 'VmHWM') / 1024;
const wcharBytes = () => proc('/proc/self/io', 'wchar');
const emit = (line: object) => process.stdout.write(`${JSON.stringify(line)}\n`);
const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;

interface Options {
  workload: WorkloadName;
  scale: number;
  batch: number;
  pool: number;
  dir: string;
  queries: number;
  ceiling?: boolean;
  maxBatches?: number;
}

/** Batches of `size` variant rows from the messages, each with its offsets on partition 0. */
function* batches(messages: Iterable<DecodedVariantMessage>, size: number, topic: string) {
  let payload = new VariantBatch();
  let first = 0;
  let offset = 0;
  let id = 1;
  for (const message of messages) {
    payload.add(message, { topic, partition: 0, offset });
    offset++;
    if (payload.variants.length >= size) {
      yield { id: id++, topic, payload, ranges: [{ partition: 0, first, last: offset - 1 }] };
      payload = new VariantBatch();
      first = offset;
    }
  }
  if (!payload.isEmpty)
    yield { id: id++, topic, payload, ranges: [{ partition: 0, first, last: offset - 1 }] };
}

async function ingest(o: Options): Promise<void> {
  const w = workload(o.workload, o.scale);
  const store = new KuzuStore(join(o.dir, 'graph.kuzu'), o.pool);
  const sink = new KuzuGraphSink(store, { checkpointBytes: Math.max(4 * MiB, Math.floor(o.pool / 8)) });
  await sink.start();
  const random = mulberry32(7);
  const probes: string[] = [];
  const genes = new Set<string>();
  let graphVariants = 0;
  let graphCalls = 0;
  const total = Math.ceil(w.variants / o.batch);
  const started = performance.now();
  for (const batch of batches(workloadMessages(w), o.batch, 'bench')) {
    if (o.maxBatches !== undefined && batch.id > o.maxBatches) break;
    const b = batch.payload;
    for (let i = 0; i < b.variants.length; i++)
      if (random() < 200 / w.variants) probes.push(b.variants.variantId[i] as string);
    for (const g of b.genes) if (genes.size < 5000) genes.add(g);
    const w0 = wcharBytes();
    const t0 = performance.now();
    await sink.writeBatch(batch);
    const ms = performance.now() - t0;
    const pool = (await store.run('CALL bm_info() RETURN mem_usage AS used'))[0];
    emit({
      type: 'batch',
      i: batch.id,
      graphVariants,
      graphCalls,
      variants: b.variants.length,
      calls: b.calls.length,
      ms: round(ms),
      writtenMb: round((wcharBytes() - w0) / MiB),
      rssMb: round(rssMb()),
      hwmMb: round(hwmMb()),
      poolUsedMb: round(Number(pool?.used ?? 0) / MiB),
      ...(batch.id % 50 === 0 ? { resident: readResidentBreakdown(process.pid) } : {}),
    });
    graphVariants += b.variants.length;
    graphCalls += b.calls.length;
    if (batch.id % 50 === 0)
      process.stderr.write(`${o.workload}: batch ${batch.id}/${total}, ${graphVariants} variants\n`);
  }
  const seconds = (performance.now() - started) / 1000;
  const counts = await graphCounts(store);
  const queries = await runQueries(store, probes, [...genes], w.samples, o.queries);
  // The last tenth again, twice: as a new consumer group re-reads it (same topic and offsets: the
  // sink skips what it applied), and as the same data republished (new offsets: every row is
  // looked up, found unchanged, and nothing is written).
  const skip = Math.floor(total * 0.9);
  const reread: number[] = [];
  const republished: number[] = [];
  for (const [topic, times] of [
    ['bench', reread],
    ['bench-republished', republished],
  ] as const) {
    for (const batch of batches(workloadMessages(w), o.batch, topic)) {
      if (batch.id <= skip) continue;
      const t0 = performance.now();
      await sink.writeBatch(batch);
      times.push(performance.now() - t0);
    }
  }
  const after = await graphCounts(store);
  emit({
    type: 'summary',
    workload: o.workload,
    variants: graphVariants,
    calls: graphCalls,
    seconds: round(seconds, 2),
    counts,
    countsAfterRedelivery: after,
    rereadBatches: reread.length,
    rereadMedianMs: round(median(reread)),
    republishedMedianMs: round(median(republished)),
    queries,
    checkpoints: sink.checkpoints,
    reopens: sink.reopens,
    hwmMb: round(hwmMb()),
  });
  await sink.close();
}

async function runQueries(
  store: KuzuStore,
  variants: string[],
  genes: string[],
  samples: string[],
  n: number,
) {
  const random = mulberry32(11);
  const any = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)] as T;
  const params: Record<keyof typeof GRAPH_QUERIES, () => Record<string, string>> = {
    carriers: () => ({ key: variantKey(any(variants)) }),
    sampleVariantsInGene: () => ({ sample: any(samples), gene: any(genes) }),
    geneVariants: () => ({ gene: any(genes) }),
    sampleVariantCount: () => ({ sample: any(samples) }),
  };
  const out: Record<string, { p50Ms: number; p95Ms: number; meanRows: number }> = {};
  for (const [name, statement] of Object.entries(GRAPH_QUERIES)) {
    const ms: number[] = [];
    let rows = 0;
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      rows += (await store.run(statement, params[name as keyof typeof GRAPH_QUERIES]())).length;
      ms.push(performance.now() - t0);
    }
    ms.sort((a, b) => a - b);
    out[name] = {
      p50Ms: round(median(ms)),
      p95Ms: round(ms[Math.floor(ms.length * 0.95)] ?? 0),
      meanRows: round(rows / n),
    };
  }
  return out;
}

function median(xs: number[]): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

const program = new Command('graph-run')
  .requiredOption('--workload <name>')
  .option('--scale <x>', 'fraction of the workload', Number, 1)
  .option('--batch <n>', 'variant rows per batch', Number, 5000)
  .requiredOption('--pool <bytes>', 'Kuzu buffer pool', Number)
  .requiredOption('--dir <path>')
  .option('--queries <n>', 'runs of each query', Number, 50)
  .option('--ceiling', 'bulk COPY of the same final graph instead')
  .option('--max-batches <n>', 'stop after this many batches (probes)', Number)
  .action(async (o: Options) => {
    rmSync(o.dir, { recursive: true, force: true });
    mkdirSync(o.dir, { recursive: true });
    if (o.ceiling)
      emit({ type: 'ceiling', ...(await copyCeiling(workload(o.workload, o.scale), o.dir, o.pool)) });
    else await ingest(o);
    process.exit(0);
  });

program.parseAsync().catch((error: unknown) => {
  console.error(`graph-run: ${(error as Error).stack ?? error}`);
  process.exit(1);
});
