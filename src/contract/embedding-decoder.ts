/**
 * Decodes one embedding message (contract section 3) in any of its three encodings, chosen by the
 * `content-type` header, into columns: the vectors of all its rows in one Float32Array (a view on
 * the message bytes where alignment allows), never a JS array of numbers per row. One message is
 * dead-lettered as a whole: an Arrow stream with one bad row is rejected with that row's index.
 *
 * Long file: the three encodings (JSON, float32, Arrow IPC) with their validation share the
 * contract's codes; each decoder is a section.
 */
import { isUtf8 } from 'node:buffer';
import { endianness } from 'node:os';
import { type Data, DataType, type Float32, RecordBatchReader, type Schema, type Utf8 } from 'apache-arrow';
import { DeadLetterCode, DecodeError } from './errors.ts';
import {
  invalid,
  mediaType,
  missing,
  optionalString,
  parseBody,
  preview,
  requireString,
} from './json-fields.ts';
import type { RawMessage } from './raw-message.ts';

export const EMBEDDING_CONTENT_TYPES = {
  json: 'application/json',
  f32: 'application/x-float32-le',
  arrow: 'application/vnd.apache.arrow.stream',
} as const;

/** The rows of one embedding message, column by column. */
export interface DecodedEmbeddings {
  readonly count: number;
  readonly dim: number;
  readonly ids: readonly string[];
  /** count × dim float32 values, row after row. */
  readonly vectors: Float32Array;
  readonly model: readonly (string | null)[];
  readonly sourceKind: readonly (string | null)[];
  readonly sourceId: readonly (string | null)[];
  readonly text: readonly (string | null)[];
  /** JSON text. */
  readonly metadata: readonly (string | null)[];
}

const LITTLE_ENDIAN = endianness() === 'LE';

export function decodeEmbeddingMessage(message: RawMessage, dim: number): DecodedEmbeddings {
  const contentType = message.header('content-type');
  const type = contentType === undefined ? EMBEDDING_CONTENT_TYPES.json : mediaType(contentType);
  switch (type) {
    case EMBEDDING_CONTENT_TYPES.json:
      return decodeJson(message, dim);
    case EMBEDDING_CONTENT_TYPES.f32:
      return decodeFloat32(message, dim);
    case EMBEDDING_CONTENT_TYPES.arrow:
      return decodeArrow(message.value, dim);
    default:
      throw new DecodeError(
        DeadLetterCode.UNSUPPORTED_CONTENT_TYPE,
        `content-type ${contentType} is not one of ${Object.values(EMBEDDING_CONTENT_TYPES).join(', ')}`,
      );
  }
}

function decodeJson(message: RawMessage, dim: number): DecodedEmbeddings {
  const body = parseBody(message.value);
  if (body.id === '') throw new DecodeError(DeadLetterCode.MISSING_FIELD, 'required field "id" is empty');
  const id = body.id === undefined || body.id === null ? keyText(message.key) : requireString(body, 'id');
  const vector = body.vector;
  if (vector === undefined || vector === null) throw missing('vector');
  if (!Array.isArray(vector)) throw invalid('vector', `must be an array of numbers, got ${preview(vector)}`);
  if (vector.length !== dim) throw dimensionMismatch(vector.length, dim);
  const vectors = new Float32Array(dim);
  for (let i = 0; i < dim; i++) {
    const v = vector[i];
    if (v === null) throw new DecodeError(DeadLetterCode.NON_FINITE_VECTOR, `vector[${i}] is null`);
    if (typeof v !== 'number') throw invalid(`vector[${i}]`, `must be a number, got ${preview(v)}`);
    vectors[i] = v;
  }
  requireFinite(vectors, dim, 0);
  const metadata = body.metadata;
  if (
    metadata !== undefined &&
    metadata !== null &&
    (typeof metadata !== 'object' || Array.isArray(metadata))
  )
    throw invalid('metadata', `must be an object, got ${preview(metadata)}`);
  return {
    count: 1,
    dim,
    ids: [id],
    vectors,
    model: [optionalString(body, 'model')],
    sourceKind: [optionalString(body, 'source_kind')],
    sourceId: [optionalString(body, 'source_id')],
    text: [optionalString(body, 'text')],
    metadata: [metadata === undefined || metadata === null ? null : JSON.stringify(metadata)],
  };
}

