/**
 * Hostile input, generated with fast-check: messages the contract rejects, each of which must end
 * on the dead-letter topic without stopping the consumer. Seeded, so a failing run can be replayed.
 *
 * Variants topic: invalid UTF-8, deep JSON nesting, huge strings, wrong field types, values that
 * are not objects, oversized messages, messages just under the topic's 10 MiB limit; and the
 * messages that stopped the pipeline before the per-message limits (issue 22): high ploidy, many
 * ALTs, ALTs x samples, more calls than the limit, deep and huge INFO, ids that would collide,
 * names beyond their length limit. Embeddings topic: NaN and infinite vectors (float32 and JSON),
 * wrong dimensions, truncated, corrupted and short-buffered Arrow streams, unknown content types.
 * Each generator says which dead-letter code its messages must get.
 */
import {
  Field,
  FixedSizeList,
  Float32,
  makeData,
  makeVector,
  Table,
  tableToIPC,
  Utf8,
  vectorFromArray,
} from 'apache-arrow';
import fc from 'fast-check';
import type { Message } from 'kafkajs';
import { EMBEDDING_CONTENT_TYPES } from '../contract/embedding-decoder.ts';
import { DeadLetterCode as C, type DeadLetterCode } from '../contract/errors.ts';
import { DEFAULT_VARIANT_LIMITS } from '../contract/limits.ts';
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

/**
 * The consumer's VARSTREAM_MAX_CALLS in the hostile-input scenario: lower than the default so
 * that a message over it stays under the scenario's 256 KiB message limit.
 */
export const HOSTILE_MAX_CALLS = 20_000;

/** The input topics' `max.message.bytes` as varstream creates them (topics.ts). */
const TOPIC_MAX_BYTES = 10 * 1024 * 1024;

/** A hostile message and the dead-letter codes it may get (the first that applies). */
type Body = { what: string; value: Buffer | null; contentType?: string; codes: readonly DeadLetterCode[] };

const json = (what: string, value: unknown, ...codes: DeadLetterCode[]): Body => ({
  what,
  value: Buffer.from(JSON.stringify(value)),
  contentType: VARIANT_CONTENT_TYPE,
  codes,
});

/** `''` and null are missing; anything else of the wrong type is invalid. */
const missingOrInvalid = (v: unknown) => (v === '' || v === null ? C.MISSING_FIELD : C.INVALID_FIELD);

const validVariant = { chrom: 'chr1', pos: 100, ref: 'A', alt: ['G'] };

/** A value of the wrong type (or range) for each required variant field. */
const wrongField = fc.oneof(
  fc
    .oneof(fc.integer(), fc.constant(''), fc.constant(null), fc.array(fc.string(), { maxLength: 3 }))
    .map((chrom) => json('wrong type: chrom', { ...validVariant, chrom }, missingOrInvalid(chrom))),
  fc
    .oneof(
      fc.string(),
      fc.double({ min: 1.5, max: 1e6, noNaN: true }).filter((d) => !Number.isInteger(d)),
      fc.integer({ min: -1_000_000, max: -1 }), // 0 is a telomere: valid
      fc.constant(2 ** 60),
      fc.boolean(),
    )
    .map((pos) => json('wrong type: pos', { ...validVariant, pos }, C.INVALID_FIELD)),
  fc
    .oneof(fc.constant(''), fc.integer(), fc.constant(null))
    .map((ref) => json('wrong type: ref', { ...validVariant, ref }, missingOrInvalid(ref))),
  fc
    .oneof(fc.integer(), fc.dictionary(fc.string(), fc.string()), fc.array(fc.integer(), { minLength: 1 }))
    .map((alt) => json('wrong type: alt', { ...validVariant, alt }, C.INVALID_FIELD)),
  fc
    .constantFrom('chrom', 'pos', 'ref', 'alt')
    .map((field) => json(`missing: ${field}`, { ...validVariant, [field]: undefined }, C.MISSING_FIELD)),
);

const sampleNames = (n: number) => Array.from({ length: n }, (_, i) => `H${i}`);
const gtOf = (ploidy: number) => Array.from({ length: ploidy }, (_, i) => i + 1).join('/');

