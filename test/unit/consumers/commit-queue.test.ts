import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { CommitQueue } from '../../../src/consumers/commit-queue.ts';

const silent = pino({ level: 'silent' });

test('commits coalesce: while one is in flight, only the newest offset per partition is sent next', async () => {
  const sent: string[][] = [];
  let release!: () => void;
  let gate: Promise<void> | undefined = new Promise((r) => {
    release = r;
  });
  const queue = new CommitQueue(
    {
      commitOffsets: async (offsets) => {
        sent.push(offsets.map((o) => `${o.topic}:${o.partition}@${o.offset}`));
        await gate;
      },
    },
    silent,
    () => undefined,
  );
  queue.commit('t', 0, 10);
  queue.commit('t', 0, 20);
  queue.commit('t', 1, 5);
  queue.commit('t', 0, 30);
  gate = undefined;
  release();
  await queue.idle();
  assert.deepEqual(sent, [['t:0@10'], ['t:0@30', 't:1@5']]);
});

test('a commit refused by a rebalance is dropped, not retried', async () => {
  let calls = 0;
  const committed: number[] = [];
  const queue = new CommitQueue(
    {
      commitOffsets: async () => {
        calls++;
        throw Object.assign(new Error('The group is rebalancing'), { type: 'REBALANCE_IN_PROGRESS' });
      },
    },
    silent,
    (o) => committed.push(o.offset),
  );
  queue.commit('t', 0, 10);
  await queue.idle();
  assert.equal(calls, 1);
  assert.deepEqual(committed, []);
});

test('a transient commit failure is retried', async () => {
  let calls = 0;
  const committed: number[] = [];
  const queue = new CommitQueue(
    {
      commitOffsets: async () => {
        calls++;
        if (calls === 1) throw new Error('connection reset');
      },
    },
    silent,
    (o) => committed.push(o.offset),
  );
  queue.commit('t', 0, 10);
  await queue.idle();
  assert.equal(calls, 2);
  assert.deepEqual(committed, [10]);
});
