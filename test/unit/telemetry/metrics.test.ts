import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { adminOffsets } from '../../../src/consumers/kafka-offsets.ts';
import { HealthServer } from '../../../src/telemetry/health.ts';
import { LagPoller } from '../../../src/telemetry/lag-poller.ts';
import { METRIC_SPECS, prometheusName } from '../../../src/telemetry/metric-spec.ts';
import { ConsumerMetrics, timedCommits } from '../../../src/telemetry/metrics.ts';
import { ATTR } from '../../../src/telemetry/semconv.ts';
import { waitFor } from '../../helpers/wait.ts';
import { CollectingReader, histogramCount, points, total } from './harness.ts';

const GROUP = 'varstream-test';

function setup() {
  const reader = new CollectingReader();
  const provider = new MeterProvider({ readers: [reader] });
  const metrics = new ConsumerMetrics({
    groupId: GROUP,
    meter: provider.getMeter('varstream'),
    readRss: () => 123_456,
  });
  return { reader, provider, metrics };
}

describe('ConsumerMetrics', () => {
  test('counters carry the documented attributes and add up what was recorded', async () => {
    const { reader, metrics, provider } = setup();
    metrics.declarePipelines([{ topic: 'variants', sinks: ['lancedb', 'kuzu'] }]);
    metrics.messagesConsumed('variants', 0, 5);
    metrics.messagesConsumed('variants', 1, 2);
    metrics.messagesConsumed('variants', 1, 0);
    metrics.rowsWrittenBy('variants', 'lancedb', 7);
    metrics.deadLettered('variants', 'INVALID_JSON');
    metrics.deadLettered('variants', 'INVALID_JSON', 2);
    metrics.deadLettered('variants', 'MISSING_FIELD');
    metrics.sinkRetried('variants', 'kuzu');
    const m = await reader.metrics();

    const consumed = m.get('messaging.client.consumed.messages');
    assert.equal(total(consumed), 7);
    assert.equal(total(consumed, { [ATTR.PARTITION]: '1' }), 2);
    assert.deepEqual(points(consumed, { [ATTR.PARTITION]: '0' })[0]?.attributes, {
      [ATTR.SYSTEM_NAME]: 'kafka',
      [ATTR.CONSUMER_GROUP]: GROUP,
      [ATTR.DESTINATION]: 'variants',
      [ATTR.PARTITION]: '0',
      [ATTR.OPERATION_NAME]: 'poll',
    });
    const dead = m.get('varstream.dead_lettered.messages');
    assert.equal(total(dead, { [ATTR.DEAD_LETTER_CODE]: 'INVALID_JSON' }), 3);
    assert.equal(total(dead, { [ATTR.DEAD_LETTER_CODE]: 'MISSING_FIELD' }), 1);
    assert.equal(total(dead, { [ATTR.DEAD_LETTER_CODE]: 'SINK_REJECTED' }), 0, 'declared at 0');
    assert.equal(total(m.get('varstream.sink.written.rows'), { [ATTR.SINK]: 'lancedb' }), 7);
    assert.equal(points(m.get('varstream.sink.written.rows'), { [ATTR.SINK]: 'kuzu' }).length, 1, 'declared');
    assert.equal(total(m.get('varstream.sink.retries'), { [ATTR.SINK]: 'kuzu' }), 1);
    assert.equal(total(m.get('varstream.sink.retries'), { [ATTR.SINK]: 'dead-letter' }), 0);
    await provider.shutdown();
  });

  test('gauges: paused partitions per reason (0 or 1), memory, RSS, bytes held, lag; revoked partitions drop to 0', async () => {
    const { reader, metrics, provider } = setup();
    let assigned = [0, 1, 2];
    let lag = [{ topic: 'variants', partition: 2, lag: 42 }];
    metrics.observePaused(() => ({
      assigned: Object.entries({ variants: assigned }),
      paused: assigned.includes(1)
        ? [{ topic: 'variants', partition: 1, reasons: ['memory', 'sink-failure'] }]
        : [],
    }));
    metrics.observeMemory(() => ({
      level: 2,
      usedBytes: 900,
      limitBytes: 1000,
      thresholds: { warning: 700, critical: 850, emergency: 950 },
    }));
    metrics.observeHeldBytes(() => [
      { topic: 'variants', bytes: 4096 },
      { topic: 'embeddings', bytes: 0 },
    ]);
    metrics.observeLag(() => lag);
    let m = await reader.metrics();
    const paused = m.get('varstream.partition.paused');
    assert.equal(points(paused).length, 12, '3 partitions × 4 reasons');
    assert.equal(total(paused), 2);
    assert.equal(total(paused, { [ATTR.PARTITION]: '1', [ATTR.PAUSE_REASON]: 'memory' }), 1);
    assert.equal(total(paused, { [ATTR.PARTITION]: '1', [ATTR.PAUSE_REASON]: 'buffer-full' }), 0);
    assert.equal(total(paused, { [ATTR.PAUSE_REASON]: 'sink-failure' }), 1);
    assert.equal(total(m.get('varstream.memory.level')), 2);
    assert.equal(total(m.get('varstream.memory.used')), 900);
    assert.equal(total(m.get('varstream.memory.limit')), 1000);
    assert.equal(total(m.get('varstream.memory.threshold'), { [ATTR.MEMORY_LEVEL]: 'CRITICAL' }), 850);
    assert.equal(total(m.get('process.memory.usage')), 123_456);
    assert.equal(total(m.get('varstream.pipeline.held.size'), { [ATTR.DESTINATION]: 'variants' }), 4096);
    assert.equal(total(m.get('varstream.consumer.lag'), { [ATTR.PARTITION]: '2' }), 42);
    // A rebalance takes partitions 1 and 2 away: their series fall to 0 instead of keeping their
    // last value (the SDK exports every series an observable gauge ever reported).
    assigned = [0];
    lag = [];
    m = await reader.metrics();
    assert.equal(total(m.get('varstream.partition.paused')), 0);
    assert.equal(total(m.get('varstream.consumer.lag'), { [ATTR.PARTITION]: '2' }), 0);
    await provider.shutdown();
  });

  test('histograms: batches, sink writes and commit requests, with error.type on failure', async () => {
    const { reader, metrics, provider } = setup();
    metrics.batchProcessed({ topic: 'variants', messages: 100, bytes: 2048, seconds: 0.2 });
    metrics.batchProcessed({ topic: 'variants', messages: 3, bytes: 10, seconds: 1, error: new Error('x') });
    metrics.sinkWritten({ topic: 'variants', sink: 'kuzu', seconds: 0.1 });
    const committer = timedCommits(
      {
        commitOffsets: async (offsets) => {
          if (offsets[0]?.partition === 1)
            throw Object.assign(new Error('rebalancing'), { type: 'REBALANCE_IN_PROGRESS' });
        },
      },
      metrics,
    );
    await committer.commitOffsets([{ topic: 'variants', partition: 0, offset: '5' }]);
    await assert.rejects(committer.commitOffsets([{ topic: 'variants', partition: 1, offset: '5' }]));
    const m = await reader.metrics();
    const process = m.get('messaging.process.duration');
    assert.equal(histogramCount(process), 2);
    assert.equal(histogramCount(process, { [ATTR.ERROR_TYPE]: 'Error' }), 1);
    assert.equal(points(process)[0]?.attributes[ATTR.OPERATION_NAME], 'process');
    assert.equal(histogramCount(m.get('varstream.batch.messages')), 2);
    const sizes = points<{ sum?: number }>(m.get('varstream.batch.size'));
    assert.equal(sizes[0]?.value.sum, 2058);
    assert.equal(histogramCount(m.get('varstream.sink.write.duration'), { [ATTR.SINK]: 'kuzu' }), 1);
    const commits = m.get('messaging.client.operation.duration');
    assert.equal(histogramCount(commits, { [ATTR.OPERATION_NAME]: 'commit' }), 2);
    assert.equal(histogramCount(commits, { [ATTR.ERROR_TYPE]: 'REBALANCE_IN_PROGRESS' }), 1);
    await provider.shutdown();
  });
});