/** What stopped the pipeline before the per-message limits (issue 22), each with its own code. */
const overLimits = fc.oneof(
  fc
    .tuple(
      fc.integer({ min: 2, max: 16 }),
      fc.integer({ min: DEFAULT_VARIANT_LIMITS.maxPloidy + 1, max: 3000 }),
    )
    .map(([alts, ploidy]) =>
      json(
        'high ploidy',
        {
          ...validVariant,
          alt: Array.from({ length: alts }, () => 'G'),
          samples: Object.fromEntries(sampleNames(5).map((n) => [n, { GT: gtOf(ploidy) }])),
        },
        C.PLOIDY_TOO_HIGH,
      ),
    ),
  fc
    .integer({ min: DEFAULT_VARIANT_LIMITS.maxAlts + 1, max: 5000 })
    .map((alts) => json('too many ALTs', { ...validVariant, alt: Array(alts).fill('G') }, C.TOO_MANY_ALTS)),
  fc
    .tuple(
      fc.integer({ min: DEFAULT_VARIANT_LIMITS.maxAlts + 1, max: 2000 }),
      fc.integer({ min: 1000, max: 5000 }),
    )
    .map(([alts, samples]) =>
      json(
        'ALTs x samples',
        {
          ...validVariant,
          alt: Array(alts).fill('G'),
          samples: Object.fromEntries(sampleNames(samples).map((n) => [n, { GT: '0/1' }])),
        },
        C.TOO_MANY_ALTS,
      ),
    ),
  // 8 ALTs, every sample carries all 8: more calls than HOSTILE_MAX_CALLS, within 256 KiB.
  fc.integer({ min: Math.ceil(HOSTILE_MAX_CALLS / 8) + 1, max: 4000 }).map((samples) =>
    json(
      'too many calls',
      {
        ...validVariant,
        alt: ['C', 'G', 'T', 'CA', 'CC', 'CG', 'CT', 'GA'],
        samples: Object.fromEntries(sampleNames(samples).map((n) => [n, { GT: gtOf(8) }])),
      },
      C.TOO_MANY_CALLS,
    ),
  ),
  fc.integer({ min: DEFAULT_VARIANT_LIMITS.maxInfoDepth, max: 10_000 }).map((depth) => ({
    what: 'deep INFO',
    value: Buffer.from(
      `{"chrom":"chr1","pos":100,"ref":"A","alt":"G","info":${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}}`,
    ),
    contentType: VARIANT_CONTENT_TYPE,
    codes: [C.INFO_TOO_DEEP],
  })),
  // INFO as stored is its JSON on every ALT row: 100-200 KB on enough ALTs exceeds 8 MiB.
  fc.integer({ min: 100_000, max: 200_000 }).map((bytes) =>
    json(
      'huge INFO',
      {
        ...validVariant,
        alt: Array(Math.ceil((DEFAULT_VARIANT_LIMITS.maxInfoBytes + 1) / bytes) + 1).fill('G'),
        info: { CSQ: 'x'.repeat(bytes) },
      },
      C.INFO_TOO_LARGE,
    ),
  ),
  fc
    .tuple(fc.integer({ min: 1, max: 1_000_000 }), fc.constantFrom('A', 'ACGT'))
    .map(([pos, base]) =>
      json('colliding id', { chrom: 'chrC', pos, ref: `${base}-${pos + 1}-C`, alt: 'G' }, C.INVALID_FIELD),
    ),
  fc
    .tuple(
      fc.constantFrom('chrom', 'sample', 'gene', 'id'),
      fc.integer({ min: DEFAULT_VARIANT_LIMITS.maxNameBytes + 1, max: 50_000 }),
    )
    .map(([field, n]) => {
      const long = 'n'.repeat(n);
      const body =
        field === 'chrom'
          ? { ...validVariant, chrom: long }
          : field === 'sample'
            ? { ...validVariant, samples: { [long]: { GT: '0/1' } } }
            : field === 'gene'
              ? { ...validVariant, genes: [long] }
              : { ...validVariant, id: long };
      return json(`long ${field}`, body, C.FIELD_TOO_LONG);
    }),
);

