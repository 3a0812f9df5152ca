/**
 * Batch metrics are their own observer of the micro-batcher: recorded with no tracer at all (before,
 * metrics passed without a tracer silently recorded no sink counters), and the same when combined
 * with the spans.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { MicroBatcher } from '../../../src/batching/micro-batcher.ts';
import { OffsetTracker } from '../../../src/batching/offset-tracker.ts';
import { deliver } from '../../../src/core/sink.ts';
import { BatchMetrics } from '../../../src/telemetry/batch-metrics.ts';
import { ConsumerMetrics } from '../../../src/telemetry/metrics.ts';
import { ATTR } from '../../../src/telemetry/semconv.ts';
import { createHarness, histogramCount, total } from './harness.ts';

const h = createHarness();
after(() => h.shutdown());

class Items {
  readonly items: number[] = [];
  add(n: number) {
    this.items.push(n);
  }
}

test('with metrics and no tracer, sink rows, write durations, dead letters and batches are recorded', async () => {
  const metrics = new ConsumerMetrics({ groupId: 'g', meter: h.meterProvider.getMeter('batch-metrics') });
  metrics.declarePipelines([{ topic: 't', sinks: ['s'] }]);
  const batcher = new MicroBatcher<Items, number>({
    topic: 't',
    limits: { maxRows: 3, maxBytes: 1000, lingerMs: 60_000, maxInFlight: 1 },
    newPayload: () => new Items(),
    decode: (m) => Number(m.value?.toString()),
    sinks: [
      {
        name: 's',
        start: async () => {},
        close: async () => {},
        writeBatch: async (b) => deliver.written(b.payload.items.length),
      },
    ],
    deadLetters: { publish: async () => {} },
    tracker: new OffsetTracker(),
    retry: { initialMs: 1, maxMs: 5 },
    events: { onPause: () => {}, onCommittable: () => {} },
    instruments: new BatchMetrics(metrics),
  });
  const held = (offset: number) => ({
    partition: 0,
    offset,
    timestamp: '0',
    key: null,
    value: Buffer.from('1'),
    headers: {},
  });
  batcher.addDecoded(held(0), 10, 1);
  batcher.addDecoded(held(1), 10, 2);
  batcher.addDeadLetter({ ...held(2), topic: 't', code: 'INVALID_JSON', reason: 'x' }, 10);
  await batcher.drain();
  const m = await h.reader.metrics();
  const sink = { [ATTR.DESTINATION]: 't', [ATTR.SINK]: 's' };
  assert.equal(total(m.get('varstream.sink.written.rows'), sink), 2);
  assert.equal(histogramCount(m.get('varstream.sink.write.duration'), sink), 1);
  assert.equal(
    total(m.get('varstream.dead_lettered.messages'), { [ATTR.DEAD_LETTER_CODE]: 'INVALID_JSON' }),
    1,
  );
  assert.equal(histogramCount(m.get('messaging.process.duration')), 1);
});
