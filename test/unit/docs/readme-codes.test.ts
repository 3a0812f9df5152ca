/**
 * The README's dead-letter table is the truth: it lists exactly the codes of errors.ts, and each
 * code a decoder gives is given by that decoder for an example of what the README says it means.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { decodeEmbeddingMessage } from '../../../src/contract/embedding-decoder.ts';
import { DeadLetterCode, DecodeError } from '../../../src/contract/errors.ts';
import { DEFAULT_VARIANT_LIMITS, type VariantLimits } from '../../../src/contract/limits.ts';
import { rawMessage } from '../../../src/contract/raw-message.ts';
import { decodeVariantMessage } from '../../../src/contract/variant-decoder.ts';

const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
const table = readme.slice(readme.indexOf('### Dead-letter codes'), readme.indexOf('## Tests'));
const documented = [...table.matchAll(/^\| `([A-Z_0-9]+)` \|/gm)].map((m) => m[1]);

const variant = (body: unknown) => () => decodeVariantMessage(Buffer.from(JSON.stringify(body)));
const site = { chrom: '1', pos: 10, ref: 'A', alt: 'G' };
const embedding = (body: unknown) => () =>
  decodeEmbeddingMessage(rawMessage(Buffer.from(JSON.stringify(body))), 4);

/** For each code a decoder gives: inputs that must get it (the README row's own examples). */
const EXAMPLES: Record<string, Array<() => unknown>> = {
  EMPTY_VALUE: [() => decodeVariantMessage(Buffer.alloc(0)), () => decodeVariantMessage(null)],
  INVALID_UTF8: [() => decodeVariantMessage(Buffer.from([0x7b, 0xff, 0x7d]))],
  INVALID_JSON: [() => decodeVariantMessage(Buffer.from('{"chrom":'))],
  NOT_AN_OBJECT: [variant([1, 2]), variant('x')],
  MISSING_FIELD: [
    variant({ pos: 1, ref: 'A', alt: 'G' }),
    variant({ ...site, chrom: '' }),
    variant({ ...site, pos: null }),
    variant({ ...site, ref: '' }),
    variant({ chrom: '1', pos: 1, ref: 'A' }),
    embedding({ vector: [1, 2, 3, 4] }),
    embedding({ id: 'x' }),
  ],
  INVALID_FIELD: [
    variant({ ...site, pos: -1 }),
    variant({ ...site, pos: 1.5 }),
    variant({ ...site, chrom: 'chr 1' }),
    variant({ ...site, ref: 'A-11-C' }),
    variant({ ...site, alt: 'G-1' }),
    variant({ ...site, alt: 'R' }),
    variant({ ...site, chrom: '<1' }),
    variant({ ...site, samples: { S: { GT: 'A/T' } } }),
    variant({ ...site, samples: { S: { GT: '0/2' } } }),
    variant({ ...site, samples: { S: { GT: '0/1', DP: 1e20 } } }),
  ],
  UNSUPPORTED_CONTENT_TYPE: [
    () => decodeVariantMessage(Buffer.from('{}'), 'text/csv'),
    () =>
      decodeEmbeddingMessage(rawMessage(Buffer.from('{}'), { headers: { 'content-type': 'text/csv' } }), 4),
  ],
  DIMENSION_MISMATCH: [embedding({ id: 'x', vector: [1, 2, 3] })],
  NON_FINITE_VECTOR: [embedding({ id: 'x', vector: [1, null, 3, 4] })],
  INVALID_ARROW: [
    () =>
      decodeEmbeddingMessage(
        rawMessage(Buffer.from('not arrow'), {
          headers: { 'content-type': 'application/vnd.apache.arrow.stream' },
        }),
        4,
      ),
  ],
  TOO_MANY_ALTS: [variant({ ...site, alt: Array.from({ length: 257 }, () => 'G') })],
  PLOIDY_TOO_HIGH: [variant({ ...site, samples: { S: { GT: Array(17).fill('1').join('/') } } })],
  TOO_MANY_CALLS: [
    () =>
      decodeVariantMessage(
        Buffer.from(JSON.stringify({ ...site, samples: { S: { GT: '0/1' }, T: { GT: '1/1' } } })),
        undefined,
        {
          ...limits(),
          maxCalls: 1,
        },
      ),
  ],
  FIELD_TOO_LONG: [
    variant({ ...site, chrom: 'c'.repeat(1025) }),
    variant({ ...site, id: 'r'.repeat(1025) }),
    variant({ ...site, ref: 'A'.repeat(1024 * 1024 + 1) }),
    variant({ ...site, samples: { ['s'.repeat(1025)]: { GT: '0/1' } } }),
    variant({ ...site, genes: ['g'.repeat(1025)] }),
  ],
  INFO_TOO_LARGE: [variant({ ...site, info: { CSQ: 'x'.repeat(8 * 1024 * 1024) } })],
  INFO_TOO_DEEP: [variant({ ...site, info: { A: [[[[[[[[1]]]]]]]] } })],
};

/** Codes no decoder gives: where each comes from instead. */
const NOT_FROM_A_DECODER: Record<string, string> = {
  MESSAGE_TOO_LARGE: 'the consumer, before decoding (pipeline-consumer.ts)',
  SINK_REJECTED: 'the micro-batcher, when a store refuses a single message (micro-batcher.ts)',
  DECODER_FAILED: 'the consumer, when a decoder throws something other than a DecodeError',
};

function limits(): VariantLimits {
  return { ...DEFAULT_VARIANT_LIMITS };
}

test('the README documents exactly the dead-letter codes of errors.ts', () => {
  assert.deepEqual([...documented].sort(), Object.values(DeadLetterCode).sort());
});

test('each documented decoder code is what the decoder gives for the README’s own examples', () => {
  for (const code of documented as string[]) {
    if (code in NOT_FROM_A_DECODER) continue;
    const examples = EXAMPLES[code];
    assert.ok(examples && examples.length > 0, `no example for ${code}`);
    examples.forEach((decode, i) => {
      assert.throws(decode, (error: unknown) => {
        assert.ok(error instanceof DecodeError, `${code} example ${i}: ${String(error)}`);
        assert.equal(error.code, code, `${code} example ${i}: ${error.message}`);
        return true;
      });
    });
  }
});

test('the valid neighbours of those examples decode', () => {
  for (const body of [
    site,
    { ...site, chrom: 'HLA-A*01:01:01:01' },
    { ...site, chrom: '<1A>' },
    { ...site, ref: 'acgtnRYKM' },
    { ...site, alt: ['<DEL>', '*', 'G]17:198982]', '[13:123457[A', '.A', 'T.', '<NON_REF>'] },
    { ...site, samples: { S: { GT: Array(16).fill('1').join('/') } } },
    { ...site, info: { A: [[[[[[[1]]]]]]] } },
  ])
    assert.doesNotThrow(variant(body), JSON.stringify(body).slice(0, 80));
});
