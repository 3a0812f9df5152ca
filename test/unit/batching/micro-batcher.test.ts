import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type BatchLimits, MicroBatcher } from '../../../src/batching/micro-batcher.ts';
import { OffsetTracker } from '../../../src/batching/offset-tracker.ts';
import type { DeadLetter } from '../../../src/core/messages.ts';
import { PauseReason } from '../../../src/core/pause-reason.ts';
import { type Delivery, deliver, type Sink, type SinkBatch } from '../../../src/core/sink.ts';
import { waitFor } from '../../helpers/wait.ts';

/** A payload that records the offsets it was given. */
class Offsets {
  readonly items: number[] = [];
  add(decoded: number) {
    this.items.push(decoded);
  }
}

/** A sink that records batches and can be made to fail or to wait. */
class RecordingSink implements Sink<Offsets> {
  readonly batches: number[][] = [];
  failuresLeft = 0;
  /** Items this sink refuses as content (a `rejected` delivery) in any batch holding them. */
  rejects = new Set<number>();
  /** Fails every write with a non-retriable error that is not a rejection. */
  broken = false;
  /** Items whose batches fail with a suspect error ("buffer pool is full"), however often tried. */
  overfill = new Set<number>();
  /** Writes that fail with a suspect error once each, then succeed (a pool a checkpoint cures). */
  poolFullLeft = 0;
  attempts = 0;
  gate: Promise<void> | undefined;
  constructor(readonly name: string) {}
  async start() {}
  async close() {}
  async writeBatch(batch: SinkBatch<Offsets>): Promise<Delivery> {
    await this.gate;
    this.attempts++;
    const overfilling = batch.payload.items.some((i) => this.overfill.has(i));
    if (overfilling || this.poolFullLeft > 0) {
      if (!overfilling) this.poolFullLeft--;
      return deliver.retry('buffer pool is full', { suspect: true });
    }
    if (this.failuresLeft > 0) {
      this.failuresLeft--;
      // Thrown, not returned: a sink that throws is treated as the delivery its error stands for.
      throw new Error(`${this.name} is down`);
    }
    if (this.broken) return deliver.fatal('table has no key column');
    const refused = batch.payload.items.filter((i) => this.rejects.has(i));
    if (refused.length > 0) return deliver.rejected(`cannot convert ${refused.join(', ')}`);
    this.batches.push([...batch.payload.items]);
    return deliver.written(batch.payload.items.length);
  }
}

/** Adds message `decoded` (its value is the number as text) at `offset` of `partition`. */
function add(
  batcher: MicroBatcher<Offsets, number>,
  partition: number,
  offset: number,
  bytes: number,
  decoded: number,
) {
  const held = {
    partition,
    offset,
    timestamp: '0',
    key: null,
    value: Buffer.from(String(decoded)),
    headers: {},
  };
  batcher.addDecoded(held, bytes, decoded);
}

function setup(limits: Partial<BatchLimits> = {}, sinkNames = ['a', 'b']) {
  const sinks = sinkNames.map((n) => new RecordingSink(n));
  const commits: Array<[number, number]> = [];
  const pauses: Array<[PauseReason, boolean]> = [];
  const letters: DeadLetter[][] = [];
  const failed: unknown[] = [];
  const batcher = new MicroBatcher<Offsets, number>({
    topic: 't',
    limits: { maxRows: 3, maxBytes: 1000, lingerMs: 60_000, maxInFlight: 2, ...limits },
    newPayload: () => new Offsets(),
    decode: (m) => Number(m.value?.toString()),
    sinks,
    deadLetters: { publish: async (l) => void letters.push([...l]) },
    tracker: new OffsetTracker(),
    retry: { initialMs: 1, maxMs: 5 },
    events: {
      onPause: (reason, paused) => pauses.push([reason, paused]),
      onCommittable: (partition, offset) => commits.push([partition, offset]),
      onBatchFailed: (_id, error) => failed.push(error),
    },
  });
  return { batcher, sinks, commits, pauses, letters, failed };
}

test('flushes when maxRows is reached and commits after every sink wrote', async () => {
  const { batcher, sinks, commits } = setup();
  for (let offset = 0; offset < 6; offset++) add(batcher, 0, offset, 10, offset);
  await batcher.drain();
  for (const sink of sinks)
    assert.deepEqual(sink.batches, [
      [0, 1, 2],
      [3, 4, 5],
    ]);
  assert.deepEqual(commits, [
    [0, 3],
    [0, 6],
  ]);
  assert.equal(batcher.bytesHeld, 0);
});

test('flushes when maxBytes is reached', async () => {
  const { batcher, sinks } = setup({ maxRows: 100, maxBytes: 25 });
  for (let offset = 0; offset < 5; offset++) add(batcher, 0, offset, 10, offset);
  await batcher.drain();
  assert.deepEqual(sinks[0]?.batches, [
    [0, 1, 2],
    [3, 4],
  ]);
});

