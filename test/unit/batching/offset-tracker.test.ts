import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OffsetTracker } from '../../../src/batching/offset-tracker.ts';

test('a single done range commits one past its last offset', () => {
  const t = new OffsetTracker();
  const r = t.open(0, 0, 9);
  assert.equal(t.complete(r), 10);
});

test('a later range done first commits nothing until the earlier one is done', () => {
  const t = new OffsetTracker();
  const a = t.open(0, 0, 9);
  const b = t.open(0, 10, 19);
  const c = t.open(0, 20, 29);
  assert.equal(t.complete(b), undefined);
  assert.equal(t.complete(c), undefined);
  assert.equal(t.complete(a), 30);
  assert.equal(t.pendingRanges(), 0);
});

test('partitions are independent', () => {
  const t = new OffsetTracker();
  const p0 = t.open(0, 0, 4);
  const p1 = t.open(1, 100, 104);
  assert.equal(t.complete(p1), 105);
  assert.equal(t.complete(p0), 5);
});

test('gaps in the offsets (compaction, transaction markers) do not block the watermark', () => {
  const t = new OffsetTracker();
  const a = t.open(0, 0, 3);
  const b = t.open(0, 7, 9);
  t.complete(a);
  assert.equal(t.complete(b), 10);
});

test('after a reset, completions of the old generation are ignored', () => {
  const t = new OffsetTracker();
  const old = t.open(0, 0, 9);
  t.reset(0);
  const fresh = t.open(0, 0, 4);
  assert.equal(t.complete(old), undefined);
  assert.equal(t.complete(fresh), 5);
});

test('ranges must arrive in order', () => {
  const t = new OffsetTracker();
  t.open(0, 10, 19);
  assert.throws(() => t.open(0, 5, 9), /out of order/);
  assert.throws(() => t.open(0, 19, 25), /out of order/);
  assert.throws(() => t.open(1, 5, 4), /out of order/);
});

test('completing a range twice does not move the watermark again', () => {
  const t = new OffsetTracker();
  const a = t.open(0, 0, 9);
  assert.equal(t.complete(a), 10);
  assert.equal(t.complete(a), undefined);
});
