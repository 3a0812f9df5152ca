/**
 * Proves, on the real broker and real stores:
 * - a produced message with a `traceparent` is carried by a `process <topic>` span linked to it,
 *   whose children are the sink writes and the commit; the counters match what was produced
 *   (messages consumed, rows written, dead letters by code);
 * - /healthz turns unhealthy when the consume loop is stalled on purpose, and healthy again;
 * - `varstream consume` serves /readyz and a /metrics page holding every metric of the spec
 *   (docs/telemetry.md), with the dead letters counted by code.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { SpanContext } from '@opentelemetry/api';
import type { Message } from 'kafkajs';
import { isolatedEnv, MeasuredConsumer } from '../../src/bench/child-process.ts';
import { variantMessages } from '../../src/chaos/ledger.ts';
import { loadConfig } from '../../src/config/index.ts';
import { createKafka } from '../../src/consumers/kafka-client.ts';
import { PipelineConsumer } from '../../src/consumers/pipeline-consumer.ts';
import { ensureTopics } from '../../src/consumers/topics.ts';
import { configuredPipelines } from '../../src/pipelines/index.ts';
import { HealthServer } from '../../src/telemetry/health.ts';
import { METRIC_SPECS, prometheusName } from '../../src/telemetry/metric-spec.ts';
import { ConsumerMetrics } from '../../src/telemetry/metrics.ts';
import { BatchTracer, formatTraceparent } from '../../src/telemetry/tracing.ts';
import { ensureBroker, silentLogger, testConfig, testKafka, waitUntilCaughtUp } from '../helpers/kafka.ts';
import { freePort } from '../helpers/net.ts';
import { waitFor } from '../helpers/wait.ts';
import { createHarness } from '../unit/telemetry/harness.ts';

before(() => {
  process.env.KAFKA_BROKERS = ensureBroker();
});

const harness = createHarness();
after(() => harness.shutdown());

function producerContext(i: number): SpanContext {
  const hex = (n: number, width: number) => n.toString(16).padStart(width, '0');
  return { traceId: `${hex(0xabc, 24)}${hex(i + 1, 8)}`, spanId: hex(i + 1, 16), traceFlags: 1 };
}

async function produce(config: ReturnType<typeof loadConfig>, valid: number, invalid: number, from = 1) {
  const kafka = testKafka();
  const producer = kafka.producer();
  await producer.connect();
  const messages: Message[] = variantMessages(config.topics.variants, 'otel', from, valid).map(
    ({ message }, i) => ({
      ...message,
      headers: { ...(message.headers as object), traceparent: formatTraceparent(producerContext(i)) },
    }),
  );
  for (let i = 0; i < invalid; i++)
    messages.push({
      key: `bad-${from}-${i}`,
      value: '{not json',
      headers: { 'content-type': 'application/json' },
    });
  await producer.send({ topic: config.topics.variants, messages });
  await producer.disconnect();
}

async function get(port: number, path: string): Promise<{ status: number; body: string }> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: response.status, body: await response.text() };
}

test('a traced message is linked from its batch span, with sink-write and commit children; counters match; a stalled loop fails /healthz', async () => {
  const config = testConfig({ pipelines: ['variants'] });
  const { groupId } = config.kafka;
  const metrics = new ConsumerMetrics({ groupId, meter: harness.meterProvider.getMeter('varstream') });
  const tracing = new BatchTracer({
    groupId,
    deadLetterTopic: config.topics.deadLetter,
    tracer: harness.tracerProvider.getTracer('varstream'),
  });
  const health = new HealthServer({ port: 0, host: '127.0.0.1', livenessTtlMs: 1_500, logger: silentLogger });
  const port = await health.start();
  let stall: Promise<void> | undefined;
  let release = () => {};
  const kafka = createKafka(config, silentLogger);
  await ensureTopics(kafka, config);
  const consumer = new PipelineConsumer({
    kafka,
    config,
    logger: silentLogger,
    pipelines: configuredPipelines(config, silentLogger),
    telemetry: { metrics, tracing, health },
    beforeBatch: () => stall ?? Promise.resolve(),
  });
  try {
    await produce(config, 20, 3);
    await consumer.start();
    await waitUntilCaughtUp(kafka, config);

    // The batch span carrying message 0 links to its producer's span context.
    const wanted = producerContext(0);
    const spans = await waitFor(
      () => {
        const all = harness.spans.getFinishedSpans();
        const batch = all.find(
          (s) =>
            s.name === `process ${config.topics.variants}` &&
            s.links.some((l) => l.context.traceId === wanted.traceId),
        );
        const children = all.filter((s) => s.parentSpanContext?.spanId === batch?.spanContext().spanId);
        const names = new Set(children.map((s) => s.name));
        return batch && names.has(`commit ${config.topics.variants}`) ? { batch, names } : undefined;
      },
      { timeoutMs: 30_000, message: 'the batch span of message 0 and its commit child' },
    );
    const link = spans.batch.links.find((l) => l.context.traceId === wanted.traceId);
    assert.equal(link?.context.spanId, wanted.spanId);
    for (const name of ['write lancedb', 'write kuzu', `commit ${config.topics.variants}`])
      assert.ok(spans.names.has(name), `child ${name} of the batch span (have ${[...spans.names]})`);

    const collected = await harness.reader.metrics();
    const sum = (name: string, match: Record<string, string> = {}) =>
      (collected.get(name)?.dataPoints ?? [])
        .filter((p) => Object.entries(match).every(([k, v]) => p.attributes[k] === v))
        .reduce((n, p) => n + (p.value as number), 0);
    assert.equal(sum(METRIC_SPECS.consumed.name), 23);
    assert.equal(sum(METRIC_SPECS.deadLettered.name, { 'varstream.dead_letter.code': 'INVALID_JSON' }), 3);
    assert.equal(sum(METRIC_SPECS.deadLettered.name), 3);
    assert.equal(sum(METRIC_SPECS.rowsWritten.name, { 'varstream.sink.name': 'lancedb' }), 20);

    assert.equal((await get(port, '/healthz')).status, 200);
    assert.equal((await get(port, '/readyz')).status, 200);
    // Stall the consume loop: the next fetched batch never returns to kafkajs.
    stall = new Promise((resolve) => {
      release = resolve;
    });
    await produce(config, 1, 0, 1000);
    const unhealthy = await waitFor(
      async () => {
        const r = await get(port, '/healthz');
        return r.status === 503 ? r : undefined;
      },
      { timeoutMs: 20_000, message: '/healthz to fail while the loop is stalled' },
    );
    assert.match(unhealthy.body, /consume/);
    stall = undefined;
    release();
    await waitFor(async () => (await get(port, '/healthz')).status === 200, {
      timeoutMs: 20_000,
      message: '/healthz to recover once the loop runs again',
    });
  } finally {
    release();
    await consumer.stop();
    await health.stop();
  }
});

test('varstream consume serves /readyz and a /metrics page with every metric of the spec', async () => {
  const port = await freePort();
  const id = `otel-${Date.now().toString(36)}`;
  const env = isolatedEnv(id, mkdtempSync(join(tmpdir(), 'varstream-otel-')), {
    VARSTREAM_PIPELINES: 'variants',
    VARSTREAM_BATCH_LINGER_MS: '100',
    VARSTREAM_HTTP_PORT: String(port),
    VARSTREAM_HTTP_HOST: '127.0.0.1',
    VARSTREAM_LAG_INTERVAL_MS: '500',
    VARSTREAM_MEMORY_LIMIT: '1Gi',
  });
  const config = loadConfig({ env });
  await ensureTopics(createKafka(config, silentLogger), config);
  await produce(config, 50, 4);
  const child = new MeasuredConsumer(env);
  try {
    await child.waitCaughtUp(testKafka(), config.kafka.groupId, config.topics.variants, 90_000);
    await waitFor(async () => (await get(port, '/readyz')).status === 200, {
      timeoutMs: 10_000,
      message: '/readyz 200',
    });
    const names = Object.values(METRIC_SPECS).map((spec) => prometheusName(spec));
    const page = await waitFor(
      async () => {
        const { body } = await get(port, '/metrics');
        return names.every((n) => body.includes(`\n${n}`) || body.startsWith(n)) ? body : undefined;
      },
      { timeoutMs: 20_000, message: `every spec metric on /metrics: ${names.join(', ')}` },
    );
    const deadLetters = page
      .split('\n')
      .find(
        (l) => l.startsWith(prometheusName(METRIC_SPECS.deadLettered)) && l.includes('code="INVALID_JSON"'),
      );
    assert.match(deadLetters ?? '', / 4$/, `INVALID_JSON counted 4 times: ${deadLetters}`);
  } finally {
    assert.equal((await child.stop()).exitCode, 0);
  }
});