test('flushes a partial batch after lingerMs', async () => {
  const { batcher, sinks, commits } = setup({ maxRows: 100, lingerMs: 20 });
  add(batcher, 0, 0, 10, 0);
  await waitFor(() => commits.length === 1, { timeoutMs: 5_000, message: 'linger flush' });
  assert.deepEqual(sinks[0]?.batches, [[0]]);
});

test('a failing sink is retried, pauses the topic, and nothing is committed until it recovers', async () => {
  const { batcher, sinks, commits, pauses } = setup();
  const [a, b] = sinks as [RecordingSink, RecordingSink];
  let release!: () => void;
  b.gate = new Promise((r) => {
    release = r;
  });
  b.failuresLeft = 3;
  for (let offset = 0; offset < 3; offset++) add(batcher, 0, offset, 10, offset);
  await waitFor(() => a.batches.length === 1, { timeoutMs: 5_000, message: 'sink a wrote' });
  assert.deepEqual(commits, [], 'sink a alone is not enough to commit');
  b.gate = undefined;
  release();
  await batcher.drain();
  assert.deepEqual(b.batches, [[0, 1, 2]]);
  assert.deepEqual(commits, [[0, 3]]);
  assert.deepEqual(pauses, [
    ['sink-failure', true],
    ['sink-failure', false],
  ]);
});

test('dead letters are published before their offsets are committed', async () => {
  const { batcher, commits, letters } = setup();
  add(batcher, 0, 0, 10, 0);
  batcher.addDeadLetter(
    {
      topic: 't',
      partition: 0,
      offset: 1,
      timestamp: '0',
      key: null,
      value: null,
      headers: {},
      code: 'INVALID_JSON',
      reason: 'x',
    },
    10,
  );
  add(batcher, 0, 2, 10, 2);
  await batcher.drain();
  assert.deepEqual(
    letters.map((l) => l.map((x) => x.offset)),
    [[1]],
  );
  assert.deepEqual(commits, [[0, 3]]);
});

test('sinks see batches in order even when later batches are quicker', async () => {
  const { batcher, sinks } = setup({ maxRows: 1, maxInFlight: 4 });
  const a = sinks[0] as RecordingSink;
  let release!: () => void;
  a.gate = new Promise((r) => {
    release = r;
  });
  for (let offset = 0; offset < 4; offset++) add(batcher, 0, offset, 1, offset);
  setTimeout(() => {
    a.gate = undefined;
    release();
  }, 10);
  await batcher.drain();
  assert.deepEqual(a.batches, [[0], [1], [2], [3]]);
});

test('held bytes over the budget ask for a pause, and draining resumes', async () => {
  const { batcher, sinks, pauses } = setup({ maxRows: 1000, maxBytes: 100, maxInFlight: 1 });
  const a = sinks[0] as RecordingSink;
  let release!: () => void;
  a.gate = new Promise((r) => {
    release = r;
  });
  // budget = maxBytes * (maxInFlight + 2) = 300
  for (let offset = 0; offset < 30; offset++) add(batcher, 0, offset, 10, offset);
  assert.equal(batcher.bytesHeld, 300);
  assert.deepEqual(pauses.at(-1), ['buffer-full', true]);
  a.gate = undefined;
  release();
  await batcher.drain();
  assert.deepEqual(pauses.at(-1), ['buffer-full', false]);
  assert.equal(batcher.bytesHeld, 0);
});

test('discarding the filling batch releases its bytes and writes nothing', async () => {
  const { batcher, sinks, commits } = setup({ maxRows: 100 });
  add(batcher, 0, 0, 10, 0);
  batcher.discardFilling();
  assert.equal(batcher.bytesHeld, 0);
  await batcher.drain();
  assert.deepEqual(sinks[0]?.batches, []);
  assert.deepEqual(commits, []);
});

test('stop() abandons a batch stuck on a failing sink without committing it', async () => {
  const { batcher, sinks, commits } = setup();
  (sinks[1] as RecordingSink).failuresLeft = Number.POSITIVE_INFINITY;
  for (let offset = 0; offset < 3; offset++) add(batcher, 0, offset, 10, offset);
  setTimeout(() => batcher.stop(), 20);
  await batcher.drain();
  assert.deepEqual(commits, []);
});

test('a sink write that does not return is reported while it runs, and nothing is committed', async () => {
  const sink = new RecordingSink('stuck');
  let release: () => void = () => {};
  sink.gate = new Promise((r) => {
    release = r;
  });
  const slow: number[] = [];
  const commits: number[] = [];
  const batcher = new MicroBatcher<Offsets, number>({
    topic: 't',
    limits: { maxRows: 1, maxBytes: 1000, lingerMs: 60_000, maxInFlight: 1 },
    newPayload: () => new Offsets(),
    decode: (m) => Number(m.value?.toString()),
    sinks: [sink],
    deadLetters: { publish: async () => {} },
    tracker: new OffsetTracker(),
    retry: { initialMs: 1, maxMs: 5 },
    stallWarnMs: 10,
    events: {
      onPause: () => {},
      onCommittable: (_p, offset) => commits.push(offset),
      onSinkSlow: (_name, _batch, millis) => slow.push(millis),
    },
  });
  add(batcher, 0, 0, 10, 0);
  await waitFor(() => slow.length >= 2, { timeoutMs: 5_000, message: 'two slow-write reports' });
  assert.deepEqual(commits, []);
  release();
  await batcher.drain();
  assert.deepEqual(commits, [1]);
});

