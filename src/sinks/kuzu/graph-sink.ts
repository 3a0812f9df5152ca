/**
 * Kuzu sink for the variant graph (schema v2, graph-schema.ts). Per batch it stages CSV files and
 * applies them with `LOAD ... FROM` in one transaction, together with the samples' counts and the
 * Kafka offsets the batch covers: all of a batch commits, or none of it.
 *
 * Idempotence without churn: per shard, the sink first reads which of the batch's variants exist
 * and, for those, their values, gene pairs and calls; then CREATEs what is new, SETs in place what
 * differs and leaves the rest alone, so a redelivered batch writes nothing but its offsets (and the
 * stored offsets let it skip a batch it wholly applied before). Each read is a hash join over one
 * shard's table, so its cost is bounded by the chromosomes the shard holds, not by the graph.
 *
 * Long file: one batch's transaction (read what exists per window, write what is new or changed,
 * offsets) must be read in one place to see that it is idempotent.
 */
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { VariantBatch } from '../../batching/variant-batch.ts';
import { type Delivery, deliver, deliveryOf, type Sink, type SinkBatch, SinkError } from '../../core/sink.ts';
import { CsvFile } from './csv-file.ts';
import { READ_OFFSETS, BATCH_STATEMENTS as S, variantTable } from './graph-schema.ts';
import type { KuzuStore, Row } from './kuzu-store.ts';
import { ensureGraphSchema } from './schema-version.ts';
import { type Cell, planBatch, type WindowPlan } from './shard-plan.ts';

/** Staging paths are spliced into LOAD statements, so they may hold only these characters. */
const SAFE_PATH = /^[A-Za-z0-9_./-]+$/;
const STAGED = /^batch-\d+-\d+-.*\.csv$/;
export const VARIANT_HEADER = ['key', 'id', 'chrom', 'pos', 'ref', 'alt', 'rsid', 'qual'] as const;
export const CALL_HEADER = ['variant', 'sample', 'gt', 'zygosity', 'dp', 'gq'] as const;
const PAIR_HEADER = ['variant', 'gene'] as const;
/** Kuzu errors that mean "these values", so the batch's records are split out and dead-lettered. */
const REJECTED_CONTENT = /^(Conversion exception|Copy exception)/;
/**
 * Kuzu 0.11 keeps what committed transactions wrote in its buffer pool until a checkpoint. Its own
 * checkpoint (at a 16 MiB WAL) is turned off so that the sink counts every checkpoint (see
 * REOPEN_EVERY_CHECKPOINTS): it checkpoints after this many written batches, or once the batches
 * since the last one staged `checkpointBytes` (default: an eighth of the pool), and after a write
 * the pool could not hold.
 */
export const CHECKPOINT_EVERY_WRITES = 16;
/**
 * Kuzu 0.11 keeps ~290 KiB of native memory per CHECKPOINT until its Database closes (5,000
 * checkpoints of an unchanged graph: +1.4 GiB RSS whatever the pool). So the sink closes and
 * opens the store again after this many checkpoints: most of what the checkpoints held returns
 * (`npm run bench:kuzu-native`). If the reopen fails, the write has committed already; the next
 * write opens the store.
 */
export const REOPEN_EVERY_CHECKPOINTS = 16;
/**
 * The window bounds are parameters, so each batch prepares a few statements, which Kuzu holds until
 * the connection closes (~16-21 KiB each): past this many the next checkpoint also reopens.
 */
export const REOPEN_AFTER_PREPARED = 1000;
export const WRITER_SETTINGS = ['CALL auto_checkpoint=false'] as const;
const POOL_FULL = /buffer pool is full/i;

export interface GraphSinkPolicy {
  checkpointWrites: number;
  /** Staged bytes after which the sink checkpoints, whatever the number of writes. */
  checkpointBytes: number;
  reopenCheckpoints: number;
}

type FileMaker = (name: string, header: readonly string[]) => CsvFile;

export class KuzuGraphSink implements Sink<VariantBatch> {
  readonly name = 'kuzu';
  private readonly stagingDir: string;
  /** `{topic}:{partition}` -> next offset not yet applied, as committed in Kuzu. */
  private readonly applied = new Map<string, number>();
  private readonly every: GraphSinkPolicy;
  private writesSinceCheckpoint = 0;
  private bytesSinceCheckpoint = 0;
  private checkpointsSinceOpen = 0;
  /** Checkpoints the sink ran, and times it closed and opened the store to return what they held. */
  checkpoints = 0;
  reopens = 0;

  constructor(
    private readonly store: KuzuStore,
    every: Partial<GraphSinkPolicy> = {},
  ) {
    this.every = {
      checkpointWrites: every.checkpointWrites ?? CHECKPOINT_EVERY_WRITES,
      checkpointBytes: every.checkpointBytes ?? 16 * 1024 * 1024,
      reopenCheckpoints: every.reopenCheckpoints ?? REOPEN_EVERY_CHECKPOINTS,
    };
    this.stagingDir = join(dirname(resolve(store.path)), 'staging');
    if (!SAFE_PATH.test(this.stagingDir)) {
      throw new SinkError(
        this.name,
        `kuzu.path ${store.path}: the directory may hold only letters, digits and . _ / -`,
        false,
      );
    }
  }

