/**
 * Proves, on the real broker into both stores: no single message can stop a partition. Each of
 * these stopped the pipeline before (issue 22, reproduced at 0d4bdf7), and is now a dead letter
 * with its own code while the valid message after it lands and everything is committed:
 * - 3,000 ALTs and 5 samples of ploidy 3,000 (Kuzu's pool filled, retried forever);
 * - 10,000 ALTs x 100,000 samples in 2.5 MB (26 s to decode, the member lost its session);
 * - a message just under the topic limit, its dead letter bound for a dead-letter topic that takes
 *   1 MiB (the letter was refused, the consumer exited, restarted and did it again: a crash loop);
 * - `{chrom: "chrC", pos: 10, ref: "A-11-C"}`, whose variant_id was that of another site;
 * - a 20,000-deep INFO object, a 2,000-byte CHROM, 2,000 calls against a limit of 1,000.
 * And with the limits raised so that the ploidy message reaches Kuzu, the store's persistent
 * "buffer pool is full" for that one message ends in SINK_REJECTED, not an endless retry.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import type { Kafka } from 'kafkajs';
import type { Config } from '../../src/config/index.ts';
import { createKafka } from '../../src/consumers/kafka-client.ts';
import { ensureTopics, waitForLeaders } from '../../src/consumers/topics.ts';
import {
  committedOffsets,
  countStores,
  ensureBroker,
  pipelinesConsumer,
  readTopic,
  silentLogger,
  testConfig,
  testKafka,
  waitUntilCaughtUp,
} from '../helpers/kafka.ts';
import { waitFor } from '../helpers/wait.ts';

before(() => {
  ensureBroker();
});

const json = (key: string, body: object) => ({ key, value: JSON.stringify(body) });

function highPloidy(alts: number, samples: number) {
  const gt = Array.from({ length: alts }, (_, i) => i + 1).join('/');
  return json('ploidy', {
    chrom: 'chr1',
    pos: 1000,
    ref: 'A',
    alt: Array.from({ length: alts }, (_, i) => `G${distinctBases(i)}`),
    samples: Object.fromEntries(Array.from({ length: samples }, (_, s) => [`P${s}`, { GT: gt }])),
  });
}

/** Bases that spell `n` in base 4: a distinct allele per number. */
function distinctBases(n: number): string {
  return n.toString(4).replace(/[0-3]/g, (d) => 'ACGT'[Number(d)] as string);
}

function wideSite(alts: number, samples: number) {
  const sampleText = Array.from({ length: samples }, (_, s) => `"S${s}":{"GT":"0/1"}`).join(',');
  const altText = Array.from({ length: alts }, () => '"G"').join(',');
  return {
    key: 'wide',
    value: `{"chrom":"chr1","pos":2000,"ref":"A","alt":[${altText}],"samples":{${sampleText}}}`,
  };
}

/** A dead-letter topic made by hand, smaller than the input topics varstream creates. */
async function smallDeadLetterTopic(kafka: Kafka, config: Config, bytes: number): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({
      // kafkajs's own wait fails on a just-started broker; topics.ts's retries what it refuses.
      waitForLeaders: false,
      topics: [
        {
          topic: config.topics.deadLetter,
          numPartitions: 1,
          configEntries: [{ name: 'max.message.bytes', value: String(bytes) }],
        },
      ],
    });
    await waitForLeaders(admin, [config.topics.deadLetter]);
  } finally {
    await admin.disconnect();
  }
}

async function run(
  config: Config,
  messages: Array<{ key: string; value: string | Buffer }>,
  deadLetterTopicBytes?: number,
) {
  const kafka = createKafka(config, silentLogger);
  if (deadLetterTopicBytes) await smallDeadLetterTopic(kafka, config, deadLetterTopicBytes);
  await ensureTopics(kafka, config);
  const producer = kafka.producer();
  await producer.connect();
  for (const message of messages) await producer.send({ topic: config.topics.variants, messages: [message] });
  await producer.disconnect();
  const consumer = pipelinesConsumer(config);
  let failed = 0;
  consumer.on('failed', () => failed++);
  await consumer.start();
  try {
    await waitUntilCaughtUp(testKafka(), config, 120_000);
  } finally {
    await consumer.stop();
  }
  assert.equal(failed, 0, 'the consumer never failed');
  return consumer.stats.deadLetters;
}

