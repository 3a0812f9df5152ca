import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Vector } from 'apache-arrow';
import { EmbeddingBatch } from '../../../src/batching/embedding-batch.ts';
import { shortArrow } from '../../../src/chaos/hostile.ts';
import { decodeEmbeddingMessage } from '../../../src/contract/embedding-decoder.ts';
import { DeadLetterCode, DecodeError } from '../../../src/contract/errors.ts';
import { rawMessage } from '../../../src/contract/raw-message.ts';
import { encodeArrow, encodeFloat32, encodeJson } from '../../../src/producer/embedding-encoding.ts';
import { EmbeddingGenerator } from '../../../src/producer/synthetic-embeddings.ts';

const DIM = 16;
const generator = new EmbeddingGenerator({ dim: DIM, seed: 7 });
const vector = () => generator.next(new Float32Array(DIM));
const bits = (v: Float32Array) => Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex');

function decode(m: { key: string | null; value: Buffer; headers: Record<string, string> }, dim = DIM) {
  return decodeEmbeddingMessage(rawMessage(m.value, { key: m.key, headers: m.headers }), dim);
}

function rejects(run: () => unknown, code: string, detail?: RegExp): void {
  assert.throws(run, (e: unknown) => {
    assert.ok(e instanceof DecodeError, `expected DecodeError, got ${e}`);
    assert.equal(e.code, code, e.message);
    if (detail) assert.match(e.message, detail);
    return true;
  });
}

test('JSON: every field lands and the float32 bits survive the text round trip', () => {
  const v = vector();
  const d = decode(
    encodeJson({
      id: 'e1',
      vector: v,
      model: 'm',
      sourceKind: 'variant',
      sourceId: 'chr1-1-A-G',
      text: 't',
      metadata: { a: 1 },
    }),
  );
  assert.equal(d.count, 1);
  assert.deepEqual(d.ids, ['e1']);
  assert.equal(bits(d.vectors), bits(v));
  assert.deepEqual(
    [d.model[0], d.sourceKind[0], d.sourceId[0], d.text[0], d.metadata[0]],
    ['m', 'variant', 'chr1-1-A-G', 't', '{"a":1}'],
  );
});

test('JSON: the key carries the id when the body has none; no id at all is MISSING_FIELD', () => {
  const body = Buffer.from(JSON.stringify({ vector: Array.from(vector()) }));
  assert.deepEqual(decodeEmbeddingMessage(rawMessage(body, { key: 'from-key' }), DIM).ids, ['from-key']);
  rejects(() => decodeEmbeddingMessage(rawMessage(body), DIM), DeadLetterCode.MISSING_FIELD, /id/);
  rejects(
    () => decodeEmbeddingMessage(rawMessage(Buffer.from(JSON.stringify({ id: '', vector: [] }))), DIM),
    DeadLetterCode.MISSING_FIELD,
    /id/,
  );
});

test('JSON: wrong length, non-numbers, values beyond float32 and bad metadata are rejected with their codes', () => {
  const msg = (body: unknown) => rawMessage(Buffer.from(JSON.stringify(body)));
  const ok = Array.from(vector());
  rejects(
    () => decodeEmbeddingMessage(msg({ id: 'a', vector: ok.slice(1) }), DIM),
    DeadLetterCode.DIMENSION_MISMATCH,
    /15 dimensions, the table has 16/,
  );
  rejects(
    () => decodeEmbeddingMessage(msg({ id: 'a', vector: [...ok.slice(1), 'x'] }), DIM),
    DeadLetterCode.INVALID_FIELD,
    /vector\[15\]/,
  );
  rejects(
    () => decodeEmbeddingMessage(msg({ id: 'a', vector: [...ok.slice(1), 1e39] }), DIM),
    DeadLetterCode.NON_FINITE_VECTOR,
  );
  rejects(
    () => decodeEmbeddingMessage(msg({ id: 'a', vector: [...ok.slice(1), null] }), DIM),
    DeadLetterCode.NON_FINITE_VECTOR,
    /vector\[15\] is null/,
  );
  rejects(() => decodeEmbeddingMessage(msg({ id: 'a' }), DIM), DeadLetterCode.MISSING_FIELD, /vector/);
  rejects(
    () => decodeEmbeddingMessage(msg({ id: 'a', vector: ok, metadata: 'x' }), DIM),
    DeadLetterCode.INVALID_FIELD,
    /metadata/,
  );
  rejects(
    () => decodeEmbeddingMessage(rawMessage(Buffer.from('{"id":"a","vector":[NaN]}')), DIM),
    DeadLetterCode.INVALID_JSON,
  );
});

test('float32-le: bits survive, headers carry the optional fields, an aligned value is viewed, not copied', () => {
  const v = vector();
  const m = encodeFloat32({ id: 'f1', vector: v, model: 'm', sourceKind: 'text', sourceId: 's' });
  const d = decode(m);
  assert.equal(bits(d.vectors), bits(v));
  assert.deepEqual([d.ids[0], d.model[0], d.sourceKind[0], d.sourceId[0]], ['f1', 'm', 'text', 's']);
  assert.equal(d.vectors.buffer, m.value.buffer, 'decoded vector is a view on the message bytes');
  const unaligned = Buffer.alloc(DIM * 4 + 1).subarray(1);
  m.value.copy(unaligned);
  assert.equal(bits(decode({ ...m, value: unaligned }).vectors), bits(v));
});

