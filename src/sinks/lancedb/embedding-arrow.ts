/**
 * The LanceDB `embeddings` table schema and the encoder that turns a batch into one Arrow record
 * batch: the vector column is the batch's Float32Array itself (no copy), the other columns are
 * built column by column.
 */
import {
  DataType,
  Field,
  FixedSizeList,
  Float32,
  Int32,
  Int64,
  makeData,
  Schema,
  type Table,
  TimestampMillisecond,
  Utf8,
} from 'apache-arrow';
import type { EmbeddingBatch } from '../../batching/embedding-batch.ts';
import { int32Column, int64Column, tableOf, timestampColumn, utf8Column } from './arrow-columns.ts';

export function embeddingsSchema(dim: number): Schema {
  return new Schema([
    new Field('id', new Utf8(), false),
    new Field('vector', new FixedSizeList(dim, new Field('item', new Float32(), true)), false),
    new Field('model', new Utf8(), true),
    new Field('source_kind', new Utf8(), true),
    new Field('source_id', new Utf8(), true),
    new Field('text', new Utf8(), true),
    new Field('metadata', new Utf8(), true),
    new Field('kafka_topic', new Utf8(), false),
    new Field('kafka_partition', new Int32(), false),
    new Field('kafka_offset', new Int64(), false),
    new Field('ingested_at', new TimestampMillisecond('UTC'), false),
  ]);
}

/** The vector dimension of an existing table's schema, or undefined when it has no such column. */
export function vectorDimension(schema: Schema): number | undefined {
  const type = schema.fields.find((f) => f.name === 'vector')?.type;
  return DataType.isFixedSizeList(type) ? type.listSize : undefined;
}

export function embeddingsToArrow(batch: EmbeddingBatch, schema: Schema, ingestedAt: number): Table {
  const n = batch.length;
  const vectorType = schema.fields[1]?.type as FixedSizeList<Float32>;
  return tableOf(schema, n, [
    utf8Column(batch.ids),
    makeData({
      type: vectorType,
      length: n,
      nullCount: 0,
      child: makeData({ type: new Float32(), length: n * batch.dim, data: batch.vectors }),
    }),
    utf8Column(batch.model),
    utf8Column(batch.sourceKind),
    utf8Column(batch.sourceId),
    utf8Column(batch.text),
    utf8Column(batch.metadata),
    utf8Column(batch.topic),
    int32Column(batch.partition),
    int64Column(batch.offset),
    timestampColumn(n, ingestedAt),
  ]);
}
