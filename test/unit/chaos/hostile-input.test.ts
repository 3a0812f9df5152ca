/**
 * The chaos harness's hostile generators must produce only input the contract rejects: the
 * decoders (or the size limit in front of them) must turn every sample into a DecodeError, never
 * into rows and never into another exception.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { hostileArbitraries } from '../../../src/chaos/hostile.ts';
import { decodeEmbeddingMessage } from '../../../src/contract/embedding-decoder.ts';
import { DecodeError } from '../../../src/contract/errors.ts';
import { decodeVariantMessage } from '../../../src/contract/variant-decoder.ts';

const options = { maxMessageBytes: 256 * 1024, dim: 8, seed: 1 };

function rejected(decode: () => unknown, size: number): boolean {
  if (size > options.maxMessageBytes) return true;
  try {
    decode();
  } catch (error) {
    if (error instanceof DecodeError) return true;
    throw error;
  }
  return false;
}

test('every hostile variant message is rejected by the variant decoder with a DecodeError', () => {
  fc.assert(
    fc.property(hostileArbitraries.variantHostile(options), ({ value, contentType }) =>
      rejected(() => decodeVariantMessage(value, contentType), value?.length ?? 0),
    ),
    { numRuns: 500, seed: 7 },
  );
});

test('every hostile embedding message is rejected by the embedding decoder with a DecodeError', () => {
  fc.assert(
    fc.property(hostileArbitraries.embeddingHostile(options), ({ value, contentType }) =>
      rejected(
        () =>
          decodeEmbeddingMessage(
            {
              value,
              key: Buffer.from('x'),
              header: (name) => (name === 'content-type' ? contentType : undefined),
            },
            options.dim,
          ),
        value?.length ?? 0,
      ),
    ),
    { numRuns: 500, seed: 7 },
  );
});

test('the generators are deterministic for a seed', () => {
  const a = fc.sample(hostileArbitraries.variantHostile(options), { numRuns: 20, seed: 3 });
  const b = fc.sample(hostileArbitraries.variantHostile(options), { numRuns: 20, seed: 3 });
  assert.deepEqual(a, b);
});
