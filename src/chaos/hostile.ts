/**
 * Hostile input, generated with fast-check: messages the contract rejects, each of which must end
 * on the dead-letter topic without stopping the consumer. Seeded, so a failing run can be replayed.
 *
 * Variants topic: invalid UTF-8, deep JSON nesting, huge strings, wrong field types, values that
 * are not objects, oversized messages. Embeddings topic: NaN and infinite vectors (float32 and
 * JSON), wrong dimensions, truncated and corrupted Arrow streams, unknown content types.
 */
import fc from 'fast-check';
import type { Message } from 'kafkajs';
import { EMBEDDING_CONTENT_TYPES } from '../contract/embedding-decoder.ts';
import { VARIANT_CONTENT_TYPE } from '../contract/variant-message.ts';
import { encodeArrow, encodeFloat32 } from '../producer/embedding-encoding.ts';
import type { Outgoing } from './ledger.ts';

export interface HostileOptions {
  /** Messages larger than this are "oversized" (the consumer's kafka.maxMessageBytes). */
  maxMessageBytes: number;
  /** The embeddings table's dimension. */
  dim: number;
  seed: number;
}

type Body = { what: string; value: Buffer | null; contentType?: string };

const json = (what: string, value: unknown): Body => ({
  what,
  value: Buffer.from(JSON.stringify(value)),
  contentType: VARIANT_CONTENT_TYPE,
});

const validVariant = { chrom: 'chr1', pos: 100, ref: 'A', alt: ['G'] };

/** A value of the wrong type (or range) for each required variant field. */
const wrongField = fc.oneof(
  fc
    .oneof(fc.integer(), fc.constant(''), fc.constant(null), fc.array(fc.string(), { maxLength: 3 }))
    .map((chrom) => json('wrong type: chrom', { ...validVariant, chrom })),
  fc
    .oneof(
      fc.string(),
      fc.double({ min: 1.5, max: 1e6, noNaN: true }).filter((d) => !Number.isInteger(d)),
      fc.integer({ min: -1_000_000, max: -1 }), // 0 is a telomere: valid
      fc.constant(2 ** 60),
      fc.boolean(),
    )
    .map((pos) => json('wrong type: pos', { ...validVariant, pos })),
  fc
    .oneof(fc.constant(''), fc.integer(), fc.constant(null))
    .map((ref) => json('wrong type: ref', { ...validVariant, ref })),
  fc
    .oneof(fc.integer(), fc.dictionary(fc.string(), fc.string()), fc.array(fc.integer(), { minLength: 1 }))
    .map((alt) => json('wrong type: alt', { ...validVariant, alt })),
  fc
    .constantFrom('chrom', 'pos', 'ref', 'alt')
    .map((field) => json(`missing: ${field}`, { ...validVariant, [field]: undefined })),
);

const variantHostile = (options: HostileOptions) =>
  fc.oneof(
    fc.uint8Array({ maxLength: 200 }).map((bytes) => ({
      what: 'invalid UTF-8',
      // 0xC3 0x28: a two-byte lead followed by a non-continuation byte, never valid UTF-8.
      value: Buffer.concat([Buffer.from('{"chrom":"'), Buffer.from(bytes), Buffer.from([0xc3, 0x28])]),
      contentType: VARIANT_CONTENT_TYPE,
    })),
    fc.integer({ min: 1_000, max: 50_000 }).map((depth) => ({
      what: 'deep nesting',
      value: Buffer.from(`${'['.repeat(depth)}${']'.repeat(depth)}`),
      contentType: VARIANT_CONTENT_TYPE,
    })),
    fc.integer({ min: 1_000, max: 20_000 }).map((depth) => ({
      what: 'deep nesting',
      value: Buffer.from(`{"chrom":${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}}`),
      contentType: VARIANT_CONTENT_TYPE,
    })),
    fc
      .integer({ min: 10_000, max: Math.max(10_001, Math.floor(options.maxMessageBytes / 2)) })
      .map((n) => json('huge string', { ...validVariant, ref: 'A'.repeat(n), pos: String(n) })),
    wrongField,
    fc
      .oneof(fc.integer(), fc.string(), fc.constant(null), fc.array(fc.integer()))
      .map((value) => json('not an object', value)),
    fc.string({ maxLength: 100 }).map((s) => ({
      what: 'not JSON',
      value: Buffer.from(`{${s}`),
      contentType: VARIANT_CONTENT_TYPE,
    })),
    fc.constant({ what: 'empty value', value: null, contentType: VARIANT_CONTENT_TYPE }),
    fc.integer({ min: options.maxMessageBytes + 1, max: options.maxMessageBytes * 2 }).map((n) => ({
      what: 'oversized',
      value: Buffer.alloc(n, 0x20),
      contentType: VARIANT_CONTENT_TYPE,
    })),
  );

