/**
 * An interrupted `produce vcf` says how far it got, and `--skip N` resumes it: together the two
 * runs put every record of the file on the topic once. Progress of a compressed file follows the
 * records (the compressed bytes the decompressor consumed), not the bytes read ahead from disk.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createReadStream, createWriteStream, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createGzip } from 'node:zlib';
import { createKafka } from '../../src/consumers/kafka-client.ts';
import { kafkaPublishers } from '../../src/consumers/publisher.ts';
import { ensureTopics } from '../../src/consumers/topics.ts';
import { describePosition, produceVcf } from '../../src/producer/produce-vcf.ts';
import { writeSyntheticVcf } from '../../src/producer/synthetic-vcf.ts';
import { ensureBroker, fixtureVcf, readTopic, silentLogger, testConfig } from '../helpers/kafka.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TRIO = fixtureVcf('giab_ashk_trio.bcsq.vcf.gz');
const TRIO_RECORDS = 9_940;

before(() => {
  process.env.KAFKA_BROKERS = ensureBroker();
});

test('an interrupted publish reports its position, and --skip N resumes it: every record once', async () => {
  const config = testConfig();
  const kafka = createKafka(config, silentLogger);
  const topic = config.topics.variants;
  await ensureTopics(kafka, config, [topic]);
  const stop = new AbortController();
  const first = await produceVcf(kafkaPublishers(kafka), TRIO, {
    topic,
    signal: stop.signal,
    onProgress: (records) => {
      if (records === 3_000) stop.abort();
    },
  });
  assert.equal(first.interrupted, true);
  assert.equal(first.position.records, 3_000, 'what was queued is acknowledged before it stops');
  assert.equal(first.records, 3_000);
  assert.match(
    describePosition(first.position),
    /^the first 3,000 records of the file are on the topic \(the last at \w+:\d+\); resume with --skip 3000$/,
  );

  const run = spawnSync(
    process.execPath,
    [
      '--import',
      'tsx',
      'src/cli/main.ts',
      'produce',
      'vcf',
      TRIO,
      '--topic',
      topic,
      '--skip',
      String(first.position.records),
    ],
    { cwd: ROOT, encoding: 'utf8', env: { ...process.env }, timeout: 120_000 },
  );
  assert.equal(run.status, 0, run.stderr);
  // The same file published whole, in one run, to compare with.
  const whole = `${topic}-whole`;
  await ensureTopics(kafka, config, [whole]);
  await produceVcf(kafkaPublishers(kafka), TRIO, { topic: whole });
  const values = async (t: string) =>
    (await readTopic(kafka, t, TRIO_RECORDS)).map((m) => `${m.key}|${m.value}`).sort();
  const resumed = await values(topic);
  assert.equal(resumed.length, TRIO_RECORDS);
  assert.deepEqual(
    resumed,
    await values(whole),
    'the two runs together hold exactly the records of one whole run',
  );
});

test('progress of a gzip file follows the records, not the read-ahead', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'varstream-progress-'));
  const plain = join(dir, 'synthetic.vcf');
  const path = `${plain}.gz`;
  await writeSyntheticVcf(plain, { records: 40_000, samples: 20, seed: 7 });
  await pipeline(createReadStream(plain), createGzip(), createWriteStream(path));
  assert.ok(statSync(path).size > 1024 * 1024, 'larger than a few read-ahead chunks');
  const config = testConfig();
  const kafka = createKafka(config, silentLogger);
  await ensureTopics(kafka, config, [config.topics.variants]);
  const samples: [number, number][] = [];
  await produceVcf(kafkaPublishers(kafka), path, {
    topic: config.topics.variants,
    onProgress: (records, fraction) => {
      if (records % 4_000 === 0) samples.push([records / 40_000, fraction]);
    },
  });
  for (const [done, fraction] of samples)
    assert.ok(
      Math.abs(fraction - done) < 0.08,
      `at ${(done * 100).toFixed(0)}% of the records, progress said ${(fraction * 100).toFixed(0)}%`,
    );
});