function decodeFloat32(message: RawMessage, dim: number): DecodedEmbeddings {
  const value = message.value;
  if (value === null || value.length === 0)
    throw new DecodeError(DeadLetterCode.EMPTY_VALUE, 'message value is empty');
  if (value.length !== dim * 4) {
    throw new DecodeError(
      DeadLetterCode.DIMENSION_MISMATCH,
      value.length % 4 === 0
        ? `vector has ${value.length / 4} dimensions, the table has ${dim}`
        : `value of ${value.length} bytes is not a whole number of float32 values (expected ${dim * 4} bytes)`,
    );
  }
  const vectors = float32View(value);
  requireFinite(vectors, dim, 0);
  return {
    count: 1,
    dim,
    ids: [keyText(message.key)],
    vectors,
    model: [message.header('model') ?? null],
    sourceKind: [message.header('source-kind') ?? null],
    sourceId: [message.header('source-id') ?? null],
    text: [null],
    metadata: [null],
  };
}

/** A view on the bytes when they are aligned (and the host is little-endian), else one copy. */
function float32View(bytes: Uint8Array): Float32Array {
  const n = bytes.byteLength / 4;
  if (LITTLE_ENDIAN && bytes.byteOffset % 4 === 0) return new Float32Array(bytes.buffer, bytes.byteOffset, n);
  const out = new Float32Array(n);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < n; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}

function keyText(key: Buffer | null): string {
  if (key === null || key.length === 0)
    throw new DecodeError(
      DeadLetterCode.MISSING_FIELD,
      'required field "id" is missing (no id in the body and no key)',
    );
  if (!isUtf8(key)) throw new DecodeError(DeadLetterCode.INVALID_UTF8, 'message key is not valid UTF-8');
  return key.toString('utf8');
}

const OPTIONAL_COLUMNS = ['model', 'source_kind', 'source_id', 'text', 'metadata'] as const;

function decodeArrow(value: Buffer | null, dim: number): DecodedEmbeddings {
  if (value === null || value.length === 0)
    throw new DecodeError(DeadLetterCode.EMPTY_VALUE, 'message value is empty');
  const chunks: DecodedEmbeddings[] = [];
  try {
    const reader = RecordBatchReader.from(value);
    reader.open();
    if (reader.closed || !reader.schema) throw new Error('no schema message');
    const columns = checkSchema(reader.schema, dim);
    let rows = 0;
    for (const batch of reader) {
      chunks.push(readArrowBatch(batch.data, columns, dim, rows));
      rows += batch.numRows;
    }
  } catch (error) {
    if (error instanceof DecodeError) throw error;
    throw new DecodeError(
      DeadLetterCode.INVALID_ARROW,
      `value is not a readable Arrow IPC stream: ${(error as Error)?.message ?? String(error)}`,
    );
  }
  return concatChunks(chunks, dim);
}

interface ArrowColumns {
  id: number;
  vector: number;
  optional: Partial<Record<(typeof OPTIONAL_COLUMNS)[number], number>>;
}

function checkSchema(schema: Schema, dim: number): ArrowColumns {
  const index = (name: string) => schema.fields.findIndex((f) => f.name === name);
  const id = index('id');
  const vector = index('vector');
  if (id < 0) throw new DecodeError(DeadLetterCode.INVALID_ARROW, 'Arrow schema has no "id" column');
  if (vector < 0) throw new DecodeError(DeadLetterCode.INVALID_ARROW, 'Arrow schema has no "vector" column');
  if (!DataType.isUtf8(schema.fields[id]?.type))
    throw new DecodeError(
      DeadLetterCode.INVALID_ARROW,
      `Arrow column "id" is ${schema.fields[id]?.type}, expected Utf8`,
    );
  const vectorType = schema.fields[vector]?.type;
  if (
    !DataType.isFixedSizeList(vectorType) ||
    !DataType.isFloat(vectorType.children[0]?.type) ||
    vectorType.children[0]?.type.precision !== 1
  ) {
    throw new DecodeError(
      DeadLetterCode.INVALID_ARROW,
      `Arrow column "vector" is ${vectorType}, expected FixedSizeList<Float32>[${dim}]`,
    );
  }
  if (vectorType.listSize !== dim) throw dimensionMismatch(vectorType.listSize, dim);
  const optional: ArrowColumns['optional'] = {};
  for (const name of OPTIONAL_COLUMNS) {
    const i = index(name);
    if (i < 0) continue;
    if (!DataType.isUtf8(schema.fields[i]?.type))
      throw new DecodeError(
        DeadLetterCode.INVALID_ARROW,
        `Arrow column "${name}" is ${schema.fields[i]?.type}, expected Utf8`,
      );
    optional[name] = i;
  }
  return { id, vector, optional };
}