  async start(): Promise<void> {
    mkdirSync(this.stagingDir, { recursive: true });
    // Files a killed process left behind (the names carry its pid and batch id).
    for (const name of readdirSync(this.stagingDir))
      if (STAGED.test(name)) rmSync(join(this.stagingDir, name), { force: true });
    await this.store.useSettings(WRITER_SETTINGS);
    await this.store.open();
    try {
      await ensureGraphSchema(this.store);
    } catch (error) {
      throw new SinkError(this.name, (error as Error).message, false, { cause: error });
    }
    for (const row of await this.store.run(READ_OFFSETS)) this.applied.set(String(row.id), Number(row.next));
  }

  async writeBatch(batch: SinkBatch<VariantBatch>): Promise<Delivery> {
    if (this.alreadyApplied(batch)) return deliver.written(0, true);
    const files: CsvFile[] = [];
    const file: FileMaker = (name, header) => {
      const f = new CsvFile(join(this.stagingDir, `batch-${process.pid}-${batch.id}-${name}.csv`), header);
      files.push(f);
      return f;
    };
    try {
      // Opens again if a reopen after a checkpoint failed half way (a no-op when open).
      await this.store.open();
      const topic = batch.topic;
      const plan = planBatch(
        batch.payload,
        (partition, offset) => (this.applied.get(`${topic}:${partition}`) ?? -1) > offset,
      );
      const samples = file('samples', ['id']);
      for (const sample of batch.payload.samples) samples.row([sample]);
      const genes = file('genes', ['symbol']);
      for (const gene of batch.payload.genes) genes.row([gene]);
      await Promise.all([samples.write(), genes.write()]);
      const written = await this.store.transaction(async () => {
        const known = new Set<string>();
        if (samples.rows > 0) {
          const rows = await this.store.run(loadStatement(S.existingSamples, samples));
          for (const id of (rows[0]?.found as string[] | null) ?? []) known.add(id);
        }
        await this.load(S.samples, samples);
        await this.load(S.genes, genes);
        const added = new Map<string, number>();
        let n = samples.rows + genes.rows;
        for (const [i, w] of plan.entries()) n += await this.writeWindow(w, `w${i}`, known, file, added);
        const counts = file('counts', ['id', 'added']);
        for (const [sample, count] of added) counts.row([sample, count]);
        await this.loadFile(S.sampleCounts, counts);
        const offsets = file('offsets', ['id', 'next']);
        for (const range of batch.ranges) offsets.row([`${batch.topic}:${range.partition}`, range.last + 1]);
        await this.loadFile(S.offsets, offsets);
        return n;
      });
      for (const range of batch.ranges) this.applied.set(`${batch.topic}:${range.partition}`, range.last + 1);
      this.bytesSinceCheckpoint += files.reduce((sum, f) => sum + f.size, 0);
      if (
        ++this.writesSinceCheckpoint >= this.every.checkpointWrites ||
        this.bytesSinceCheckpoint >= this.every.checkpointBytes ||
        this.store.preparedSinceOpen >= REOPEN_AFTER_PREPARED
      )
        await this.checkpoint();
      return deliver.written(written);
    } catch (error) {
      return await this.failure(batch, error);
    } finally {
      for (const f of files) rmSync(f.path, { force: true });
    }
  }

  async close(): Promise<void> {
    await this.store.close();
  }

