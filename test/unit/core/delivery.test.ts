/** The delivery values sinks return, and the errors they are reported as. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  deliver,
  deliveryError,
  deliveryOf,
  RecordRejectedError,
  SinkError,
} from '../../../src/core/sink.ts';

test('a thrown error stands for a delivery: rejection, fatal, suspect retry, and anything else a retry', () => {
  assert.equal(deliveryOf(new RecordRejectedError('s', 'bad value')).status, 'rejected');
  assert.equal(deliveryOf(new SinkError('s', 'no key column', false)).status, 'fatal');
  assert.deepEqual(
    (({ status, suspect }) => ({ status, suspect }))(
      deliveryOf(new SinkError('s', 'buffer pool is full', true, { suspect: true })) as {
        status: string;
        suspect?: boolean;
      },
    ),
    { status: 'retry', suspect: true },
  );
  const unknown = deliveryOf(new Error('socket hang up'));
  assert.equal(unknown.status, 'retry');
  assert.equal(unknown.status === 'retry' && unknown.reason, 'socket hang up');
  assert.equal(deliveryOf(Object.assign(new Error('x'), { retriable: false })).status, 'fatal');
});

test('a failed delivery is reported as a SinkError of its sink, with the same classification', () => {
  const rejected = deliveryError('kuzu', deliver.rejected('cannot convert'));
  assert.ok(rejected instanceof RecordRejectedError);
  assert.equal(rejected.message, 'kuzu: cannot convert');
  const retry = deliveryError('kuzu', deliver.retry('pool full', { suspect: true }));
  assert.equal(retry.retriable, true);
  assert.equal(retry.suspect, true);
  const fatal = deliveryError('lancedb', deliver.fatal('writeBatch before start'));
  assert.equal(fatal.retriable, false);
  assert.ok(!(fatal instanceof RecordRejectedError));
  const thrown = new SinkError('lancedb', 'merge failed', true);
  assert.equal(deliveryError('lancedb', deliveryOf(thrown) as never), thrown, 'a thrown SinkError is kept');
  assert.deepEqual(deliver.written(3), { status: 'written', written: 3 });
  assert.deepEqual(deliver.written(0, true), { status: 'written', written: 0, skipped: true });
});
