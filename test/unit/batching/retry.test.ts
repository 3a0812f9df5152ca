import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backoffDelay, retryForever } from '../../../src/batching/retry.ts';

test('backoff doubles from the initial delay and is capped, with jitter in [d/2, d]', () => {
  const opts = { initialMs: 100, maxMs: 1000 };
  assert.equal(backoffDelay(1, { ...opts, random: () => 0 }), 50);
  assert.equal(backoffDelay(1, { ...opts, random: () => 0.999999 }), 100);
  assert.equal(backoffDelay(3, { ...opts, random: () => 0.999999 }), 400);
  assert.equal(backoffDelay(10, { ...opts, random: () => 0.999999 }), 1000);
  assert.equal(backoffDelay(200, { ...opts, random: () => 0 }), 500);
});

test('retries transient failures until the operation succeeds', async () => {
  let calls = 0;
  const attempts: number[] = [];
  const value = await retryForever(
    async () => {
      calls++;
      if (calls < 4) throw new Error('transient');
      return 'ok';
    },
    { initialMs: 1, maxMs: 2 },
    { onRetry: (_e, attempt) => attempts.push(attempt) },
  );
  assert.equal(value, 'ok');
  assert.deepEqual(attempts, [1, 2, 3]);
});

test('a non-retriable error is rethrown at once', async () => {
  let calls = 0;
  const permanent = Object.assign(new Error('bad batch'), { retriable: false });
  await assert.rejects(
    retryForever(
      async () => {
        calls++;
        throw permanent;
      },
      { initialMs: 1, maxMs: 2 },
    ),
    permanent,
  );
  assert.equal(calls, 1);
});

test('shouldStop ends the retries with the last error', async () => {
  let calls = 0;
  await assert.rejects(
    retryForever(
      async () => {
        calls++;
        throw new Error(`failure ${calls}`);
      },
      { initialMs: 1, maxMs: 2 },
      { shouldStop: () => calls >= 3 },
    ),
    /failure 3/,
  );
});