test('each poison message is a dead letter with its code; the valid ones land; everything commits', async () => {
  const config = testConfig({
    kafka: { topicPartitions: 1 },
    pipelines: ['variants'],
    variants: { maxCalls: 1000 },
  });
  const valid = (pos: number) =>
    json(`ok-${pos}`, { chrom: 'chr2', pos, ref: 'A', alt: 'G', samples: { V: { GT: '0/1' } } });
  const nearLimit = Buffer.alloc(10 * 1024 * 1024 - 64 * 1024, 0x20);
  nearLimit.write('{"chrom":"chr3","pos":1,"ref":"A","alt":"G"}');
  const letters = await run(
    config,
    [
      highPloidy(3000, 5),
      valid(1),
      wideSite(10_000, 100_000),
      valid(2),
      { key: 'near-limit', value: nearLimit },
      valid(3),
      json('collides', { chrom: 'chrC', pos: 10, ref: 'A-11-C', alt: 'G' }),
      json('collided', { chrom: 'chrC-10-A', pos: 11, ref: 'C', alt: 'G' }),
      json('deep', {
        chrom: 'chr2',
        pos: 9,
        ref: 'A',
        alt: 'G',
        info: JSON.parse(`${'{"a":'.repeat(20_000)}1${'}'.repeat(20_000)}`),
      }),
      json('long-chrom', { chrom: 'c'.repeat(2000), pos: 9, ref: 'A', alt: 'G' }),
      json('calls', {
        chrom: 'chr2',
        pos: 10,
        ref: 'A',
        alt: 'G',
        samples: Object.fromEntries(Array.from({ length: 2000 }, (_, s) => [`C${s}`, { GT: '0/1' }])),
      }),
      ploidyOnly(),
      valid(4),
    ],
    1024 * 1024,
  );
  assert.deepEqual(letters, {
    TOO_MANY_ALTS: 2,
    MESSAGE_TOO_LARGE: 1,
    INVALID_FIELD: 1,
    INFO_TOO_DEEP: 1,
    FIELD_TOO_LONG: 1,
    TOO_MANY_CALLS: 1,
    PLOIDY_TOO_HIGH: 1,
  });
  const counts = await countStores(config);
  assert.equal(counts.rows, 5, 'four valid sites and chrC-10-A');
  assert.equal(counts.variants, 5, 'the graph holds the same five');
  assert.equal(counts.carriedBy, 4);

  const dead = await readTopic(testKafka(), config.topics.deadLetter, 8);
  const tooLarge = dead.find((m) => String(m.headers?.['dlq-error-code']) === 'MESSAGE_TOO_LARGE');
  assert.ok(tooLarge, 'the near-limit message was dead-lettered');
  assert.equal(tooLarge.value, null, 'without its value');
  assert.equal(String(tooLarge.headers?.['dlq-value-bytes']), String(nearLimit.length));
  assert.match(
    String(tooLarge.headers?.['dlq-value-omitted']),
    /refused the dead letter with its value as too large/,
  );
  assert.equal(String(tooLarge.headers?.['dlq-offset']), '4');
});

function ploidyOnly() {
  return json('ploidy-only', {
    chrom: 'chr2',
    pos: 11,
    ref: 'A',
    alt: 'G',
    samples: { P: { GT: Array(100).fill('1').join('/') } },
  });
}

test('a message the graph store refuses even alone, after a checkpoint, is SINK_REJECTED; the next one lands', async () => {
  const config = testConfig({
    kafka: { topicPartitions: 1 },
    pipelines: ['variants'],
    variants: { maxAlts: 5000, maxPloidy: 5000, maxCalls: 100_000 },
    kuzu: { bufferPoolBytes: '32Mi' },
    sink: { retryInitialMs: 50, retryMaxMs: 200 },
  });
  const letters = await run(config, [
    highPloidy(3000, 5),
    json('after', { chrom: 'chr2', pos: 1, ref: 'A', alt: 'G', samples: { V: { GT: '0/1' } } }),
  ]);
  assert.deepEqual(letters, { SINK_REJECTED: 1 });
  const counts = await countStores(config);
  assert.equal(counts.rows, 3001, 'LanceDB holds the 3,000 alleles and the next site');
  assert.equal(counts.variants, 1, 'Kuzu holds the next site');
  assert.equal(counts.carriedBy, 1);
});

test('a dead letter the dead-letter topic refuses even without its value stops its partition once, with no restart', async () => {
  const config = testConfig({
    kafka: { topicPartitions: 1 },
    pipelines: ['variants'],
    variants: { sinks: 'lancedb' },
  });
  const kafka = createKafka(config, silentLogger);
  await smallDeadLetterTopic(kafka, config, 64);
  await ensureTopics(kafka, config);
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({
    topic: config.topics.variants,
    messages: [
      json('a', { chrom: 'chr2', pos: 1, ref: 'A', alt: 'G' }),
      { key: 'bad', value: 'not json' },
      json('b', { chrom: 'chr2', pos: 2, ref: 'A', alt: 'G' }),
    ],
  });
  await producer.disconnect();
  const consumer = pipelinesConsumer(config);
  const stopped: unknown[] = [];
  let failed = 0;
  consumer.on('partitions-stopped', (e) => stopped.push(e));
  consumer.on('failed', () => failed++);
  await consumer.start();
  try {
    await waitFor(() => stopped.length > 0, { timeoutMs: 60_000, message: 'the partition to stop' });
  } finally {
    assert.equal(await consumer.stop(), true, 'a clean stop');
  }
  assert.equal(stopped.length, 1, 'one error, not a loop');
  assert.equal(failed, 0, 'the consumer did not fail (a restart would re-read it)');
  assert.match(
    String((stopped[0] as { error: Error }).error.message),
    /refused by topic .* even without its value/,
  );
  const committed = await committedOffsets(testKafka(), config.kafka.groupId, config.topics.variants);
  assert.ok(
    (committed.get(0) ?? -1) <= 1,
    `nothing committed past the undeliverable letter: ${committed.get(0)}`,
  );
});
