/**
 * LanceDB sink for variants: one `mergeInsert` per batch keyed by `variant_id` (update when
 * matched, insert when not), so a redelivered batch replaces rows instead of adding them.
 */
import type { VariantBatch } from '../../batching/variant-batch.ts';
import { type Delivery, deliver, type Sink, type SinkBatch, SinkError } from '../../core/sink.ts';
import { type LanceTableOptions, type OpenedTable, openLanceTable } from './open-table.ts';
import { TableUpkeep } from './table-upkeep.ts';
import { VARIANTS_SCHEMA, variantsToArrow } from './variant-arrow.ts';

export type LanceVariantsSinkOptions = LanceTableOptions;

export class LanceVariantsSink implements Sink<VariantBatch> {
  readonly name = 'lancedb';
  private opened: OpenedTable | undefined;
  private upkeep: TableUpkeep | undefined;

  constructor(private readonly options: LanceVariantsSinkOptions) {}

  async start(): Promise<void> {
    const { uri, table } = this.options;
    this.opened = await openLanceTable(
      uri,
      table,
      'variant_id',
      (existing) => {
        if (existing && !existing.fields.some((f) => f.name === 'variant_id'))
          throw new SinkError(this.name, `table "${table}" at ${uri} has no "variant_id" column`, false);
        return VARIANTS_SCHEMA;
      },
      this.options.cache,
    );
    this.upkeep = new TableUpkeep(
      this.opened.table,
      this.options.upkeep,
      this.options.logger.child({ component: 'lancedb-upkeep' }),
      undefined,
      this.options.onUpkeep,
    );
    await this.upkeep.start();
  }

  async writeBatch(batch: SinkBatch<VariantBatch>): Promise<Delivery> {
    const { opened, upkeep } = this;
    if (!opened || !upkeep) return deliver.fatal('writeBatch before start');
    const columns = batch.payload.variants;
    if (columns.length === 0) return deliver.written(0);
    let data: ReturnType<typeof variantsToArrow>;
    try {
      data = variantsToArrow(columns, Date.now());
    } catch (error) {
      // Building the Arrow batch depends on the values alone: retrying cannot help.
      return deliver.rejected(`cannot convert to Arrow: ${(error as Error).message}`, error);
    }
    try {
      await opened.table
        .mergeInsert('variant_id')
        .whenMatchedUpdateAll()
        .whenNotMatchedInsertAll()
        .execute(data);
    } catch (error) {
      return deliver.retry(`merge-insert of ${columns.length} rows failed: ${(error as Error).message}`, {
        cause: error,
      });
    }
    await upkeep.afterWrite(columns.length);
    return deliver.written(columns.length);
  }

  async close(): Promise<void> {
    this.opened?.close();
    this.opened = undefined;
    this.upkeep = undefined;
  }
}
