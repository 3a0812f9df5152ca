/**
 * The chaos harness's hostile generators must produce only input the contract rejects: the
 * decoders (or the size limit in front of them) must turn every sample into a DecodeError with one
 * of the codes its generator names, never into rows and never into another exception.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { HOSTILE_MAX_CALLS, hostileArbitraries } from '../../../src/chaos/hostile.ts';
import { decodeEmbeddingMessage } from '../../../src/contract/embedding-decoder.ts';
import { DecodeError } from '../../../src/contract/errors.ts';
import { DEFAULT_VARIANT_LIMITS } from '../../../src/contract/limits.ts';
import { decodeVariantMessage } from '../../../src/contract/variant-decoder.ts';

const options = { maxMessageBytes: 256 * 1024, dim: 8, seed: 1 };
const limits = { ...DEFAULT_VARIANT_LIMITS, maxCalls: HOSTILE_MAX_CALLS };

/** The code the consumer gives: MESSAGE_TOO_LARGE by size, else the decoder's DecodeError. */
function codeOf(decode: () => unknown, size: number): string {
  if (size > options.maxMessageBytes) return 'MESSAGE_TOO_LARGE';
  try {
    decode();
  } catch (error) {
    if (error instanceof DecodeError) return error.code;
    throw error;
  }
  return 'accepted';
}

test('every hostile variant message gets one of the codes its generator names', () => {
  fc.assert(
    fc.property(hostileArbitraries.variantHostile(options), ({ value, contentType, codes, what }) => {
      const code = codeOf(() => decodeVariantMessage(value, contentType, limits), value?.length ?? 0);
      assert.ok(codes.includes(code as never), `${what}: ${code}, expected ${codes.join(' or ')}`);
    }),
    { numRuns: 500, seed: 7 },
  );
});

test('every hostile embedding message gets one of the codes its generator names', () => {
  fc.assert(
    fc.property(hostileArbitraries.embeddingHostile(options), ({ value, contentType, codes, what }) => {
      const code = codeOf(
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
      );
      assert.ok(codes.includes(code as never), `${what}: ${code}, expected ${codes.join(' or ')}`);
    }),
    { numRuns: 500, seed: 7 },
  );
});

test('each generator of the over-limit cases is drawn', () => {
  const whats = new Set(
    fc.sample(hostileArbitraries.variantHostile(options), { numRuns: 3000, seed: 5 }).map((b) => b.what),
  );
  for (const what of [
    'high ploidy',
    'too many ALTs',
    'ALTs x samples',
    'too many calls',
    'deep INFO',
    'huge INFO',
    'colliding id',
    'at the topic limit',
  ])
    assert.ok(whats.has(what), what);
  const embeddings = new Set(
    fc.sample(hostileArbitraries.embeddingHostile(options), { numRuns: 500, seed: 5 }).map((b) => b.what),
  );
  assert.ok(embeddings.has('short Arrow buffers'));
});

test('the generators are deterministic for a seed', () => {
  const a = fc.sample(hostileArbitraries.variantHostile(options), { numRuns: 20, seed: 3 });
  const b = fc.sample(hostileArbitraries.variantHostile(options), { numRuns: 20, seed: 3 });
  assert.deepEqual(a, b);
});
