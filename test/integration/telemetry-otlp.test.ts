/**
 * End to end through the real exporters: startTelemetry(), configured only by OTEL_* environment
 * variables, exports OTLP/HTTP protobuf to a receiver this test starts on the loopback interface;
 * spans and metrics emitted through varstream's telemetry modules arrive, decoded, with their
 * names, parents, links and values. No Kafka needed.
 */

import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, test } from 'node:test';
import { createLogger } from '../../src/core/logger.ts';
import { BatchMetrics } from '../../src/telemetry/batch-metrics.ts';
import { HealthServer } from '../../src/telemetry/health.ts';
import { type BatchInstruments, combineInstruments } from '../../src/telemetry/instruments.ts';
import { METRIC_SPECS, prometheusName } from '../../src/telemetry/metric-spec.ts';
import { ConsumerMetrics, timedCommits } from '../../src/telemetry/metrics.ts';
import { startTelemetry, type Telemetry } from '../../src/telemetry/sdk.ts';
import { ATTR } from '../../src/telemetry/semconv.ts';
import { BatchTracer, LinkCollector, traceOutgoingMessage } from '../../src/telemetry/tracing.ts';
import { waitFor } from '../helpers/wait.ts';
import { OtlpReceiver } from '../unit/telemetry/otlp-receiver.ts';

const TOPIC = 'variants';
const GROUP = 'varstream-otlp-e2e';

const receiver = new OtlpReceiver();
let telemetry: Telemetry;
const logLines: Record<string, unknown>[] = [];

before(async () => {
  const endpoint = await receiver.start();
  Object.assign(process.env, {
    OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
    OTEL_SERVICE_NAME: 'varstream-e2e',
    OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=test',
    // Long intervals: only forceFlush() exports, so the test decides when.
    OTEL_METRIC_EXPORT_INTERVAL: '600000',
    OTEL_BSP_SCHEDULE_DELAY: '600000',
  });
  const logger = createLogger(
    'info',
    new Writable({
      write(chunk, _e, done) {
        for (const line of String(chunk).split('\n')) if (line) logLines.push(JSON.parse(line));
        done();
      },
    }),
  );
  telemetry = startTelemetry({ logger, serviceVersion: '0.1.0' });
});

after(async () => {
  await telemetry?.shutdown();
  await receiver.stop();
});

