/**
 * Column builders shared by the LanceDB encoders: each column is written straight into its Arrow
 * buffers (one allocation per buffer, no row objects, no per-value builder calls). Strings are
 * UTF-8-encoded by `Buffer.write` into one data buffer per column: apache-arrow's builders encode
 * each value with a TextEncoder and copy it again, which was a tenth of the consumer's CPU on sites.
 */
import {
  type Data,
  Field,
  Float64,
  Int32,
  Int64,
  List,
  makeData,
  RecordBatch,
  type Schema,
  Struct,
  Table,
  TimestampMillisecond,
  Utf8,
} from 'apache-arrow';

/** The validity bitmap of `n` values (bit set = valid) and its null count; none when all are valid. */
function validity(n: number, isNull: (i: number) => boolean): { nullBitmap?: Uint8Array; nullCount: number } {
  let nullCount = 0;
  let bitmap: Uint8Array | undefined;
  for (let i = 0; i < n; i++) {
    if (!isNull(i)) continue;
    if (!bitmap) bitmap = new Uint8Array((n + 7) >> 3).fill(0xff);
    bitmap[i >> 3] = (bitmap[i >> 3] as number) & ~(1 << (i & 7));
    nullCount++;
  }
  return bitmap ? { nullBitmap: bitmap, nullCount } : { nullCount: 0 };
}

/** UTF-8 bytes and offsets of `values` (null and absent values take no bytes). */
function utf8Buffers(values: readonly (string | null)[]): { offsets: Int32Array; data: Uint8Array } {
  const n = values.length;
  const offsets = new Int32Array(n + 1);
  let units = 0;
  let longest = 0;
  for (let i = 0; i < n; i++) {
    const length = values[i]?.length ?? 0;
    units += length;
    if (length > longest) longest = length;
  }
  // A UTF-16 unit is at most 3 UTF-8 bytes: one string always fits once `longest * 3` is free.
  let data = Buffer.allocUnsafeSlow(units + longest * 3);
  let at = 0;
  for (let i = 0; i < n; i++) {
    const value = values[i];
    if (value) {
      if (at + value.length * 3 > data.length) {
        const grown = Buffer.allocUnsafeSlow(Math.max(data.length * 2, at + value.length * 3));
        data.copy(grown, 0, 0, at);
        data = grown;
      }
      at += data.write(value, at, 'utf8');
    }
    offsets[i + 1] = at;
  }
  if (at > 0x7fffffff) throw new RangeError(`a string column of ${at} bytes exceeds Arrow Utf8's 2 GiB`);
  return { offsets, data: data.subarray(0, at) };
}

export function utf8Column(values: readonly (string | null)[]): Data<Utf8> {
  const { offsets, data } = utf8Buffers(values);
  const { nullBitmap, nullCount } = validity(
    values.length,
    (i) => values[i] === null || values[i] === undefined,
  );
  return makeData({
    type: new Utf8(),
    length: values.length,
    nullCount,
    nullBitmap,
    valueOffsets: offsets,
    data,
  });
}

/** The list<utf8> type of the tables' list columns (nullable items), for their schema and their data. */
export const utf8ListType = (): List<Utf8> => new List<Utf8>(new Field('item', new Utf8(), true));

/** A list<utf8> column; every row holds a list (possibly empty), none is null. */
export function utf8ListColumn(lists: readonly (readonly string[])[]): Data {
  const offsets = new Int32Array(lists.length + 1);
  const flat: string[] = [];
  for (let i = 0; i < lists.length; i++) {
    for (const value of lists[i] as readonly string[]) flat.push(value);
    offsets[i + 1] = flat.length;
  }
  const type = utf8ListType();
  return makeData({
    type,
    length: lists.length,
    nullCount: 0,
    valueOffsets: offsets,
    child: utf8Column(flat),
  });
}

export function float64Column(values: readonly (number | null)[]): Data {
  const data = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) data[i] = values[i] ?? 0;
  const { nullBitmap, nullCount } = validity(
    values.length,
    (i) => values[i] === null || values[i] === undefined,
  );
  return makeData({ type: new Float64(), length: values.length, nullCount, nullBitmap, data });
}

export function int32Column(values: readonly number[]): Data {
  return makeData({ type: new Int32(), length: values.length, data: Int32Array.from(values) });
}

/** Safe integers as Int64, written as little-endian 32-bit halves (no BigInt per value); anything else throws. */
export function int64Column(values: readonly number[]): Data {
  const halves = new Int32Array(values.length * 2);
  for (let i = 0; i < values.length; i++) {
    const value = values[i] as number;
    if (!Number.isSafeInteger(value))
      throw new RangeError(`${value} is not an integer Int64 can hold exactly`);
    halves[2 * i] = value >>> 0;
    halves[2 * i + 1] = Math.floor(value / 4294967296);
  }
  return makeData({ type: new Int64(), length: values.length, data: new BigInt64Array(halves.buffer) });
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
