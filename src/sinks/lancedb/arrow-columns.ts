/** Column builders shared by the LanceDB encoders: one typed array per column, no row objects. */
import {
  type Data,
  Int32,
  Int64,
  makeData,
  RecordBatch,
  type Schema,
  Struct,
  Table,
  TimestampMillisecond,
  Utf8,
  vectorFromArray,
} from 'apache-arrow';

export function utf8Column(values: readonly (string | null)[]): Data {
  return vectorFromArray(values as (string | null)[], new Utf8()).data[0] as Data;
}

export function int32Column(values: readonly number[]): Data {
  return makeData({ type: new Int32(), length: values.length, data: Int32Array.from(values) });
}

export function int64Column(values: readonly number[]): Data {
  const data = new BigInt64Array(values.length);
  for (let i = 0; i < values.length; i++) data[i] = BigInt(values[i] as number);
  return makeData({ type: new Int64(), length: values.length, data });
}

/** `n` copies of one UTC millisecond timestamp. */
export function timestampColumn(n: number, millis: number): Data {
  return makeData({
    type: new TimestampMillisecond('UTC'),
    length: n,
    data: new BigInt64Array(n).fill(BigInt(millis)),
  });
}

/** One record batch of `n` rows from its columns, in schema order, as a Table. */
export function tableOf(schema: Schema, n: number, children: Data[]): Table {
  const struct = makeData({
    type: new Struct(schema.fields),
    length: n,
    nullCount: 0,
    children: children as never,
  });
  return new Table([new RecordBatch(schema, struct)]);
}
