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
  RecordBatch,
  Schema,
  Struct,
  Table,
  TimestampMillisecond,
  Utf8,
  vectorFromArray,
} from 'apache-arrow';
import type { EmbeddingBatch } from '../../batching/embedding-batch.ts';

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
  const dim = batch.dim;
  const utf8 = (values: readonly (string | null)[]) => vectorFromArray(values, new Utf8()).data[0];
  const vectorType = schema.fields[1]?.type as FixedSizeList<Float32>;
  const offsets = new BigInt64Array(n);
  for (let i = 0; i < n; i++) offsets[i] = BigInt(batch.offset[i] as number);
  const children = [
    utf8(batch.ids),
    makeData({
      type: vectorType,
      length: n,
      nullCount: 0,
      child: makeData({ type: new Float32(), length: n * dim, data: batch.vectors }),
    }),
    utf8(batch.model),
    utf8(batch.sourceKind),
    utf8(batch.sourceId),
    utf8(batch.text),
    utf8(batch.metadata),
    utf8(batch.topic),
    makeData({ type: new Int32(), length: n, data: Int32Array.from(batch.partition) }),
    makeData({ type: new Int64(), length: n, data: offsets }),
    makeData({
      type: new TimestampMillisecond('UTC'),
      length: n,
      data: new BigInt64Array(n).fill(BigInt(ingestedAt)),
    }),
  ];
  const struct = makeData({
    type: new Struct(schema.fields),
    length: n,
    nullCount: 0,
    children: children as never,
  });
  return new Table([new RecordBatch(schema, struct)]);
}