describe('LagPoller', () => {
  const ends = [
    { topic: 'variants', partition: 0, high: 100, low: 0 },
    { topic: 'variants', partition: 1, high: 50, low: 10 },
    { topic: 'variants', partition: 2, high: 70, low: 0 },
  ];

  test('lag = high watermark − committed offset (the group’s or this member’s, whichever is later; else the low watermark)', async () => {
    const poller = new LagPoller({
      endOffsets: async (topics) => ends.filter((e) => topics.includes(e.topic)),
      committedOffsets: async () => [
        { topic: 'variants', partition: 0, offset: 60 },
        { topic: 'variants', partition: 1, offset: -1 },
        { topic: 'variants', partition: 2, offset: 30 },
      ],
      positions: () => [
        { topic: 'variants', partition: 0, offset: 80 },
        { topic: 'variants', partition: 1, offset: undefined },
        { topic: 'variants', partition: 2, offset: 20 },
        { topic: 'variants', partition: 9, offset: 1 },
      ],
      intervalMs: 60_000,
    });
    await poller.poll();
    assert.deepEqual(poller.lags(), [
      { topic: 'variants', partition: 0, lag: 20 },
      { topic: 'variants', partition: 1, lag: 40 },
      { topic: 'variants', partition: 2, lag: 40 },
    ]);
    await poller.stop();
    assert.deepEqual(poller.lags(), []);
  });

  test('polls on its interval, one poll at a time; a hung poll times out and is reported; the last lags stay', async () => {
    let calls = 0;
    let hang = false;
    const errors: unknown[] = [];
    const poller = new LagPoller({
      endOffsets: async () => {
        calls++;
        if (hang) return new Promise<never>(() => undefined);
        return ends;
      },
      positions: () => [{ topic: 'variants', partition: 0, offset: 90 }],
      intervalMs: 20,
      timeoutMs: 30,
      onError: (error) => errors.push(error),
    });
    poller.start();
    await waitFor(() => calls >= 3, { timeoutMs: 5_000, message: 'three polls' });
    assert.deepEqual(poller.lags(), [{ topic: 'variants', partition: 0, lag: 10 }]);
    hang = true;
    await waitFor(() => errors.length > 0, { timeoutMs: 5_000, message: 'a timed-out poll' });
    assert.match(String(errors[0]), /timed out/);
    assert.deepEqual(poller.lags(), [{ topic: 'variants', partition: 0, lag: 10 }]);
    const lastSuccess = poller.lastSuccessAt;
    await waitFor(() => errors.length >= 2, { timeoutMs: 5_000, message: 'a second timed-out poll' });
    assert.equal(poller.lastSuccessAt, lastSuccess);
    await poller.stop();
    const after = calls;
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(calls, after, 'no poll after stop');
  });

  test('adminOffsets reads watermarks and the group’s offsets from a kafkajs admin', async () => {
    const admin = {
      fetchTopicOffsets: async (topic: string) =>
        [
          { partition: 0, offset: '100', high: '100', low: '3' },
          { partition: 1, offset: '7', high: '7', low: '0' },
        ].map((o) => ({ ...o, topic })),
      fetchOffsets: async ({ groupId, topics }: { groupId: string; topics?: string[] }) => {
        assert.equal(groupId, GROUP);
        return (topics ?? []).map((topic) => ({
          topic,
          partitions: [{ partition: 0, offset: '40', metadata: null }],
        }));
      },
    };
    const offsets = adminOffsets(admin as never, GROUP);
    assert.deepEqual(await offsets.endOffsets(['variants']), [
      { topic: 'variants', partition: 0, high: 100, low: 3 },
      { topic: 'variants', partition: 1, high: 7, low: 0 },
    ]);
    assert.deepEqual(await offsets.committedOffsets?.(['variants']), [
      { topic: 'variants', partition: 0, offset: 40 },
    ]);
  });
});

