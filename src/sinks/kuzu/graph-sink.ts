/**
 * Kuzu sink for the variant graph. Per batch it stages CSV files (one per node and rel table) and
 * applies them with `LOAD ... MERGE` in one transaction, together with the Kafka offsets the batch
 * covers. MERGE makes a redelivered batch a no-op; the stored offsets let the sink skip a batch it
 * has wholly applied before (after a crash between the Kuzu commit and the Kafka commit).
 */
import { mkdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { VariantBatch } from '../../batching/variant-batch.ts';
import { type Sink, type SinkBatch, SinkError, type SinkResult } from '../sink.ts';
import { CsvFile } from './csv-file.ts';
import { GRAPH_DDL, LOAD_STATEMENTS, READ_OFFSETS, UPSERT_OFFSET } from './graph-schema.ts';
import type { KuzuStore } from './kuzu-store.ts';

/** Staging paths are spliced into LOAD statements, so they may hold only these characters. */
const SAFE_PATH = /^[A-Za-z0-9_./-]+$/;

export class KuzuGraphSink implements Sink<VariantBatch> {
  readonly name = 'kuzu';
  private readonly stagingDir: string;
  /** `{topic}:{partition}` -> next offset not yet applied, as committed in Kuzu. */
  private readonly applied = new Map<string, number>();

  constructor(private readonly store: KuzuStore) {
    this.stagingDir = join(dirname(resolve(store.path)), 'staging');
    if (!SAFE_PATH.test(this.stagingDir)) {
      throw new SinkError(this.name, `kuzu.path ${store.path}: the directory may hold only letters, digits and . _ / -`, false);
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
    const files = this.stage(batch);
    try {
      await Promise.all(files.map((f) => f.file.write()));
      const written = await this.store.transaction(async () => {
        let n = 0;
        for (const { file, statement } of files) {
          if (file.rows === 0) continue;
          await this.store.run(loadStatement(statement, file));
          n += file.rows;
        }
        for (const range of batch.ranges) {
          await this.store.run(UPSERT_OFFSET, { id: `${batch.topic}:${range.partition}`, next: range.last + 1 });
        }
        return n;
      });
      for (const range of batch.ranges) this.applied.set(`${batch.topic}:${range.partition}`, range.last + 1);
      return { written };
    } catch (error) {
      throw new SinkError(this.name, `batch ${batch.id} failed: ${(error as Error).message}`, true, { cause: error });
    } finally {
      for (const { file } of files) rmSync(file.path, { force: true });
    }
  }

  async close(): Promise<void> {
    await this.store.close();
  }

  private alreadyApplied(batch: SinkBatch<VariantBatch>): boolean {
    return (
      batch.ranges.length > 0 &&
      batch.ranges.every((r) => (this.applied.get(`${batch.topic}:${r.partition}`) ?? -1) > r.last)
    );
  }

  private stage(batch: SinkBatch<VariantBatch>): Array<{ file: CsvFile; statement: string }> {
    const b = batch.payload;
    const path = (name: string) => join(this.stagingDir, `batch-${process.pid}-${batch.id}-${name}.csv`);
    const variants = new CsvFile(path('variants'), ['id', 'chrom', 'pos', 'ref', 'alt', 'rsid', 'qual']);
    const v = b.variants;
    for (let i = 0; i < v.length; i++) variants.row([v.variantId[i], v.chrom[i], v.pos[i], v.ref[i], v.alt[i], v.rsid[i], v.qual[i]]);
    const genes = new CsvFile(path('genes'), ['symbol']);
    for (const gene of b.genes) genes.row([gene]);
    const samples = new CsvFile(path('samples'), ['id']);
    for (const sample of b.samples) samples.row([sample]);
    const inGene = new CsvFile(path('in-gene'), ['variant', 'gene']);
    for (let i = 0; i < b.geneVariant.length; i++) inGene.row([b.geneVariant[i], b.geneSymbol[i]]);
    const calls = new CsvFile(path('has-variant'), ['sample', 'variant', 'gt', 'zygosity', 'dp', 'gq']);
    const c = b.calls;
    for (let i = 0; i < c.length; i++) calls.row([c.sample[i], c.variantId[i], c.gt[i], c.zygosity[i], c.dp[i], c.gq[i]]);
    return [
      { file: variants, statement: LOAD_STATEMENTS.variants },
      { file: genes, statement: LOAD_STATEMENTS.genes },
      { file: samples, statement: LOAD_STATEMENTS.samples },
      { file: inGene, statement: LOAD_STATEMENTS.inGene },
      { file: calls, statement: LOAD_STATEMENTS.hasVariant },
    ];
  }
}

function loadStatement(template: string, file: CsvFile): string {
  const options = file.hasNewlines ? "(header=true, escape='\"', parallel=false)" : "(header=true, escape='\"')";
  return template.replace('$FILE', file.path).replace('$OPTS', options);
}
