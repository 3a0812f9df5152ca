/**
 * LanceDB sink for embeddings: one `mergeInsert` per batch keyed by `id` (update when matched,
 * insert when not), so redelivery replaces rows instead of adding them. The vector dimension is the
 * existing table's, or the configured one for a new table; the decoder reads it from the shared
 * VectorDimension once `start` has settled it.
 */
import type { Schema } from 'apache-arrow';
import type { EmbeddingBatch } from '../../batching/embedding-batch.ts';
import { type Delivery, deliver, type Sink, type SinkBatch, SinkError } from '../../core/sink.ts';
import { embeddingsSchema, embeddingsToArrow, vectorDimension } from './embedding-arrow.ts';
import { type LanceTableOptions, type OpenedTable, openLanceTable } from './open-table.ts';
import { TableUpkeep } from './table-upkeep.ts';

export const DEFAULT_EMBEDDING_DIM = 1536;

/** The vector dimension every embedding must have; settled by the sink's start. */
export class VectorDimension {
  private settled: number | undefined;

  /** `configured`: the configured dimension, or undefined to take the table's (1536 for a new one). */
  constructor(readonly configured?: number) {}

  get value(): number {
    if (this.settled === undefined)
      throw new Error('the embedding dimension is not known before the sink starts');
    return this.settled;
  }

  settle(dim: number): void {
    this.settled = dim;
  }
}

export interface LanceEmbeddingsSinkOptions extends LanceTableOptions {
  dimension: VectorDimension;
}

export class LanceEmbeddingsSink implements Sink<EmbeddingBatch> {
  readonly name = 'lancedb';
  private opened: OpenedTable | undefined;
  private schema: Schema | undefined;
  private upkeep: TableUpkeep | undefined;

  constructor(private readonly options: LanceEmbeddingsSinkOptions) {}

  async start(): Promise<void> {
    const { uri, table, dimension } = this.options;
    this.opened = await openLanceTable(
      uri,
      table,
      'id',
      async (existing) => {
        if (!existing) return embeddingsSchema(dimension.configured ?? DEFAULT_EMBEDDING_DIM);
        const dim = vectorDimension(existing);
        const expected = embeddingsSchema(dim ?? DEFAULT_EMBEDDING_DIM)
          .fields.map((f) => f.name)
          .join(', ');
        const actual = existing.fields.map((f) => f.name).join(', ');
        if (dim === undefined || expected !== actual) {
          throw new SinkError(
            this.name,
            `table "${table}" at ${uri} is not an embeddings table: its columns are (${actual}), expected (${expected})`,
            false,
          );
        }
        if (dimension.configured !== undefined && dimension.configured !== dim) {
          throw new SinkError(
            this.name,
            `embeddings.dim (VARSTREAM_EMBEDDING_DIM) is ${dimension.configured} but table "${table}" at ${uri} holds ${dim}-dimension vectors; unset it to use the table's, or use another table`,
            false,
          );
        }
        // Build batches with our own schema object: the one LanceDB returns comes from its own
        // decoding and does not drive apache-arrow's makeData.
        return embeddingsSchema(dim);
      },
      this.options.cache,
    );
    this.schema = this.opened.schema;
    dimension.settle(vectorDimension(this.schema) as number);
    this.upkeep = new TableUpkeep(
      this.opened.table,
      this.options.upkeep,
      this.options.logger.child({ component: 'lancedb-upkeep' }),
      'vector',
      this.options.onUpkeep,
    );
    await this.upkeep.start();
  }

  async writeBatch(batch: SinkBatch<EmbeddingBatch>): Promise<Delivery> {
    const { opened, schema, upkeep } = this;
    if (!opened || !schema || !upkeep) return deliver.fatal('writeBatch before start');
    const rows = batch.payload.length;
    if (rows === 0) return deliver.written(0);
    let data: ReturnType<typeof embeddingsToArrow>;
    try {
      data = embeddingsToArrow(batch.payload, schema, Date.now());
    } catch (error) {
      // Building the Arrow batch depends on the values alone: retrying cannot help.
      return deliver.rejected(`cannot convert to Arrow: ${(error as Error).message}`, error);
    }
    try {
      await opened.table.mergeInsert('id').whenMatchedUpdateAll().whenNotMatchedInsertAll().execute(data);
    } catch (error) {
      return deliver.retry(`merge-insert of ${rows} embeddings failed: ${(error as Error).message}`, {
        cause: error,
      });
    }
    await upkeep.afterWrite(rows);
    return deliver.written(rows);
  }

  /** Does not wait for a background index build: an unfinished build is simply not committed. */
  async close(): Promise<void> {
    this.opened?.close();
    this.opened = undefined;
    this.upkeep = undefined;
  }
}