describe('Prometheus exposition', () => {
  const servers: HealthServer[] = [];
  after(async () => {
    for (const s of servers) await s.stop();
  });

  test('/metrics lists every metric of the spec under its documented Prometheus name', async () => {
    const exporter = new PrometheusExporter({ preventServerStart: true });
    const provider = new MeterProvider({ readers: [exporter] });
    const metrics = new ConsumerMetrics({ groupId: GROUP, meter: provider.getMeter('varstream') });
    metrics.declarePipelines([{ topic: 'variants', sinks: ['lancedb'] }]);
    metrics.messagesConsumed('variants', 0, 1);
    metrics.batchProcessed({ topic: 'variants', messages: 1, bytes: 1, seconds: 0.01 });
    metrics.sinkWritten({ topic: 'variants', sink: 'lancedb', seconds: 0.01 });
    metrics.commitFinished(0.01);
    metrics.observeLag(() => [{ topic: 'variants', partition: 0, lag: 0 }]);
    metrics.observePaused(() => ({ assigned: [['variants', [0]]], paused: [] }));
    metrics.observeMemory(() => ({
      level: 0,
      usedBytes: 1,
      limitBytes: 2,
      thresholds: { warning: 1, critical: 1, emergency: 1 },
    }));
    metrics.observeHeldBytes(() => [{ topic: 'variants', bytes: 0 }]);
    const server = new HealthServer({
      port: 0,
      host: '127.0.0.1',
      livenessTtlMs: 60_000,
      metrics: (req, res) => exporter.getMetricsRequestHandler(req, res),
    });
    servers.push(server);
    const port = await server.start();
    const response = await fetch(`http://127.0.0.1:${port}/metrics`);
    assert.equal(response.status, 200);
    const text = await response.text();
    const families = new Set([...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => `${m[1]} ${m[2]}`));
    for (const spec of Object.values(METRIC_SPECS)) {
      const name = prometheusName(spec);
      const type = spec.kind === 'gauge' ? 'gauge' : spec.kind;
      assert.ok(families.has(`${name} ${type}`), `${name} (${type}) on /metrics`);
      if (spec.kind === 'histogram') assert.match(text, new RegExp(`^${name}_bucket\\{`, 'm'));
    }
    assert.match(
      text,
      /varstream_dead_lettered_messages_total\{[^}]*varstream_dead_letter_code="INVALID_JSON"[^}]*\} 0/,
    );
    await provider.shutdown();
  });
});