  /**
   * Writes one window's variants, gene pairs and calls (statements filtered to the window, see
   * shard-plan.ts); counts each sample's new CARRIED_BY edges in `added`.
   */
  private async writeWindow(
    w: WindowPlan,
    name: string,
    knownSamples: ReadonlySet<string>,
    file: FileMaker,
    added: Map<string, number>,
  ): Promise<number> {
    const table = variantTable(w.shard);
    const window = { chrom: w.chrom, lo: w.lo, hi: w.hi };
    const run = (template: string, f: CsvFile) => this.store.run(loadStatement(template, f, table), window);
    const found = async (template: string, f: CsvFile): Promise<unknown[]> => {
      await f.write();
      return f.rows === 0 ? [] : (((await run(template, f))[0]?.found as unknown[]) ?? []);
    };
    const indexed = (rows: Cell[][], header: readonly string[], columns: number) => {
      const f = file(`${name}-${header.join('-')}-held`, ['i', ...header.slice(0, columns)]);
      for (const [i, row] of rows.entries()) f.row([i, ...row.slice(0, columns)]);
      return f;
    };

    const existed = new Set<number>(
      (await found(S.existingVariants, indexed(w.variants, ['key'], 1))) as number[],
    );
    const existingKeys = new Set(w.variants.filter((_, i) => existed.has(i)).map((row) => row[0] as string));
    const created = file(`${name}-variants-new`, VARIANT_HEADER);
    const updated = file(`${name}-variants-later`, VARIANT_HEADER);
    w.variants.forEach((row, i) => {
      if (!w.unapplied[i]) return;
      (existed.has(i) ? updated : created).row(row);
    });
    await this.loadFile(S.createVariants, created, table);
    if (updated.rows > 0) {
      await updated.write();
      await run(S.updateVariants, updated);
    }

    // Only variants that existed can have gene pairs already.
    const pairsOfExisting = w.genePairs.filter((row) => existingKeys.has(row[0] as string));
    const heldPairs = new Set(
      (await found(S.existingGenePairs, indexed(pairsOfExisting, PAIR_HEADER, 2))) as number[],
    );
    const newPairs = file(`${name}-genes-new`, PAIR_HEADER);
    const held = new Set(
      pairsOfExisting.filter((_, i) => heldPairs.has(i)).map((row) => `${row[0]}\u0000${row[1]}`),
    );
    for (const row of w.genePairs) if (!held.has(`${row[0]}\u0000${row[1]}`)) newPairs.row(row);
    if (newPairs.rows > 0) {
      await newPairs.write();
      await run(S.createGenePairs, newPairs);
    }

    // Only calls of variants and samples that existed can have an edge already.
    const callsOfExisting = w.calls.filter(
      (row) => existingKeys.has(row[0] as string) && knownSamples.has(row[1] as string),
    );
    const edges = new Map<string, string>();
    for (const e of (await found(S.existingCalls, indexed(callsOfExisting, CALL_HEADER, 2))) as Row[]) {
      const row = callsOfExisting[Number(e.i)] as Cell[];
      edges.set(`${row[0]}\u0000${row[1]}`, comparable([e.gt, e.zygosity, e.dp, e.gq]));
    }
    const newCalls = file(`${name}-calls-new`, CALL_HEADER);
    const changedCalls = file(`${name}-calls-changed`, CALL_HEADER);
    for (const row of w.calls) {
      const before = edges.get(`${row[0]}\u0000${row[1]}`);
      if (before === undefined) {
        newCalls.row(row);
        added.set(row[1] as string, (added.get(row[1] as string) ?? 0) + 1);
      } else if (before !== comparable(row.slice(2))) changedCalls.row(row);
    }
    for (const [template, f] of [
      [S.deleteCalls, changedCalls],
      [S.createCalls, changedCalls],
      [S.createCalls, newCalls],
    ] as const) {
      if (f.rows === 0) continue;
      await f.write();
      await run(template, f);
    }
    return created.rows + updated.rows + newPairs.rows + newCalls.rows + changedCalls.rows;
  }

  private async failure(batch: SinkBatch<VariantBatch>, error: unknown): Promise<Delivery> {
    if (error instanceof SinkError) return deliveryOf(error);
    const reason = (error as Error).message ?? String(error);
    const message = `batch ${batch.id} failed: ${reason}`;
    // Frees the pool of what committed updates hold, so the retry meets an empty pool; a failed
    // checkpoint is left to the retry (it reports the write's own error).
    if (POOL_FULL.test(reason)) await this.checkpoint().catch(() => undefined);
    // Kuzu's conversion and copy errors are about the values loaded, not about the store.
    if (REJECTED_CONTENT.test(reason)) return deliver.rejected(message, error);
    // A full pool is the store's state unless one message alone overfills a freshly checkpointed
    // pool: suspect, so the micro-batcher retries it a few times, then splits the batch.
    return deliver.retry(message, { cause: error, suspect: POOL_FULL.test(reason) });
  }

  private async checkpoint(): Promise<void> {
    await this.store.run('CHECKPOINT');
    this.checkpoints++;
    this.writesSinceCheckpoint = 0;
    this.bytesSinceCheckpoint = 0;
    if (
      ++this.checkpointsSinceOpen < this.every.reopenCheckpoints &&
      this.store.preparedSinceOpen < REOPEN_AFTER_PREPARED
    )
      return;
    // Right after a checkpoint the WAL is empty, so the open replays nothing.
    await this.store.reopen();
    this.checkpointsSinceOpen = 0;
    this.reopens++;
  }

  private alreadyApplied(batch: SinkBatch<VariantBatch>): boolean {
    return (
      batch.ranges.length > 0 &&
      batch.ranges.every((r) => (this.applied.get(`${batch.topic}:${r.partition}`) ?? -1) > r.last)
    );
  }

  private async load(template: string, file: CsvFile, table?: string): Promise<void> {
    if (file.rows > 0) await this.store.run(loadStatement(template, file, table));
  }

  /** Writes `file` and loads it (nothing when it has no rows). */
  private async loadFile(template: string, file: CsvFile, table?: string): Promise<void> {
    if (file.rows === 0) return;
    await file.write();
    await this.load(template, file, table);
  }
}

/** Values as one string, the same for a staged row and the row Kuzu returns (NULL and '' differ). */
function comparable(values: readonly unknown[]): string {
  return values.map((x) => (x === null || x === undefined ? '\u0000' : String(x))).join('\u0001');
}

function loadStatement(template: string, file: CsvFile, table?: string): string {
  const options = file.hasNewlines
    ? "(header=true, escape='\"', parallel=false)"
    : "(header=true, escape='\"')";
  const statement = template.replace('$FILE', file.path).replace('$OPTS', options);
  return table ? statement.replaceAll('$T', table) : statement;
}
