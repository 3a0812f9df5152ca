/**
 * Proves: malformed JSON, a missing required field, a non-integer `pos`, a 2 MB garbage value and
 * a message over the configured size limit each end on the dead-letter topic with the right code, their original key, bytes and headers,
 * and the `dlq-*` headers; every valid message around them lands; the partition moves on.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { createKafka } from '../../src/consumers/kafka-client.ts';
import { ensureTopics } from '../../src/consumers/topics.ts';
import {
  countStores,
  ensureBroker,
  readTopic,
  silentLogger,
  testConfig,
  testConsumer,
  testKafka,
  waitUntilCaughtUp,
} from '../helpers/kafka.ts';

before(() => {
  ensureBroker();
});

/** 2 MiB that is not UTF-8 (and so not JSON): a repeating pattern of bytes that never form a valid sequence. */
function garbage(): Buffer {
  const value = Buffer.alloc(2 * 1024 * 1024);
  for (let i = 0; i < value.length; i++) value[i] = 0x80 + ((i * 7) % 0x40) + (i % 3 === 0 ? 0x40 : 0);
  return value;
}

/** A valid variant, padded past the 3 MiB limit this test configures. */
function oversized(): Buffer {
  return Buffer.from(
    JSON.stringify({ chrom: '1', pos: 9, ref: 'A', alt: 'G', info: { PAD: 'x'.repeat(3.5 * 1024 * 1024) } }),
  );
}

test('bad messages are dead-lettered with their code and valid neighbours all land', async () => {
  const config = testConfig({ kafka: { topicPartitions: 1, maxMessageBytes: '3Mi' } });
  const kafka = createKafka(config, silentLogger);
  await ensureTopics(kafka, config);
  const valid = (i: number) => ({
    key: `1-${1000 + i}-A`,
    value: JSON.stringify({
      chrom: '1',
      pos: 1000 + i,
      ref: 'A',
      alt: ['G'],
      samples: { S1: { GT: '0/1' } },
    }),
  });
  const bad = [
    { key: 'bad-json', value: Buffer.from('{"chrom": "1", "pos": '), code: 'INVALID_JSON' },
    {
      key: 'no-ref',
      value: Buffer.from(JSON.stringify({ chrom: '1', pos: 5, alt: 'G' })),
      code: 'MISSING_FIELD',
    },
    {
      key: 'float-pos',
      value: Buffer.from(JSON.stringify({ chrom: '1', pos: 5.5, ref: 'A', alt: 'G' })),
      code: 'INVALID_FIELD',
    },
    { key: 'garbage', value: garbage(), code: 'INVALID_UTF8' },
    { key: 'too-large', value: oversized(), code: 'MESSAGE_TOO_LARGE' },
  ];
  const messages = [];
  for (let i = 0; i < 10; i++) {
    messages.push(valid(i));
    const b = bad[i];
    if (b) messages.push({ key: b.key, value: b.value, headers: { 'x-origin': `test-${i}` } });
  }
  const producer = kafka.producer();
  await producer.connect();
  for (const m of messages) await producer.send({ topic: config.topics.variants, messages: [m] });
  await producer.disconnect();

  const consumer = testConsumer(config);
  await consumer.start();
  await waitUntilCaughtUp(testKafka(), config);
  await consumer.stop();

  assert.deepEqual(consumer.stats.deadLetters, {
    INVALID_JSON: 1,
    MISSING_FIELD: 1,
    INVALID_FIELD: 1,
    INVALID_UTF8: 1,
    MESSAGE_TOO_LARGE: 1,
  });
  const counts = await countStores(config);
  assert.equal(counts.rows, 10);
  assert.equal(counts.carriedBy, 10);

  const letters = await readTopic(testKafka(), config.topics.deadLetter, bad.length);
  assert.equal(letters.length, bad.length);
  for (const b of bad) {
    const letter = letters.find((l) => l.key?.toString() === b.key);
    assert.ok(letter, `dead letter for ${b.key}`);
    const h = (name: string) => letter.headers?.[name]?.toString();
    assert.equal(h('dlq-error-code'), b.code, b.key);
    assert.ok(Buffer.from(letter.value ?? []).equals(b.value), `${b.key}: original bytes`);
    assert.equal(h('dlq-topic'), config.topics.variants);
    assert.equal(h('dlq-partition'), '0');
    assert.match(h('dlq-offset') ?? '', /^\d+$/);
    assert.match(h('dlq-timestamp') ?? '', /^\d+$/);
    assert.equal(h('dlq-consumer-group'), config.kafka.groupId);
    assert.ok((h('dlq-error-message') ?? '').length > 0);
    assert.ok(!Number.isNaN(Date.parse(h('dlq-failed-at') ?? '')));
    assert.match(h('x-origin') ?? '', /^test-\d$/, 'original headers are kept');
  }
});