test('records a sink rejects are found by splitting the batch and dead-lettered; the rest is written', async () => {
  const { batcher, sinks, commits, letters } = setup({ maxRows: 8 });
  const [a, b] = sinks as [RecordingSink, RecordingSink];
  b.rejects = new Set([2, 5]);
  for (let offset = 0; offset < 8; offset++) add(batcher, 0, offset, 10, offset);
  await batcher.drain();
  assert.deepEqual(a.batches, [[0, 1, 2, 3, 4, 5, 6, 7]], 'the other sink wrote the whole batch');
  assert.deepEqual(b.batches.flat(), [0, 1, 3, 4, 6, 7], 'sink b wrote every other record, in order');
  const dead = letters.flat();
  assert.deepEqual(
    dead.map((l) => [l.offset, l.code, l.value?.toString()]),
    [
      [2, 'SINK_REJECTED', '2'],
      [5, 'SINK_REJECTED', '5'],
    ],
  );
  assert.match(dead[0]?.reason ?? '', /^b: cannot convert 2$/);
  assert.deepEqual(commits, [[0, 8]], 'committed once the rejected records were dead-lettered');
});

test('a non-retriable failure that is not a rejection abandons the batch: nothing is committed', async () => {
  const { batcher, sinks, commits, letters, failed } = setup();
  const [, b] = sinks as [RecordingSink, RecordingSink];
  b.broken = true;
  for (let offset = 0; offset < 3; offset++) add(batcher, 0, offset, 10, offset);
  await batcher.drain();
  assert.equal(failed.length, 1);
  assert.match(String(failed[0]), /table has no key column/);
  assert.deepEqual(commits, []);
  assert.deepEqual(letters.flat(), [], 'nothing is dead-lettered for a store that is broken');
});

test("a suspect failure that persists down to one message is that message's: SINK_REJECTED after bounded attempts", async () => {
  const { batcher, sinks, commits, letters } = setup({ maxRows: 8 });
  const [, b] = sinks as [RecordingSink, RecordingSink];
  b.overfill = new Set([6]);
  for (let offset = 0; offset < 8; offset++) add(batcher, 0, offset, 10, offset);
  await batcher.drain();
  assert.deepEqual(b.batches.flat(), [0, 1, 2, 3, 4, 5, 7], 'every other record written, in order');
  const dead = letters.flat();
  assert.deepEqual(
    dead.map((l) => [l.offset, l.code]),
    [[6, 'SINK_REJECTED']],
  );
  assert.match(dead[0]?.reason ?? '', /buffer pool is full \(still failing after 3 attempts/);
  assert.deepEqual(commits, [[0, 8]]);
  // 3 attempts for each batch holding offset 6 (8, 4, 2 and 1 messages), one each for the others.
  assert.equal(b.attempts, 4 * 3 + 3);
});

test('a batch of one message taken as suspect-rejected resumes the topic (the store answered)', async () => {
  const { batcher, sinks, commits, letters, pauses } = setup({ maxRows: 1 });
  const [, b] = sinks as [RecordingSink, RecordingSink];
  b.overfill = new Set([0]);
  add(batcher, 0, 0, 10, 0);
  await batcher.drain();
  assert.deepEqual(
    letters.flat().map((l) => [l.offset, l.code]),
    [[0, 'SINK_REJECTED']],
  );
  assert.deepEqual(commits, [[0, 1]]);
  // Before, the sink stayed "failing" after its last retry and the topic stayed paused for good.
  assert.deepEqual(
    pauses.filter(([reason]) => reason === PauseReason.SINK_FAILURE),
    [
      [PauseReason.SINK_FAILURE, true],
      [PauseReason.SINK_FAILURE, false],
    ],
  );
});

test("a suspect failure that a retry cures is the store's: nothing is dead-lettered", async () => {
  const { batcher, sinks, commits, letters } = setup({ maxRows: 4 });
  const [, b] = sinks as [RecordingSink, RecordingSink];
  b.poolFullLeft = 2;
  for (let offset = 0; offset < 4; offset++) add(batcher, 0, offset, 10, offset);
  await batcher.drain();
  assert.deepEqual(b.batches, [[0, 1, 2, 3]]);
  assert.deepEqual(letters.flat(), []);
  assert.deepEqual(commits, [[0, 4]]);
});

test('a failing store that is not suspect is retried without limit, never dead-lettered', async () => {
  const { batcher, sinks, commits, letters } = setup({ maxRows: 2 });
  const [, b] = sinks as [RecordingSink, RecordingSink];
  b.failuresLeft = 25;
  for (let offset = 0; offset < 2; offset++) add(batcher, 0, offset, 10, offset);
  await batcher.drain();
  assert.deepEqual(b.batches, [[0, 1]]);
  assert.deepEqual(letters.flat(), []);
  assert.deepEqual(commits, [[0, 2]]);
});