test('spans and metrics reach an OTLP/HTTP receiver, configured by OTEL_* variables only', async () => {
  const started = logLines.find((l) => l.msg === 'telemetry started');
  assert.equal(started?.traces, `${process.env.OTEL_EXPORTER_OTLP_ENDPOINT}/v1/traces`);
  assert.equal(started?.metrics, `${process.env.OTEL_EXPORTER_OTLP_ENDPOINT}/v1/metrics`);

  // Producer: two messages, each with its create span's traceparent.
  const first = traceOutgoingMessage(TOPIC, { 'content-type': 'application/json' });
  const second = traceOutgoingMessage(TOPIC, { 'content-type': 'application/json' });

  // Consumer: one batch of both (the second dead-lettered), two sinks, a retry, a commit.
  const metrics = new ConsumerMetrics({ groupId: GROUP });
  metrics.declarePipelines([{ topic: TOPIC, sinks: ['lancedb', 'kuzu'] }]);
  metrics.messagesConsumed(TOPIC, 0, 2);
  metrics.observeLag(() => [{ topic: TOPIC, partition: 0, lag: 5 }]);
  metrics.observePaused(() => ({
    assigned: [[TOPIC, [0, 1]]],
    paused: [{ topic: TOPIC, partition: 1, reasons: ['buffer-full'] }],
  }));
  metrics.observeMemory(() => ({
    level: 1,
    usedBytes: 700,
    limitBytes: 1000,
    thresholds: { warning: 700, critical: 850, emergency: 950 },
  }));
  metrics.observeHeldBytes(() => [{ topic: TOPIC, bytes: 2048 }]);
  const tracer = new BatchTracer({ groupId: GROUP, deadLetterTopic: 'dead-letter' });
  // Spans and metrics, two observers of the same batch points, as the consumer combines them.
  const batches = combineInstruments(tracer, new BatchMetrics(metrics)) as BatchInstruments;
  const batch = batches.startBatch({
    topic: TOPIC,
    id: 1,
    ranges: [{ partition: 0, first: 0, last: 1 }],
    messages: 2,
    bytes: 300,
    deadLetters: 1,
    links: new LinkCollector().addMessages([
      { headers: first, partition: 0, offset: 0 },
      { headers: second, partition: 0, offset: 1 },
    ]),
  });
  await batch.writeSink('lancedb', async () => ({ written: 1 }));
  await batch.writeSink('kuzu', async () => {
    batch.retry('kuzu', 1, 100, new Error('busy'));
    return { written: 3 };
  });
  await batch.publishDeadLetters([{ code: 'MISSING_FIELD' }], async () => undefined);
  batch.end();
  const commits = timedCommits({ commitOffsets: async () => undefined }, metrics);
  await commits.commitOffsets([{ topic: TOPIC, partition: 0, offset: '2' }]);
  tracer.committed(TOPIC, 0, 2);

  // Prometheus and OTLP side by side: /metrics on the health server.
  const health = new HealthServer({
    port: 0,
    host: '127.0.0.1',
    livenessTtlMs: 60_000,
    metrics: telemetry.metricsHandler,
  });
  const port = await health.start();
  const scraped = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  await health.stop();
  for (const spec of Object.values(METRIC_SPECS))
    assert.match(scraped, new RegExp(`^# TYPE ${prometheusName(spec)} `, 'm'), `${spec.name} on /metrics`);

  await telemetry.forceFlush();

  const names = [
    'create variants',
    'process variants',
    'write lancedb',
    'write kuzu',
    'send dead-letter',
    'commit variants',
  ];
  await waitFor(() => names.every((n) => receiver.spans.some((s) => s.name === n)), {
    timeoutMs: 10_000,
    message: `spans ${names.join(', ')} at the receiver`,
  });
  assert.ok(receiver.requests.every((r) => r.contentType === 'application/x-protobuf'));
  const span = (name: string) =>
    receiver.spans.find((s) => s.name === name) as (typeof receiver.spans)[number];
  const batchSpan = span('process variants');
  const creates = receiver.spans.filter((s) => s.name === 'create variants');
  assert.equal(creates.length, 2);
  assert.deepEqual(
    batchSpan.links.map((l) => l.spanId).sort(),
    creates.map((c) => c.spanId).sort(),
    'the batch span links to both produced messages',
  );
  const linkToSecond = batchSpan.links.find((l) => l.spanId === creates[1]?.spanId);
  assert.deepEqual(linkToSecond?.attributes, { [ATTR.PARTITION]: '0', [ATTR.KAFKA_OFFSET]: 1 });
  for (const child of ['write lancedb', 'write kuzu', 'send dead-letter', 'commit variants']) {
    assert.equal(span(child).parentSpanId, batchSpan.spanId, `${child} is a child of the batch`);
    assert.equal(span(child).traceId, batchSpan.traceId);
  }
  assert.equal(batchSpan.attributes[ATTR.SYSTEM_NAME], 'kafka');
  assert.equal(batchSpan.attributes[ATTR.BATCH_MESSAGE_COUNT], 2);
  assert.deepEqual(batchSpan.attributes[ATTR.BATCH_LAST_OFFSETS], [1]);
  assert.equal(span('write kuzu').attributes[ATTR.SINK_ROWS], 3);
  assert.equal(batchSpan.resource['service.name'], 'varstream-e2e');
  assert.equal(batchSpan.resource['service.version'], '0.1.0');
  assert.equal(batchSpan.resource['deployment.environment.name'], 'test');
  assert.equal(batchSpan.scope, 'varstream');

  await waitFor(() => Object.values(METRIC_SPECS).every((s) => receiver.latest(s.name)), {
    timeoutMs: 10_000,
    message: 'every metric of the spec at the receiver',
  });
  for (const spec of Object.values(METRIC_SPECS)) {
    const got = receiver.latest(spec.name);
    assert.equal(got?.unit, spec.unit, `${spec.name} unit`);
    const type = { counter: 'sum', histogram: 'histogram', gauge: 'gauge' }[spec.kind];
    assert.equal(got?.type, type, `${spec.name} type`);
  }
  const value = (name: string, filter: Record<string, string>) =>
    receiver
      .latest(name)
      ?.points.filter((p) => Object.entries(filter).every(([k, v]) => p.attributes[k] === v))
      .reduce((n, p) => n + (p.value ?? p.count ?? 0), 0);
  assert.equal(value('varstream.dead_lettered.messages', { [ATTR.DEAD_LETTER_CODE]: 'MISSING_FIELD' }), 1);
  assert.equal(value('varstream.dead_lettered.messages', { [ATTR.DEAD_LETTER_CODE]: 'INVALID_JSON' }), 0);
  assert.equal(value('varstream.sink.written.rows', { [ATTR.SINK]: 'kuzu' }), 3);
  assert.equal(value('varstream.sink.retries', { [ATTR.SINK]: 'kuzu' }), 1);
  assert.equal(value('messaging.client.consumed.messages', { [ATTR.PARTITION]: '0' }), 2);
  assert.equal(value('messaging.process.duration', { [ATTR.DESTINATION]: TOPIC }), 1);
  assert.equal(value('messaging.client.operation.duration', { [ATTR.OPERATION_NAME]: 'commit' }), 1);
  assert.equal(
    value('varstream.partition.paused', { [ATTR.PARTITION]: '1', [ATTR.PAUSE_REASON]: 'buffer-full' }),
    1,
  );
  assert.equal(value('varstream.consumer.lag', { [ATTR.PARTITION]: '0' }), 5);
  assert.equal(value('varstream.memory.level', {}), 1);
  assert.equal(receiver.latest('messaging.client.consumed.messages')?.monotonic, true);
});