const embeddingHostile = (options: HostileOptions) => {
  const { dim } = options;
  const vector = fc.float32Array({ minLength: dim, maxLength: dim, noNaN: true, noDefaultInfinity: true });
  return fc.oneof(
    fc
      .tuple(vector, fc.integer({ min: 0, max: dim - 1 }), fc.constantFrom(Number.NaN, Infinity, -Infinity))
      .map(([v, i, bad]) => {
        v[i] = bad;
        return { what: 'non-finite vector (float32)', ...encodeFloat32({ id: 'x', vector: v }) };
      })
      .map(({ what, value, headers }) => ({ what, value, contentType: headers['content-type'] })),
    vector.map((v) => ({
      what: 'NaN in JSON',
      value: Buffer.from(`{"id":"x","vector":[NaN${',0'.repeat(Math.max(0, v.length - 1))}]}`),
      contentType: EMBEDDING_CONTENT_TYPES.json,
    })),
    fc
      .integer({ min: 1, max: 4 * dim })
      .filter((n) => n !== dim)
      .map((n) => ({
        what: 'wrong dimension',
        value: Buffer.from(JSON.stringify({ id: 'x', vector: Array.from({ length: n }, () => 0.5) })),
        contentType: EMBEDDING_CONTENT_TYPES.json,
      })),
    fc.integer({ min: 1, max: 4 * dim + 3 }).map((bytes) => ({
      what: 'float32 of the wrong length',
      value: Buffer.alloc(bytes === dim * 4 ? bytes + 1 : bytes),
      contentType: EMBEDDING_CONTENT_TYPES.f32,
    })),
    fc
      .tuple(fc.integer({ min: 1, max: 20 }), fc.double({ min: 0, max: 0.97, noNaN: true }))
      .map(([rows, cut]) => {
        const { value } = encodeArrow(
          Array.from({ length: rows }, (_, i) => `x${i}`),
          new Float32Array(rows * dim).fill(0.25),
          dim,
        );
        return {
          what: 'truncated Arrow stream',
          value: value.subarray(0, Math.max(1, Math.floor(value.length * cut))),
          contentType: EMBEDDING_CONTENT_TYPES.arrow,
        };
      }),
    fc.uint8Array({ minLength: 1, maxLength: 300 }).map((bytes) => ({
      what: 'garbage as Arrow',
      value: Buffer.from(bytes),
      contentType: EMBEDDING_CONTENT_TYPES.arrow,
    })),
    fc.string({ minLength: 1, maxLength: 40 }).map((type) => ({
      what: 'unknown content type',
      value: Buffer.from('{}'),
      contentType: `application/x-${type.replace(/[^a-z]/gi, '') || 'unknown'}`,
    })),
  );
};

/** `count` hostile messages for `topic` (kind 'variants' or 'embeddings'), keyed `hostile-{run}-{i}`. */
export function hostileMessages(
  kind: 'variants' | 'embeddings',
  topic: string,
  run: string,
  count: number,
  options: HostileOptions,
): Outgoing[] {
  const arbitrary: fc.Arbitrary<Body> =
    kind === 'variants' ? variantHostile(options) : embeddingHostile(options);
  const samples = fc.sample(arbitrary, { numRuns: count, seed: options.seed });
  return samples.map((body, i) => {
    const key = `hostile-${kind}-${run}-${i}`;
    const headers: Record<string, string> = body.contentType ? { 'content-type': body.contentType } : {};
    return {
      entry: { key, topic, expect: { kind: 'hostile', what: body.what } },
      message: { key, value: body.value, headers } satisfies Message,
    };
  });
}

/** The arbitraries, for property tests of the decoders. */
export const hostileArbitraries = { variantHostile, embeddingHostile };
