import assert from 'node:assert/strict';
import { test } from 'node:test';
import { VariantBatch } from '../../../src/batching/variant-batch.ts';
import { decodeVariantMessage } from '../../../src/contract/variant-decoder.ts';

const message = (body: object) => decodeVariantMessage(Buffer.from(JSON.stringify(body)));
const site = { chrom: '1', pos: 100, ref: 'A', alt: ['G', 'T'] };

test('the last message per variant id wins, in place', () => {
  const batch = new VariantBatch();
  batch.add(message({ ...site, qual: 10, source: 'first' }), { topic: 'v', partition: 0, offset: 1 });
  batch.add(message({ chrom: '2', pos: 5, ref: 'C', alt: 'A' }), { topic: 'v', partition: 0, offset: 2 });
  batch.add(message({ ...site, alt: ['G'], qual: 20, source: 'second' }), {
    topic: 'v',
    partition: 0,
    offset: 3,
  });
  const v = batch.variants;
  assert.deepEqual(v.variantId, ['1-100-A-G', '1-100-A-T', '2-5-C-A']);
  assert.deepEqual(v.qual, [20, 10, null]);
  assert.deepEqual(v.source, ['second', 'first', null]);
  assert.deepEqual(v.offset, [3, 1, 2]);
});

test('calls are unique per (sample, variant), last genotype wins; samples accumulate', () => {
  const batch = new VariantBatch();
  batch.add(message({ ...site, samples: { S1: { GT: '0/1' }, S2: { GT: '0/0' } } }), {
    topic: 'v',
    partition: 0,
    offset: 1,
  });
  batch.add(message({ ...site, samples: { S1: { GT: '1/1', DP: 9 }, S3: { GT: '0|2' } } }), {
    topic: 'v',
    partition: 0,
    offset: 2,
  });
  const c = batch.calls;
  assert.deepEqual(
    c.sample.map((s, i) => `${s} ${c.variantId[i]} ${c.gt[i]} ${c.zygosity[i]} ${c.dp[i]}`),
    ['S1 1-100-A-G 1/1 HOM 9', 'S3 1-100-A-T 0|2 HET null'],
  );
  assert.deepEqual([...batch.samples], ['S1', 'S2', 'S3']);
});

test('gene pairs are unique and genes collected', () => {
  const batch = new VariantBatch();
  batch.add(message({ ...site, genes: ['BRCA1', 'NBR2'] }), { topic: 'v', partition: 0, offset: 1 });
  batch.add(message({ ...site, alt: 'G', genes: ['BRCA1'] }), { topic: 'v', partition: 0, offset: 2 });
  assert.deepEqual(
    batch.geneVariant.map((v, i) => `${v}>${batch.geneSymbol[i]}`),
    ['1-100-A-G>BRCA1', '1-100-A-G>NBR2', '1-100-A-T>BRCA1', '1-100-A-T>NBR2'],
  );
  assert.deepEqual([...batch.genes], ['BRCA1', 'NBR2']);
});