test('float32-le: wrong size, NaN / Inf and a missing key are rejected', () => {
  const m = encodeFloat32({ id: 'f1', vector: vector() });
  rejects(
    () => decode({ ...m, value: m.value.subarray(4) }),
    DeadLetterCode.DIMENSION_MISMATCH,
    /15 dimensions/,
  );
  rejects(
    () => decode({ ...m, value: m.value.subarray(2) }),
    DeadLetterCode.DIMENSION_MISMATCH,
    /whole number/,
  );
  for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
    const value = Buffer.from(m.value);
    value.writeFloatLE(bad, 12);
    rejects(() => decode({ ...m, value }), DeadLetterCode.NON_FINITE_VECTOR, /vector\[3\]/);
  }
  rejects(() => decode({ ...m, key: null }), DeadLetterCode.MISSING_FIELD, /id/);
  rejects(() => decode({ ...m, value: Buffer.alloc(0) }), DeadLetterCode.EMPTY_VALUE);
});

test('Arrow: 10,000 rows decode into one Float32Array without touching Arrow row accessors', () => {
  const n = 10_000;
  const vectors = new Float32Array(n * DIM);
  for (let r = 0; r < n; r++) generator.next(vectors.subarray(r * DIM, (r + 1) * DIM));
  const ids = Array.from({ length: n }, (_, i) => `a${i}`);
  const m = encodeArrow(ids, vectors, DIM, {
    model: ids.map(() => 'm'),
    sourceId: ids.map((id) => `s-${id}`),
  });
  // Any per-row access through Arrow's Vector API would throw here.
  const proto = Vector.prototype as unknown as Record<string | symbol, unknown>;
  const saved = ['get', 'at', 'toArray', 'toJSON', Symbol.iterator].map((k) => [k, proto[k]] as const);
  for (const [k] of saved)
    proto[k] = () => {
      throw new Error(`per-row Arrow access: ${String(k)}`);
    };
  let d: ReturnType<typeof decode>;
  try {
    d = decode(m);
  } finally {
    for (const [k, f] of saved) proto[k] = f;
  }
  assert.equal(d.count, n);
  assert.equal(d.ids[9_999], 'a9999');
  assert.equal(d.sourceId[42], 's-a42');
  assert.equal(d.text[0], null);
  assert.equal(bits(d.vectors), bits(vectors));
});

test('Arrow: bad streams and bad rows are rejected with their codes and row', () => {
  const ids = ['a', 'b', 'c'];
  const vectors = new Float32Array(3 * DIM).fill(0.25);
  const m = encodeArrow(ids, vectors, DIM);
  rejects(() => decode(m, DIM + 1), DeadLetterCode.DIMENSION_MISMATCH, /16 dimensions, the table has 17/);
  rejects(
    () => decode({ ...m, value: m.value.subarray(0, m.value.length - 40) }),
    DeadLetterCode.INVALID_ARROW,
  );
  rejects(() => decode({ ...m, value: Buffer.from('not arrow at all') }), DeadLetterCode.INVALID_ARROW);
  const nan = Float32Array.from(vectors);
  nan[2 * DIM + 5] = Number.NaN;
  rejects(() => decode(encodeArrow(ids, nan, DIM)), DeadLetterCode.NON_FINITE_VECTOR, /row 2: vector\[5\]/);
  rejects(() => decode(encodeArrow(['a', '', 'c'], vectors, DIM)), DeadLetterCode.MISSING_FIELD, /row 1/);
});

test('Arrow: a stream declaring more rows than its vector buffer holds is INVALID_ARROW, not zeros', () => {
  // Three rows declared, floats for one: Arrow itself would read the missing ones as zeros.
  const value = shortArrow(3, DIM);
  rejects(
    () => decode({ key: null, value, headers: { 'content-type': 'application/vnd.apache.arrow.stream' } }),
    DeadLetterCode.INVALID_ARROW,
    /3 rows of 16 floats declared, the vector buffer holds 16 floats/,
  );
});

test('an unknown content-type is UNSUPPORTED_CONTENT_TYPE', () => {
  const m = encodeFloat32({ id: 'x', vector: vector() });
  rejects(
    () => decode({ ...m, headers: { 'content-type': 'application/x-protobuf' } }),
    DeadLetterCode.UNSUPPORTED_CONTENT_TYPE,
  );
});

test('EmbeddingBatch keeps the last vector per id and grows without losing rows', () => {
  const batch = new EmbeddingBatch();
  const lineage = (offset: number) => ({ topic: 't', partition: 0, offset });
  const first = vector();
  const last = vector();
  batch.add(decode(encodeFloat32({ id: 'dup', vector: first })), lineage(0));
  for (let i = 0; i < 200; i++)
    batch.add(decode(encodeFloat32({ id: `r${i}`, vector: vector() })), lineage(i + 1));
  batch.add(decode(encodeFloat32({ id: 'dup', vector: last, model: 'v2' })), lineage(500));
  assert.equal(batch.length, 201);
  assert.equal(bits(batch.vectors.subarray(0, DIM)), bits(last));
  assert.equal(batch.model[0], 'v2');
  assert.equal(batch.offset[0], 500);
  assert.equal(batch.vectors.length, 201 * DIM);
});
