/**
 * The LanceDB `variants` table schema and the encoder that turns a batch's columns into one Arrow
 * record batch (column by column; no row objects).
 */
import {
  Field,
  Float64,
  Int32,
  Int64,
  List,
  makeData,
  RecordBatch,
  Schema,
  Struct,
  Table,
  TimestampMillisecond,
  Utf8,
  vectorFromArray,
} from 'apache-arrow';
import type { VariantColumns } from '../../batching/variant-batch.ts';

const utf8List = () => new List(new Field('item', new Utf8(), true));

export const VARIANTS_SCHEMA = new Schema([
  new Field('variant_id', new Utf8(), false),
  new Field('chrom', new Utf8(), false),
  new Field('pos', new Int64(), false),
  new Field('ref', new Utf8(), false),
  new Field('alt', new Utf8(), false),
  new Field('rsid', new Utf8(), true),
  new Field('qual', new Float64(), true),
  new Field('filter', utf8List(), true),
  new Field('genes', utf8List(), true),
  new Field('info', new Utf8(), true),
  new Field('sample_count', new Int32(), false),
  new Field('source', new Utf8(), true),
  new Field('kafka_topic', new Utf8(), false),
  new Field('kafka_partition', new Int32(), false),
  new Field('kafka_offset', new Int64(), false),
  new Field('ingested_at', new TimestampMillisecond('UTC'), false),
]);

export function variantsToArrow(columns: VariantColumns, ingestedAt: number): Table {
  const n = columns.length;
  const vectors = [
    vectorFromArray(columns.variantId, new Utf8()),
    vectorFromArray(columns.chrom, new Utf8()),
    int64(columns.pos),
    vectorFromArray(columns.ref, new Utf8()),
    vectorFromArray(columns.alt, new Utf8()),
    vectorFromArray(columns.rsid, new Utf8()),
    vectorFromArray(columns.qual, new Float64()),
    vectorFromArray(columns.filter, utf8List()),
    vectorFromArray(columns.genes, utf8List()),
    vectorFromArray(columns.info, new Utf8()),
    makeData({ type: new Int32(), length: n, data: Int32Array.from(columns.sampleCount) }),
    vectorFromArray(columns.source, new Utf8()),
    vectorFromArray(columns.topic, new Utf8()),
    makeData({ type: new Int32(), length: n, data: Int32Array.from(columns.partition) }),
    int64(columns.offset),
    makeData({
      type: new TimestampMillisecond('UTC'),
      length: n,
      data: new BigInt64Array(n).fill(BigInt(ingestedAt)),
    }),
  ].map((v) => ('data' in v ? v.data[0] : v));
  const struct = makeData({
    type: new Struct(VARIANTS_SCHEMA.fields),
    length: n,
    nullCount: 0,
    children: vectors as never,
  });
  return new Table([new RecordBatch(VARIANTS_SCHEMA, struct)]);
}

function int64(values: readonly number[]) {
  const data = new BigInt64Array(values.length);
  for (let i = 0; i < values.length; i++) data[i] = BigInt(values[i] as number);
  return makeData({ type: new Int64(), length: values.length, data });
}
