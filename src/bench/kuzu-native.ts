/**
 * `npm run bench:kuzu-native`: what Kuzu 0.11 keeps in native memory for an object's lifetime,
 * however the JS side drops its objects. Each probe runs in a fresh process (no Kafka), samples
 * its RSS as it goes, and prints one JSON line; the parent writes them all to --out.
 *
 * - `prepare-each`: the offsets MERGE prepared for every execution (as the sink did before c3896e5).
 * - `prepare-once`: one PreparedStatement re-executed.
 * - `checkpoint`: CHECKPOINT with nothing written.
 * - `sink` / `sink-no-reopen`: batches of one variant over three partitions (each writing little
 *   but its offsets, as a redelivery does) through KuzuGraphSink, with its reopen every
 *   REOPEN_EVERY_CHECKPOINTS checkpoints, and without it.
 *
 * The first two checkpoint every 64 executions, as the sink does, so the pool holds no versions.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import kuzu from 'kuzu';
import { VariantBatch } from '../batching/variant-batch.ts';
import { decodeVariantMessage } from '../contract/variant-decoder.ts';
import {
  CHECKPOINT_EVERY_WRITES,
  KuzuGraphSink,
  REOPEN_EVERY_CHECKPOINTS,
} from '../sinks/kuzu/graph-sink.ts';
import { KuzuStore } from '../sinks/kuzu/kuzu-store.ts';
import { headCommit } from './head-commit.ts';

const PROBES = ['prepare-each', 'prepare-once', 'checkpoint', 'sink', 'sink-no-reopen'] as const;
type Probe = (typeof PROBES)[number];
const POOL_BYTES = 64 * 1024 ** 2;
const MERGE = 'MERGE (o:KafkaOffset {id: $id}) SET o.next_offset = $next';

interface ProbeResult {
  probe: Probe;
  iterations: number;
  seconds: number;
  /** RSS (MiB) before the first iteration and after every tenth of them. */
  rssMb: Array<{ i: number; mb: number }>;
  reopens?: number;
}

const rssMb = () => Math.round(process.memoryUsage().rss / 1024 ** 2);

async function runProbe(probe: Probe, n: number): Promise<ProbeResult> {
  const dir = mkdtempSync(join(tmpdir(), 'kuzu-native-'));
  const started = performance.now();
  const rss: ProbeResult['rssMb'] = [];
  const sample = (i: number) => {
    if (i % Math.max(1, Math.floor(n / 10)) === 0 || i === n) rss.push({ i, mb: rssMb() });
  };
  try {
    if (probe === 'sink' || probe === 'sink-no-reopen') {
      const sink = new KuzuGraphSink(new KuzuStore(join(dir, 'graph.kuzu'), POOL_BYTES), {
        checkpointWrites: CHECKPOINT_EVERY_WRITES,
        reopenCheckpoints: probe === 'sink' ? REOPEN_EVERY_CHECKPOINTS : Number.POSITIVE_INFINITY,
      });
      await sink.start();
      const body = Buffer.from(
        JSON.stringify({
          chrom: 'chr2',
          pos: 7,
          ref: 'A',
          alt: 'G',
          genes: ['G1'],
          samples: { S1: { GT: '0/1' } },
        }),
      );
      sample(0);
      for (let i = 1; i <= n; i++) {
        const payload = new VariantBatch();
        payload.add(decodeVariantMessage(body), { topic: 'v', partition: 0, offset: i });
        const ranges = [0, 1, 2].map((partition) => ({ partition, first: i, last: i }));
        await sink.writeBatch({ id: i, topic: 'v', payload, ranges });
        sample(i);
      }
      const { reopens } = sink;
      await sink.close();
      return { probe, iterations: n, seconds: (performance.now() - started) / 1000, rssMb: rss, reopens };
    }
    const db = new kuzu.Database(join(dir, 'graph.kuzu'), POOL_BYTES);
    await db.init();
    const conn = new kuzu.Connection(db);
    const run = async (q: string) => (await conn.query(q)) as kuzu.QueryResult;
    (await run('CREATE NODE TABLE KafkaOffset(id STRING PRIMARY KEY, next_offset INT64)')).close();
    const once = await conn.prepare(MERGE);
    sample(0);
    for (let i = 1; i <= n; i++) {
      if (probe === 'checkpoint') {
        (await run('CHECKPOINT')).close();
      } else {
        const statement = probe === 'prepare-each' ? await conn.prepare(MERGE) : once;
        ((await conn.execute(statement, { id: `t:${i % 3}`, next: i })) as kuzu.QueryResult).close();
        if (i % CHECKPOINT_EVERY_WRITES === 0) (await run('CHECKPOINT')).close();
      }
      sample(i);
    }
    await conn.close();
    await db.close();
    return { probe, iterations: n, seconds: (performance.now() - started) / 1000, rssMb: rss };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const program = new Command('bench:kuzu-native')
  .option('--probes <list>', `comma-separated, of ${PROBES.join(', ')}`, PROBES.join(','))
  .option('--statements <n>', 'executions of the prepare probes', (v) => Number(v), 20_000)
  .option('--checkpoints <n>', 'CHECKPOINTs of the checkpoint probe', (v) => Number(v), 2_000)
  .option('--batches <n>', 'batches of the sink probes', (v) => Number(v), 12_000)
  .option('--out <file>', 'JSON result', 'bench-kuzu-native.json')
  .option('--probe <name>', '(internal) run one probe in this process and print its JSON line');

program.action(async (opts) => {
  const iterations = (probe: Probe) =>
    probe.startsWith('prepare') ? opts.statements : probe === 'checkpoint' ? opts.checkpoints : opts.batches;
  if (opts.probe) {
    if (!PROBES.includes(opts.probe)) throw new Error(`--probe: expected one of ${PROBES.join(', ')}`);
    process.stdout.write(`${JSON.stringify(await runProbe(opts.probe, iterations(opts.probe)))}\n`);
    return;
  }
  const probes = String(opts.probes).split(',') as Probe[];
  for (const p of probes) {
    if (!PROBES.includes(p)) throw new Error(`--probes: ${p} is not one of ${PROBES.join(', ')}`);
  }
  const commit = headCommit();
  const results: ProbeResult[] = [];
  for (const probe of probes) {
    const line = execFileSync(
      process.execPath,
      [
        ...process.execArgv,
        process.argv[1] as string,
        '--probe',
        probe,
        '--statements',
        String(opts.statements),
        '--checkpoints',
        String(opts.checkpoints),
        '--batches',
        String(opts.batches),
      ],
      {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    const result = JSON.parse(line.trim().split('\n').pop() as string) as ProbeResult;
    results.push(result);
    const first = result.rssMb[0]?.mb ?? 0;
    const last = result.rssMb.at(-1)?.mb ?? 0;
    const perIteration = ((last - first) * 1024) / result.iterations;
    process.stdout.write(
      `${probe.padEnd(15)} ${String(result.iterations).padStart(6)} iterations in ${result.seconds.toFixed(0).padStart(4)} s: ` +
        `RSS ${first} -> ${last} MiB (${perIteration.toFixed(1)} KiB each)` +
        `${result.reopens === undefined ? '' : `, ${result.reopens} reopens`}\n` +
        `                RSS by tenths: ${result.rssMb.map((s) => s.mb).join(' ')}\n`,
    );
  }
  writeFileSync(
    opts.out,
    `${JSON.stringify({ commit, kuzu: '0.11.3', poolMiB: POOL_BYTES / 1024 ** 2, results }, null, 2)}\n`,
  );
  process.stdout.write(`written: ${opts.out}\n`);
});

await program.parseAsync();