const variantHostile = (options: HostileOptions) =>
  fc.oneof(
    // 10 MiB each: rare, so that a run stays light.
    {
      weight: 1,
      arbitrary: fc
        .integer({ min: TOPIC_MAX_BYTES - 64 * 1024, max: TOPIC_MAX_BYTES - 1024 })
        .filter((n) => n > options.maxMessageBytes)
        .map((n) => ({
          what: 'at the topic limit',
          value: Buffer.alloc(n, 0x20),
          contentType: VARIANT_CONTENT_TYPE,
          codes: [C.MESSAGE_TOO_LARGE],
        })),
    },
    {
      weight: 40,
      arbitrary: fc.oneof(
        fc.uint8Array({ maxLength: 200 }).map((bytes) => ({
          what: 'invalid UTF-8',
          // 0xC3 0x28: a two-byte lead followed by a non-continuation byte, never valid UTF-8.
          value: Buffer.concat([Buffer.from('{"chrom":"'), Buffer.from(bytes), Buffer.from([0xc3, 0x28])]),
          contentType: VARIANT_CONTENT_TYPE,
          codes: [C.INVALID_UTF8],
        })),
        fc.integer({ min: 1_000, max: 50_000 }).map((depth) => ({
          what: 'deep nesting',
          value: Buffer.from(`${'['.repeat(depth)}${']'.repeat(depth)}`),
          contentType: VARIANT_CONTENT_TYPE,
          codes: [C.NOT_AN_OBJECT, C.INVALID_JSON],
        })),
        fc.integer({ min: 1_000, max: 20_000 }).map((depth) => ({
          what: 'deep nesting',
          value: Buffer.from(`{"chrom":${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}}`),
          contentType: VARIANT_CONTENT_TYPE,
          codes: [C.INVALID_FIELD, C.INVALID_JSON],
        })),
        fc
          .integer({ min: 10_000, max: Math.max(10_001, Math.floor(options.maxMessageBytes / 2)) })
          .map((n) =>
            json(
              'huge string',
              { ...validVariant, ref: 'A'.repeat(n), pos: String(n) },
              C.FIELD_TOO_LONG,
              C.INVALID_FIELD,
            ),
          ),
        wrongField,
        overLimits,
        fc
          .oneof(fc.integer(), fc.string(), fc.constant(null), fc.array(fc.integer()))
          .map((value) => json('not an object', value, C.NOT_AN_OBJECT)),
        fc.string({ maxLength: 100 }).map((s) => ({
          what: 'not JSON',
          value: Buffer.from(`{${s}`),
          contentType: VARIANT_CONTENT_TYPE,
          // `{` + `}` or `{"a":1}` is JSON, an object without the required fields.
          codes: [C.INVALID_JSON, C.MISSING_FIELD],
        })),
        fc.constant({
          what: 'empty value',
          value: null,
          contentType: VARIANT_CONTENT_TYPE,
          codes: [C.EMPTY_VALUE],
        }),
        fc.integer({ min: options.maxMessageBytes + 1, max: options.maxMessageBytes * 2 }).map((n) => ({
          what: 'oversized',
          value: Buffer.alloc(n, 0x20),
          contentType: VARIANT_CONTENT_TYPE,
          codes: [C.MESSAGE_TOO_LARGE],
        })),
      ),
    },
  );

/** An Arrow stream that declares `rows` rows while its vector buffer holds one row's floats. */
export function shortArrow(rows: number, dim: number): Buffer {
  const type = new FixedSizeList(dim, new Field('item', new Float32()));
  const child = makeData({
    type: new Float32(),
    length: rows * dim,
    nullCount: 0,
    data: new Float32Array(dim).fill(0.5),
  });
  const vector = makeVector(makeData({ type, length: rows, nullCount: 0, child }));
  const ids = vectorFromArray(
    Array.from({ length: rows }, (_, i) => `s${i}`),
    new Utf8(),
  );
  return Buffer.from(tableToIPC(new Table({ id: ids, vector }), 'stream'));
}

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
      .map(({ what, value, headers }) => ({
        what,
        value,
        contentType: headers['content-type'],
        codes: [C.NON_FINITE_VECTOR],
      })),
    vector.map((v) => ({
      what: 'NaN in JSON',
      value: Buffer.from(`{"id":"x","vector":[NaN${',0'.repeat(Math.max(0, v.length - 1))}]}`),
      contentType: EMBEDDING_CONTENT_TYPES.json,
      codes: [C.INVALID_JSON],
    })),
    fc
      .integer({ min: 1, max: 4 * dim })
      .filter((n) => n !== dim)
      .map((n) => ({
        what: 'wrong dimension',
        value: Buffer.from(JSON.stringify({ id: 'x', vector: Array.from({ length: n }, () => 0.5) })),
        contentType: EMBEDDING_CONTENT_TYPES.json,
        codes: [C.DIMENSION_MISMATCH],
      })),
    fc.integer({ min: 1, max: 4 * dim + 3 }).map((bytes) => ({
      what: 'float32 of the wrong length',
      value: Buffer.alloc(bytes === dim * 4 ? bytes + 1 : bytes),
      contentType: EMBEDDING_CONTENT_TYPES.f32,
      codes: [C.DIMENSION_MISMATCH, C.INVALID_FIELD],
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
          codes: [C.INVALID_ARROW],
        };
      }),
    fc.uint8Array({ minLength: 1, maxLength: 300 }).map((bytes) => ({
      what: 'garbage as Arrow',
      value: Buffer.from(bytes),
      contentType: EMBEDDING_CONTENT_TYPES.arrow,
      codes: [C.INVALID_ARROW],
    })),
    fc.integer({ min: 2, max: 20 }).map((rows) => ({
      what: 'short Arrow buffers',
      value: shortArrow(rows, dim),
      contentType: EMBEDDING_CONTENT_TYPES.arrow,
      codes: [C.INVALID_ARROW],
    })),
    fc.string({ minLength: 1, maxLength: 40 }).map((type) => ({
      what: 'unknown content type',
      value: Buffer.from('{}'),
      contentType: `application/x-${type.replace(/[^a-z]/gi, '') || 'unknown'}`,
      codes: [C.UNSUPPORTED_CONTENT_TYPE],
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
      entry: { key, topic, expect: { kind: 'hostile', what: body.what, codes: body.codes } },
      message: { key, value: body.value, headers } satisfies Message,
    };
  });
}

/** The arbitraries, for property tests of the decoders. */
export const hostileArbitraries = { variantHostile, embeddingHostile };
