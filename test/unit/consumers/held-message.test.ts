import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setImmediate as tick } from 'node:timers/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { KafkaMessage } from 'kafkajs';
import { heldBytes, holdMessage } from '../../../src/consumers/held-message.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** A message as kafkajs decodes it: key, value and header values are slices of one fetch response. */
function fetched(response: Buffer): KafkaMessage {
  response.write('key-1', 0);
  response.write('{"chrom":"chr1"}', 16);
  response.write('trace', 64);
  response.write('abc', 80);
  return {
    key: response.subarray(0, 5),
    value: response.subarray(16, 32),
    timestamp: '1700000000000',
    attributes: 0,
    offset: '42',
    headers: {
      traceparent: response.subarray(64, 69),
      multi: [response.subarray(80, 83), 'text'],
      plain: 'p',
    },
  };
}

test('a held message has its own copies of key, value and headers, with the same content and bytes', () => {
  const response = Buffer.alloc(1024 * 1024);
  const message = fetched(response);
  const { held, bytes } = holdMessage(2, message);
  assert.deepEqual(
    { partition: held.partition, offset: held.offset, timestamp: held.timestamp },
    { partition: 2, offset: 42, timestamp: '1700000000000' },
  );
  assert.equal(held.key?.toString(), 'key-1');
  assert.equal(held.value?.toString(), '{"chrom":"chr1"}');
  assert.equal(String(held.headers.traceparent), 'trace');
  assert.deepEqual(
    (held.headers.multi as Array<Buffer | string>).map((v) => v.toString()),
    ['abc', 'text'],
  );
  assert.equal(held.headers.plain, 'p');
  // 5 + 16 + ('traceparent' 11 + 5) + ('multi' 5 + 3 + 4) + ('plain' 5 + 1)
  assert.equal(bytes, 55);
  assert.equal(heldBytes(message as Parameters<typeof heldBytes>[0]), bytes);
  for (const copy of [held.key, held.value, held.headers.traceparent, (held.headers.multi as Buffer[])[0]]) {
    assert.ok(Buffer.isBuffer(copy));
    assert.notEqual(copy.buffer, response.buffer, 'a copy, not a view of the response');
    // Small copies share a slab of Node's Buffer pool (Buffer.poolSize: 8 KiB, 64 KiB under tsx).
    assert.ok(copy.buffer.byteLength <= Buffer.poolSize + 64, `backed by ${copy.buffer.byteLength} bytes`);
  }
  response.fill(0);
  assert.equal(held.value?.toString(), '{"chrom":"chr1"}', 'the response changing does not change the copy');
});

test('a held message does not keep its fetch response alive', async () => {
  const collected = new Set<string>();
  const registry = new FinalizationRegistry<string>((name) => collected.add(name));
  const keep: unknown[] = [];
  const fetchOne = (name: string, hold: (m: KafkaMessage) => unknown) => {
    const response = Buffer.alloc(4 * 1024 * 1024);
    registry.register(response.buffer, name);
    keep.push(hold(fetched(response)));
  };
  fetchOne('held', (m) => holdMessage(0, m).held);
  // The control: the message as kafkajs handed it out keeps its response.
  fetchOne('as fetched', (m) => m);
  const deadline = Date.now() + 10_000;
  while (!collected.has('held') && Date.now() < deadline) {
    gc();
    await tick();
  }
  assert.ok(collected.has('held'), 'the response of a held message was collected');
  assert.ok(!collected.has('as fetched'), 'the response of the message kafkajs handed out is still alive');
  assert.equal(keep.length, 2);
});
