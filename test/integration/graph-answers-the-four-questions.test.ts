/**
 * Proves, on a real VCF (the GIAB trio with bcftools csq genes) consumed from the real broker into
 * Kuzu: the graph answers the data model's four questions exactly as an independent reading of
 * the file says, through the queries `varstream query graph` runs: a variant's carriers, a
 * sample's variants in a gene, a gene's variants, a sample's variant count (for every sample, and
 * for seeded samples of the variants and genes).
 */

import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { createKafka } from '../../src/consumers/kafka-client.ts';
import { kafkaPublishers } from '../../src/consumers/publisher.ts';
import { ensureTopics } from '../../src/consumers/topics.ts';
import { mulberry32 } from '../../src/producer/prng.ts';
import { produceVcf } from '../../src/producer/produce-vcf.ts';
import { queryGraph } from '../../src/query/graph.ts';
import {
  carriers,
  geneVariants,
  sampleVariantCount,
  sampleVariantsInGene,
} from '../../src/sinks/kuzu/graph-queries.ts';
import { KuzuStore } from '../../src/sinks/kuzu/kuzu-store.ts';
import {
  ensureBroker,
  fixtureVcf,
  silentLogger,
  testConfig,
  testConsumer,
  testKafka,
  waitUntilCaughtUp,
} from '../helpers/kafka.ts';
import { type Expected, expectedFromVcf } from '../helpers/vcf-expectations.ts';

const config = testConfig({ variants: { sinks: ['kuzu'] }, batch: { maxRows: 2_000 } });
let expected: Expected;

/** `a>b` pairs grouped by a (or by b with `by = 1`). */
function grouped(pairs: Set<string>, by: 0 | 1): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const pair of pairs) {
    const parts = pair.split('>');
    const key = parts[by] as string;
    const value = parts[1 - by] as string;
    out.set(key, [...(out.get(key) ?? []), value]);
  }
  return out;
}

function seeded<T>(items: T[], n: number, seed: number): T[] {
  const random = mulberry32(seed);
  return Array.from(
    { length: Math.min(n, items.length) },
    () => items[Math.floor(random() * items.length)] as T,
  );
}

before(async () => {
  ensureBroker();
  const path = fixtureVcf('giab_ashk_trio.bcsq.vcf.gz');
  expected = await expectedFromVcf(path);
  const kafka = createKafka(config, silentLogger);
  await ensureTopics(kafka, config);
  await produceVcf(kafkaPublishers(kafka), path, { topic: config.topics.variants });
  const consumer = testConsumer(config);
  await consumer.start();
  await waitUntilCaughtUp(testKafka(), config);
  assert.equal(await consumer.stop(), true, 'clean stop');
});

test('the graph answers the four questions as the file says', async () => {
  const carriersOf = grouped(expected.carriedBy, 0); // variant -> samples
  const variantsOfGene = grouped(expected.inGene, 1); // gene -> variants
  const variantsOfSample = grouped(expected.carriedBy, 1); // sample -> variants
  const store = new KuzuStore(config.kuzu.path, 64 * 1024 * 1024, true);
  await store.open();
  try {
    for (const sample of expected.samples)
      assert.equal(
        await sampleVariantCount(store, sample),
        variantsOfSample.get(sample)?.length ?? 0,
        sample,
      );
    assert.equal(await sampleVariantCount(store, 'no such sample'), undefined);

    for (const variant of seeded([...expected.variants], 200, 1)) {
      const rows = await carriers(store, variant);
      assert.deepEqual(
        rows.map((r) => String(r.sample)).sort(),
        (carriersOf.get(variant) ?? []).sort(),
        `carriers of ${variant}`,
      );
    }

    for (const gene of seeded([...variantsOfGene.keys()], 100, 2)) {
      const want = (variantsOfGene.get(gene) ?? []).sort();
      assert.deepEqual((await geneVariants(store, gene)).map((r) => String(r.variant)).sort(), want, gene);
      for (const sample of expected.samples) {
        const carried = new Set(variantsOfSample.get(sample));
        const got = (await sampleVariantsInGene(store, sample, gene)).map((r) => String(r.variant)).sort();
        assert.deepEqual(
          got,
          want.filter((v) => carried.has(v)),
          `${sample} in ${gene}`,
        );
      }
    }
  } finally {
    await store.close();
  }
});

test('varstream query graph answers the same, and lists samples and genes to ask about', async () => {
  const [sample] = [...expected.samples];
  const count = await queryGraph(config, 'sample-count', { sample, limit: 20 });
  assert.deepEqual(count, [
    { sample, variants: grouped(expected.carriedBy, 1).get(sample as string)?.length },
  ]);
  const samples = await queryGraph(config, 'samples', { limit: 20 });
  assert.deepEqual(samples.map((r) => r.sample).sort(), [...expected.samples].sort());
  const genes = await queryGraph(config, 'genes', { limit: 5 });
  assert.equal(genes.length, 5);
  const top = grouped(expected.inGene, 1);
  assert.equal(
    Number(genes[0]?.variants),
    Math.max(...[...top.values()].map((v) => v.length)),
    'most variants first',
  );
  await assert.rejects(queryGraph(config, 'carriers', { limit: 20 }), /carriers needs --variant ID/);
});
