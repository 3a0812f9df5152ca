/**
 * Kuzu sink for the variant graph. Per batch it stages CSV files and applies them with
 * `LOAD ... FROM` in one transaction, together with the Kafka offsets the batch covers.
 *
 * Idempotence without churn: the sink first reads what the batch's variants and their calls
 * already hold, then CREATEs what is new, SETs in place what differs and leaves the rest alone,
 * so a redelivered batch writes nothing but its offsets. (A MERGE that sets rel properties is ~10x
 * slower in Kuzu 0.11 than a CREATE; deleting and re-creating edges made the database file grow
 * with every redelivery until the buffer pool could not hold a write.) Genes, samples and IN_GENE
 * edges are MERGEd. The stored offsets let the sink skip a batch it has wholly applied before.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { VariantBatch } from '../../batching/variant-batch.ts';
import { RecordRejectedError, type Sink, type SinkBatch, SinkError, type SinkResult } from '../sink.ts';
import { CsvFile } from './csv-file.ts';
import { GRAPH_DDL, LOAD_STATEMENTS, READ_OFFSETS } from './graph-schema.ts';
import type { KuzuStore, Row } from './kuzu-store.ts';

/** Staging paths are spliced into LOAD statements, so they may hold only these characters. */
const SAFE_PATH = /^[A-Za-z0-9_./-]+$/;
const VARIANT_HEADER = ['id', 'chrom', 'pos', 'ref', 'alt', 'rsid', 'qual'] as const;
const CALL_HEADER = ['sample', 'variant', 'gt', 'zygosity', 'dp', 'gq'] as const;
/** Kuzu errors that mean "these values", so the batch's records are split out and dead-lettered. */
const REJECTED_CONTENT = /^(Conversion exception|Copy exception)/;
/**
 * Kuzu 0.11 keeps every committed update's version info in its buffer pool until a checkpoint, and
 * checkpoints on its own only when the WAL reaches 16 MiB. Small writes (a redelivered batch
 * writes only its offsets) never get there: 700 transactions of three offset updates filled a
 * 16 MiB pool, and a 128 MiB pool failed after ~1,700 batches of redelivered sites. So the sink
 * checkpoints every this many written batches, and after a write the pool could not hold.
 */
export const CHECKPOINT_EVERY_WRITES = 64;
/**
 * Kuzu 0.11 keeps ~290 KiB of native memory per CHECKPOINT until its Database closes (5,000
 * checkpoints of an unchanged graph: +1.4 GiB RSS whatever the pool). So the sink closes and
 * opens the store again after this many checkpoints (every 1,024 written batches): most of what
 * the checkpoints held returns (glibc keeps part of what the old Database freed, so the rise is
 * bounded, not gone: `npm run bench:kuzu-native`), and the open costs 40-250 ms at 100k sites.
 * If the reopen fails, the write has committed already; the next write opens the store.
 */
export const REOPEN_EVERY_CHECKPOINTS = 16;
const POOL_FULL = /buffer pool is full/i;

export class KuzuGraphSink implements Sink<VariantBatch> {
  readonly name = 'kuzu';
  private readonly stagingDir: string;
  /** `{topic}:{partition}` -> next offset not yet applied, as committed in Kuzu. */
  private readonly applied = new Map<string, number>();
  private writesSinceCheckpoint = 0;
  private checkpointsSinceOpen = 0;
  /** Times the store was closed and opened again to return what its checkpoints held. */
  reopens = 0;

  constructor(
    private readonly store: KuzuStore,
    private readonly every = {
      checkpointWrites: CHECKPOINT_EVERY_WRITES,
      reopenCheckpoints: REOPEN_EVERY_CHECKPOINTS,
    },
  ) {
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
    await this.store.open();
    for (const ddl of GRAPH_DDL) await this.store.run(ddl);
    for (const row of await this.store.run(READ_OFFSETS)) this.applied.set(String(row.id), Number(row.next));
  }

  async writeBatch(batch: SinkBatch<VariantBatch>): Promise<SinkResult> {
    if (this.alreadyApplied(batch)) return { written: 0, skipped: true };
    const files: CsvFile[] = [];
    const file = (name: string, header: readonly string[]) => {
      const f = new CsvFile(join(this.stagingDir, `batch-${process.pid}-${batch.id}-${name}.csv`), header);
      files.push(f);
      return f;
    };
    try {
      // Opens again if a reopen after a checkpoint failed half way (a no-op when open).
      await this.store.open();
      const b = batch.payload;
      const nodes = this.stageNodes(b, file);
      await Promise.all(Object.values(nodes).map((f) => f.write()));
      const written = await this.store.transaction(async () => {
        const before = await this.rowsByKey(LOAD_STATEMENTS.existingVariants, nodes.variants, variantKey);
        const variants = await this.stageChanges(VARIANT_HEADER, 1, before, variantRows(b), file);
        await this.load(LOAD_STATEMENTS.samples, nodes.samples);
        await this.load(LOAD_STATEMENTS.genes, nodes.genes);
        await this.load(LOAD_STATEMENTS.createVariants, variants.created);
        await this.load(LOAD_STATEMENTS.updateVariants, variants.updated);
        await this.load(LOAD_STATEMENTS.inGene, nodes.inGene);
        // Only calls of variants that existed can have an edge already.
        const callsOfExisting = file('calls-of-existing', CALL_HEADER);
        for (const row of callRows(b)) if (before.has(row[1] as string)) callsOfExisting.row(row);
        await callsOfExisting.write();
        const edges = await this.rowsByKey(LOAD_STATEMENTS.existingCalls, callsOfExisting, callKey);
        const calls = await this.stageChanges(CALL_HEADER, 2, edges, callRows(b), file);
        await this.load(LOAD_STATEMENTS.deleteCalls, calls.updated);
        await this.load(LOAD_STATEMENTS.createCalls, calls.updated);
        await this.load(LOAD_STATEMENTS.createCalls, calls.created);
        const offsets = file('offsets', ['id', 'next']);
        for (const range of batch.ranges) offsets.row([`${batch.topic}:${range.partition}`, range.last + 1]);
        await offsets.write();
        await this.load(LOAD_STATEMENTS.offsets, offsets);
        return b.variants.length + b.genes.size + b.samples.size + b.geneVariant.length + b.calls.length;
      });
      for (const range of batch.ranges) this.applied.set(`${batch.topic}:${range.partition}`, range.last + 1);
      if (++this.writesSinceCheckpoint >= this.every.checkpointWrites) await this.checkpoint();
      return { written };
    } catch (error) {
      const message = `batch ${batch.id} failed: ${(error as Error).message}`;
      // Frees the pool of what committed updates hold, so the retry meets an empty pool; a failed
      // checkpoint is left to the retry (it reports the write's own error).
      if (POOL_FULL.test((error as Error).message ?? '')) await this.checkpoint().catch(() => undefined);
      // Kuzu's conversion and copy errors are about the values loaded, not about the store.
      if (REJECTED_CONTENT.test((error as Error).message ?? ''))
        throw new RecordRejectedError(this.name, message, { cause: error });
      throw new SinkError(this.name, message, true, { cause: error });
    } finally {
      for (const f of files) rmSync(f.path, { force: true });
    }
  }

