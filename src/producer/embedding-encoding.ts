/**
 * Encoders for the three embedding encodings of the contract (the producer side; the decoder is
 * src/contract/embedding-decoder.ts). Producers in other languages do the same in a few lines.
 */
import { endianness } from 'node:os';
import {
  Field,
  FixedSizeList,
  Float32,
  makeData,
  RecordBatch,
  Schema,
  Struct,
  Table,
  tableToIPC,
  Utf8,
  vectorFromArray,
} from 'apache-arrow';
import { EMBEDDING_CONTENT_TYPES } from '../contract/embedding-decoder.ts';

export const EMBEDDING_ENCODINGS = ['json', 'f32', 'arrow'] as const;
export type EmbeddingEncoding = (typeof EMBEDDING_ENCODINGS)[number];

export interface EmbeddingRow {
  id: string;
  vector: Float32Array;
  model?: string | null;
  sourceKind?: string | null;
  sourceId?: string | null;
  text?: string | null;
  metadata?: Record<string, unknown> | null;
}

export interface EncodedMessage {
  key: string | null;
  value: Buffer;
  headers: Record<string, string>;
}

/** `application/json`: one embedding per message, the vector as a JSON array of numbers. */
export function encodeJson(row: EmbeddingRow): EncodedMessage {
  const body = {
    id: row.id,
    vector: Array.from(row.vector),
    model: row.model ?? undefined,
    source_kind: row.sourceKind ?? undefined,
    source_id: row.sourceId ?? undefined,
    text: row.text ?? undefined,
    metadata: row.metadata ?? undefined,
  };
  return {
    key: row.id,
    value: Buffer.from(JSON.stringify(body)),
    headers: { 'content-type': EMBEDDING_CONTENT_TYPES.json },
  };
}

/** `application/x-float32-le`: the raw vector; key = id; the other fields as headers. */
export function encodeFloat32(row: EmbeddingRow): EncodedMessage {
  const value = Buffer.alloc(row.vector.length * 4);
  if (endianness() === 'LE') {
    Buffer.from(row.vector.buffer, row.vector.byteOffset, row.vector.byteLength).copy(value);
  } else {
    for (let i = 0; i < row.vector.length; i++) value.writeFloatLE(row.vector[i] as number, i * 4);
  }
  const headers: Record<string, string> = { 'content-type': EMBEDDING_CONTENT_TYPES.f32 };
  if (row.model) headers.model = row.model;
  if (row.sourceKind) headers['source-kind'] = row.sourceKind;
  if (row.sourceId) headers['source-id'] = row.sourceId;
  return { key: row.id, value, headers };
}

/**
 * `application/vnd.apache.arrow.stream`: many embeddings in one Arrow IPC stream. `vectors` holds
 * the rows' vectors back to back (ids.length × dim). No key (the rows carry their ids).
 */
export function encodeArrow(
  ids: readonly string[],
  vectors: Float32Array,
  dim: number,
  columns: {
    model?: (string | null)[];
    sourceKind?: (string | null)[];
    sourceId?: (string | null)[];
    text?: (string | null)[];
  } = {},
): EncodedMessage {
  const n = ids.length;
  const fields = [
    new Field('id', new Utf8(), false),
    new Field('vector', new FixedSizeList(dim, new Field('item', new Float32(), false)), false),
  ];
  const children = [
    vectorFromArray(ids as string[], new Utf8()).data[0],
    makeData({
      type: fields[1]?.type as FixedSizeList<Float32>,
      length: n,
      nullCount: 0,
      child: makeData({ type: new Float32(), length: n * dim, data: vectors.subarray(0, n * dim) }),
    }),
  ];
  const optional: [string, (string | null)[] | undefined][] = [
    ['model', columns.model],
    ['source_kind', columns.sourceKind],
    ['source_id', columns.sourceId],
    ['text', columns.text],
  ];
  for (const [name, values] of optional) {
    if (!values) continue;
    fields.push(new Field(name, new Utf8(), true));
    children.push(vectorFromArray(values, new Utf8()).data[0]);
  }
  const schema = new Schema(fields);
  const struct = makeData({
    type: new Struct(schema.fields),
    length: n,
    nullCount: 0,
    children: children as never,
  });
  const ipc = tableToIPC(new Table([new RecordBatch(schema, struct)]), 'stream');
  return {
    key: null,
    value: Buffer.from(ipc.buffer, ipc.byteOffset, ipc.byteLength),
    headers: { 'content-type': EMBEDDING_CONTENT_TYPES.arrow },
  };
}
