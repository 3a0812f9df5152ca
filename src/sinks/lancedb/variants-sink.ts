/**
 * LanceDB sink for variants: one `mergeInsert` per batch keyed by `variant_id` (update when
 * matched, insert when not), so a redelivered batch replaces rows instead of adding them.
 */
import * as lancedb from '@lancedb/lancedb';
import type { VariantBatch } from '../../batching/variant-batch.ts';
import { type Sink, type SinkBatch, SinkError, type SinkResult } from '../sink.ts';
import { VARIANTS_SCHEMA, variantsToArrow } from './variant-arrow.ts';

export interface LanceVariantsSinkOptions {
  uri: string;
  table: string;
}

export class LanceVariantsSink implements Sink<VariantBatch> {
  readonly name = 'lancedb';
  private connection: lancedb.Connection | undefined;
  private table: lancedb.Table | undefined;

  constructor(private readonly options: LanceVariantsSinkOptions) {}

  async start(): Promise<void> {
    this.connection = await lancedb.connect(this.options.uri);
    const names = await this.connection.tableNames();
    if (names.includes(this.options.table)) {
      this.table = await this.connection.openTable(this.options.table);
      return;
    }
    this.table = await this.connection.createEmptyTable(this.options.table, VARIANTS_SCHEMA, {
      existOk: true,
    });
    // Concurrent merge-inserts on overlapping keys duplicate rows without it (FIELD-NOTES.md).
    await this.table.setUnenforcedPrimaryKey('variant_id');
  }

  async writeBatch(batch: SinkBatch<VariantBatch>): Promise<SinkResult> {
    if (!this.table) throw new SinkError(this.name, 'writeBatch before start', false);
    const columns = batch.payload.variants;
    if (columns.length === 0) return { written: 0 };
    const data = variantsToArrow(columns, Date.now());
    try {
      await this.table
        .mergeInsert('variant_id')
        .whenMatchedUpdateAll()
        .whenNotMatchedInsertAll()
        .execute(data);
    } catch (error) {
      throw new SinkError(
        this.name,
        `merge-insert of ${columns.length} rows failed: ${(error as Error).message}`,
        true,
        { cause: error },
      );
    }
    return { written: columns.length };
  }

  async close(): Promise<void> {
    this.table?.close();
    this.connection?.close();
    this.table = undefined;
    this.connection = undefined;
  }
}