  async close(): Promise<void> {
    await this.store.close();
  }

  private async checkpoint(): Promise<void> {
    await this.store.run('CHECKPOINT');
    this.writesSinceCheckpoint = 0;
    if (++this.checkpointsSinceOpen < this.every.reopenCheckpoints) return;
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

  private async load(template: string, file: CsvFile): Promise<void> {
    if (file.rows > 0) await this.store.run(loadStatement(template, file));
  }

  /** Runs a read of `file`'s keys and returns each row found, as its comparable key. */
  private async rowsByKey(
    template: string,
    file: CsvFile,
    key: (row: Row) => { id: string; values: string },
  ): Promise<Map<string, string>> {
    const found = new Map<string, string>();
    if (file.rows === 0) return found;
    for (const row of await this.store.run(loadStatement(template, file))) {
      const { id, values } = key(row);
      found.set(id, values);
    }
    return found;
  }

  /**
   * Splits `rows` (their first `keyColumns` cells the key) against what the store holds: rows it
   * lacks go to a CREATE file, rows whose values differ to a SET file, equal rows nowhere.
   */
  private async stageChanges(
    header: readonly string[],
    keyColumns: number,
    before: Map<string, string>,
    rows: Iterable<Cell[]>,
    file: (name: string, header: readonly string[]) => CsvFile,
  ): Promise<{ created: CsvFile; updated: CsvFile }> {
    const name = header[keyColumns - 1];
    const created = file(`${name}-new`, header);
    const updated = file(`${name}-changed`, header);
    for (const row of rows) {
      const held = before.get(row.slice(0, keyColumns).join('\u0000'));
      if (held === undefined) created.row(row);
      else if (held !== comparable(row.slice(keyColumns))) updated.row(row);
    }
    await Promise.all([created.write(), updated.write()]);
    return { created, updated };
  }

  private stageNodes(b: VariantBatch, file: (name: string, header: readonly string[]) => CsvFile) {
    const variants = file('variants', VARIANT_HEADER);
    for (const row of variantRows(b)) variants.row(row);
    const genes = file('genes', ['symbol']);
    for (const gene of b.genes) genes.row([gene]);
    const samples = file('samples', ['id']);
    for (const sample of b.samples) samples.row([sample]);
    const inGene = file('in-gene', ['variant', 'gene']);
    for (let i = 0; i < b.geneVariant.length; i++) inGene.row([b.geneVariant[i], b.geneSymbol[i]]);
    return { variants, genes, samples, inGene };
  }
}

type Cell = string | number | null | undefined;

function* variantRows(b: VariantBatch): Generator<Cell[]> {
  const v = b.variants;
  for (let i = 0; i < v.length; i++)
    yield [v.variantId[i], v.chrom[i], v.pos[i], v.ref[i], v.alt[i], v.rsid[i], v.qual[i]];
}

function* callRows(b: VariantBatch): Generator<Cell[]> {
  const c = b.calls;
  for (let i = 0; i < c.length; i++)
    yield [c.sample[i], c.variantId[i], c.gt[i], c.zygosity[i], c.dp[i], c.gq[i]];
}

/** Values as one string, the same for a staged row and the row Kuzu returns (NULL and '' differ). */
function comparable(values: readonly unknown[]): string {
  return values.map((x) => (x === null || x === undefined ? '\u0000' : String(x))).join('\u0001');
}

function variantKey(r: Row): { id: string; values: string } {
  return { id: String(r.id), values: comparable([r.chrom, r.pos, r.ref, r.alt, r.rsid, r.qual]) };
}

function callKey(r: Row): { id: string; values: string } {
  return { id: `${r.sample}\u0000${r.variant}`, values: comparable([r.gt, r.zygosity, r.dp, r.gq]) };
}

function loadStatement(template: string, file: CsvFile): string {
  const options = file.hasNewlines
    ? "(header=true, escape='\"', parallel=false)"
    : "(header=true, escape='\"')";
  return template.replace('$FILE', file.path).replace('$OPTS', options);
}