function readArrowBatch(data: Data, columns: ArrowColumns, dim: number, base: number): DecodedEmbeddings {
  const n = data.length;
  const idData = data.children[columns.id] as Data<Utf8>;
  const ids = readUtf8(idData, 'id', base);
  if (ids.length !== n)
    throw new DecodeError(
      DeadLetterCode.INVALID_ARROW,
      `${n} rows declared, the id column holds ${ids.length}`,
    );
  ids.forEach((id, row) => {
    if (id === null || id === '')
      throw new DecodeError(
        DeadLetterCode.MISSING_FIELD,
        `row ${base + row}: required field "id" is missing or empty`,
      );
  });
  const vectorData = data.children[columns.vector] as Data;
  for (let row = 0; row < n; row++) {
    if (!vectorData.getValid(row))
      throw new DecodeError(
        DeadLetterCode.MISSING_FIELD,
        `row ${base + row}: required field "vector" is null`,
      );
  }
  const child = vectorData.children[0] as Data<Float32>;
  if (child.nullCount > 0)
    throw new DecodeError(DeadLetterCode.NON_FINITE_VECTOR, 'a vector holds null values');
  const start = child.offset + vectorData.offset * dim;
  const vectors = child.values.subarray(start, start + n * dim);
  // A stream may declare more rows than its buffers hold: Arrow would read zeros past the end.
  if (vectors.length !== n * dim)
    throw new DecodeError(
      DeadLetterCode.INVALID_ARROW,
      `${n} rows of ${dim} floats declared, the vector buffer holds ${vectors.length} floats`,
    );
  requireFinite(vectors, dim, base);
  const optional = (name: (typeof OPTIONAL_COLUMNS)[number]) => {
    const i = columns.optional[name];
    return i === undefined
      ? new Array<null>(n).fill(null)
      : readUtf8(data.children[i] as Data<Utf8>, name, base);
  };
  return {
    count: n,
    dim,
    ids: ids as string[],
    vectors,
    model: optional('model'),
    sourceKind: optional('source_kind'),
    sourceId: optional('source_id'),
    text: optional('text'),
    metadata: optional('metadata'),
  };
}

/** The strings of a Utf8 column, read from its offsets and bytes (no Arrow row objects). */
function readUtf8(data: Data<Utf8>, name: string, base: number): (string | null)[] {
  const offsets = data.valueOffsets;
  const bytes = Buffer.from(data.values.buffer, data.values.byteOffset, data.values.byteLength);
  if (!isUtf8(bytes))
    throw new DecodeError(DeadLetterCode.INVALID_UTF8, `Arrow column "${name}" is not valid UTF-8`);
  const out = new Array<string | null>(data.length);
  for (let row = 0; row < data.length; row++) {
    if (!data.getValid(row)) {
      out[row] = null;
      continue;
    }
    const start = offsets[data.offset + row];
    const end = offsets[data.offset + row + 1];
    if (start === undefined || end === undefined || start > end || end > bytes.length)
      throw new DecodeError(
        DeadLetterCode.INVALID_ARROW,
        `row ${base + row}: column "${name}" has bad offsets`,
      );
    out[row] = bytes.toString('utf8', start, end);
  }
  return out;
}

function concatChunks(chunks: DecodedEmbeddings[], dim: number): DecodedEmbeddings {
  const count = chunks.reduce((n, c) => n + c.count, 0);
  if (count === 0) throw new DecodeError(DeadLetterCode.EMPTY_VALUE, 'Arrow stream holds no rows');
  if (chunks.length === 1) return chunks[0] as DecodedEmbeddings;
  const vectors = new Float32Array(count * dim);
  let at = 0;
  for (const c of chunks) {
    vectors.set(c.vectors, at);
    at += c.vectors.length;
  }
  const cat = (pick: (c: DecodedEmbeddings) => readonly (string | null)[]) => chunks.flatMap((c) => pick(c));
  return {
    count,
    dim,
    ids: cat((c) => c.ids) as string[],
    vectors,
    model: cat((c) => c.model),
    sourceKind: cat((c) => c.sourceKind),
    sourceId: cat((c) => c.sourceId),
    text: cat((c) => c.text),
    metadata: cat((c) => c.metadata),
  };
}

function requireFinite(vectors: Float32Array, dim: number, base: number): void {
  for (let i = 0; i < vectors.length; i++) {
    const v = vectors[i] as number;
    // NaN - NaN and ±Inf - ±Inf are NaN; every finite v gives 0.
    if (v - v !== 0) {
      const row = Math.floor(i / dim);
      throw new DecodeError(
        DeadLetterCode.NON_FINITE_VECTOR,
        `${base + row > 0 || vectors.length > dim ? `row ${base + row}: ` : ''}vector[${i % dim}] is ${v}`,
      );
    }
  }
}

function dimensionMismatch(length: number, dim: number): DecodeError {
  return new DecodeError(
    DeadLetterCode.DIMENSION_MISMATCH,
    `vector has ${length} dimensions, the table has ${dim}`,
  );
}
