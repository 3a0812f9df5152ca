import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import {
  context,
  propagation,
  ROOT_CONTEXT,
  type SpanContext,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import type { IHeaders } from 'kafkajs';
import { BatchMetrics } from '../../../src/telemetry/batch-metrics.ts';
import { type BatchInstruments, combineInstruments } from '../../../src/telemetry/instruments.ts';
import { ConsumerMetrics } from '../../../src/telemetry/metrics.ts';
import { ATTR } from '../../../src/telemetry/semconv.ts';
import {
  BatchTracer,
  formatTraceparent,
  injectTraceContext,
  LinkCollector,
  parseTraceparent,
  spanContextFromHeaders,
  traceOutgoingMessage,
} from '../../../src/telemetry/tracing.ts';
import { createHarness, type Harness, histogramCount, spanNamed, total } from './harness.ts';

const TOPIC = 'variants';
const GROUP = 'varstream-test';

describe('traceparent parsing', () => {
  const w3c = new W3CTraceContextPropagator();
  const viaCore = (value: string): SpanContext | undefined => {
    const ctx = w3c.extract(
      ROOT_CONTEXT,
      { traceparent: value },
      {
        get: (carrier, key) => (carrier as Record<string, string>)[key],
        keys: (carrier) => Object.keys(carrier as object),
      },
    );
    return trace.getSpanContext(ctx);
  };
  const cases = [
    '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00',
    ' 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01 ',
    '01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-extra',
    'ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-extra',
    '00-00000000000000000000000000000000-b7ad6b7169203331-01',
    '00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01',
    '00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01',
    '00-0af7651916cd43dd8448eb211c80319c-b7ad6b716920333-01',
    'garbage',
    '',
  ];
  for (const value of cases) {
    test(`agrees with the W3C propagator of @opentelemetry/core: ${JSON.stringify(value)}`, () => {
      const ours = parseTraceparent(value);
      const theirs = viaCore(value);
      assert.deepEqual(
        ours && { traceId: ours.traceId, spanId: ours.spanId, traceFlags: ours.traceFlags },
        theirs && { traceId: theirs.traceId, spanId: theirs.spanId, traceFlags: theirs.traceFlags },
      );
    });
  }

  test('round-trips through format, with tracestate, from string or Buffer headers', () => {
    const value = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const parsed = spanContextFromHeaders({
      traceparent: Buffer.from(value),
      tracestate: 'vendor=abc,other=1',
    });
    assert.ok(parsed);
    assert.equal(formatTraceparent(parsed), value);
    assert.equal(parsed.isRemote, true);
    assert.equal(parsed.traceState?.get('vendor'), 'abc');
    assert.equal(spanContextFromHeaders({ traceparent: [value, 'other'] })?.spanId, 'b7ad6b7169203331');
    assert.equal(spanContextFromHeaders({}), undefined);
    assert.equal(spanContextFromHeaders(undefined), undefined);
  });
});

describe('LinkCollector', () => {
  const header = (i: number) => ({
    traceparent: `00-${(i + 1).toString(16).padStart(32, '0')}-${(i + 1).toString(16).padStart(16, '0')}-01`,
  });

  test('dedupes contexts, keeps the first message of each, and is bounded', () => {
    const links = new LinkCollector(3);
    links.addMessages([
      { headers: header(0), partition: 0, offset: 10 },
      { headers: header(0), partition: 0, offset: 11 },
      { headers: {}, partition: 0, offset: 12 },
      { headers: { traceparent: 'not one' }, partition: 0, offset: 13 },
      { headers: header(1), partition: 1, offset: 5 },
      { headers: header(2), partition: 1, offset: 6 },
      { headers: header(3), partition: 1, offset: 7 },
      { headers: header(4), partition: 1, offset: 8 },
      { headers: header(1), partition: 1, offset: 9 },
    ]);
    assert.equal(links.size, 3);
    assert.equal(links.dropped, 2);
    const [first] = links.links;
    assert.deepEqual(first?.attributes, { [ATTR.PARTITION]: '0', [ATTR.KAFKA_OFFSET]: 10 });
    assert.equal(first?.context.traceId, '00000000000000000000000000000001');
  });
});

describe('without an SDK', () => {
  test('producer headers are returned unchanged: nothing to inject', () => {
    const headers: IHeaders = { 'content-type': 'application/json' };
    assert.equal(traceOutgoingMessage(TOPIC, headers), headers);
    assert.equal(injectTraceContext(headers), headers);
  });
});

describe('batch spans', () => {
  let h: Harness;
  let metrics: ConsumerMetrics;
  let tracer: BatchTracer;
  let batches: BatchInstruments;

  before(() => {
    h = createHarness();
    context.setGlobalContextManager(h.contextManager);
  });
  after(async () => {
    context.disable();
    propagation.disable();
    await h.shutdown();
  });
  afterEach(() => h.spans.reset());

  const fresh = () => {
    metrics = new ConsumerMetrics({ groupId: GROUP, meter: h.meterProvider.getMeter('varstream') });
    metrics.declarePipelines([{ topic: TOPIC, sinks: ['lancedb', 'kuzu'] }]);
    tracer = new BatchTracer({
      groupId: GROUP,
      deadLetterTopic: 'dead-letter',
      tracer: h.tracerProvider.getTracer('varstream'),
    });
    // Spans and metrics, two observers of the same batch points, as the consumer combines them.
    batches = combineInstruments(tracer, new BatchMetrics(metrics)) as BatchInstruments;
  };

  test('a produced message with a traceparent leads to a batch span linked to it, with sink-write, dead-letter and commit children; metrics match', async () => {
    fresh();
    const producer = h.tracerProvider.getTracer('producer');
    const base = { 'content-type': 'application/vnd.varstream.variant.v1+json' };
    const produced = traceOutgoingMessage(TOPIC, base, producer);
    const rejectedHeaders = traceOutgoingMessage(TOPIC, base, producer);
    assert.notEqual(produced, base, 'a copy with traceparent');
    assert.deepEqual(Object.keys(base), ['content-type'], 'the shared headers are not mutated');
    const create = h.spans.getFinishedSpans().filter((s) => s.name === `create ${TOPIC}`);
    assert.equal(create.length, 2);
    assert.equal(create[0]?.kind, SpanKind.PRODUCER);
    const producedContext = create[0]?.spanContext() as SpanContext;
    assert.equal(produced.traceparent, formatTraceparent(producedContext));
    h.spans.reset();

    // The batch: offsets 10..13 of partition 0; 10 and 11 carry the same context, 12 none, 13 is a
    // dead letter with its own.
    const messages = [
      { headers: produced, partition: 0, offset: 10 },
      { headers: produced, partition: 0, offset: 11 },
      { headers: base, partition: 0, offset: 12 },
      { headers: rejectedHeaders, partition: 0, offset: 13 },
    ];
    const links = new LinkCollector().addMessages(messages);
    const batch = batches.startBatch({
      topic: TOPIC,
      id: 7,
      ranges: [{ partition: 0, first: 10, last: 13 }],
      messages: 4,
      bytes: 400,
      deadLetters: 1,
      links,
    });
    let activeInSink: string | undefined;
    await batch.writeSink('lancedb', async () => {
      activeInSink = trace.getActiveSpan()?.spanContext().spanId;
      return { written: 3 };
    });
    await batch.writeSink('kuzu', async () => {
      batch.retry('kuzu', 1, 200, Object.assign(new Error('store busy'), { code: 'EBUSY' }));
      return { written: 6, skipped: false };
    });
    await batch.publishDeadLetters([{ code: 'INVALID_JSON' }], async () => undefined);
    batch.end();

    let spans = h.spans.getFinishedSpans();
    const process = spanNamed(spans, `process ${TOPIC}`);
    assert.equal(process.kind, SpanKind.CONSUMER);
    assert.equal(process.parentSpanContext, undefined, 'the batch span is a root');
    assert.equal(process.status.code, SpanStatusCode.OK);
    assert.equal(process.attributes[ATTR.SYSTEM_NAME], 'kafka');
    assert.equal(process.attributes[ATTR.SYSTEM_LEGACY], 'kafka');
    assert.equal(process.attributes[ATTR.DESTINATION], TOPIC);
    assert.equal(process.attributes[ATTR.CONSUMER_GROUP], GROUP);
    assert.equal(process.attributes[ATTR.OPERATION_NAME], 'process');
    assert.equal(process.attributes[ATTR.BATCH_MESSAGE_COUNT], 4);
    assert.equal(process.attributes[ATTR.PARTITION], '0');
    assert.equal(process.attributes[ATTR.BATCH_RANGES], '0:10-13');
    assert.deepEqual(process.attributes[ATTR.BATCH_FIRST_OFFSETS], [10]);
    assert.deepEqual(process.attributes[ATTR.BATCH_LAST_OFFSETS], [13]);
    assert.equal(process.attributes[ATTR.BATCH_BYTES], 400);

    assert.equal(process.links.length, 2, 'one link per distinct producer context');
    const link = process.links.find((l) => l.context.spanId === producedContext.spanId);
    assert.ok(link, 'the batch span links to the produced message');
    assert.equal(link.context.traceId, producedContext.traceId);
    assert.deepEqual(link.attributes, { [ATTR.PARTITION]: '0', [ATTR.KAFKA_OFFSET]: 10 });

    const processId = process.spanContext().spanId;
    const lance = spanNamed(spans, 'write lancedb');
    const kuzu = spanNamed(spans, 'write kuzu');
    const dlq = spanNamed(spans, 'send dead-letter');
    for (const child of [lance, kuzu, dlq]) {
      assert.equal(child.parentSpanContext?.spanId, processId, `${child.name} is a child of the batch`);
      assert.equal(child.spanContext().traceId, process.spanContext().traceId);
    }
    assert.equal(activeInSink, lance.spanContext().spanId, 'the sink span is active inside the write');
    assert.equal(lance.attributes[ATTR.SINK_ROWS], 3);
    assert.equal(lance.attributes[ATTR.SINK_ATTEMPTS], 1);
    assert.equal(kuzu.attributes[ATTR.SINK_ROWS], 6);
    assert.equal(kuzu.attributes[ATTR.SINK_ATTEMPTS], 2);
    assert.equal(kuzu.events[0]?.name, 'retry');
    assert.equal(kuzu.events[0]?.attributes?.[ATTR.ERROR_TYPE], 'EBUSY');
    assert.equal(dlq.kind, SpanKind.PRODUCER);
    assert.equal(dlq.attributes[ATTR.DESTINATION], 'dead-letter');
    assert.equal(dlq.attributes[ATTR.BATCH_MESSAGE_COUNT], 1);

    // The commit span waits for the consumer's commit covering offset 13.
    assert.equal(spans.filter((s) => s.name === `commit ${TOPIC}`).length, 0);
    assert.equal(tracer.pendingCommits, 1);
    tracer.committed(TOPIC, 0, 13);
    assert.equal(tracer.pendingCommits, 1, 'a commit below the batch end does not cover it');
    tracer.committed(TOPIC, 1, 500);
    tracer.committed(TOPIC, 0, 14);
    assert.equal(tracer.pendingCommits, 0);
    spans = h.spans.getFinishedSpans();
    const commit = spanNamed(spans, `commit ${TOPIC}`);
    assert.equal(commit.parentSpanContext?.spanId, processId);
    assert.equal(commit.kind, SpanKind.CLIENT);
    assert.equal(commit.status.code, SpanStatusCode.OK);
    assert.equal(commit.attributes[ATTR.OPERATION_TYPE], 'settle');
    assert.equal(commit.attributes[ATTR.COMMIT_OFFSETS], '0:14');

    const m = await h.reader.metrics();
    const sink = (name: string) => ({ [ATTR.DESTINATION]: TOPIC, [ATTR.SINK]: name });
    assert.equal(total(m.get('varstream.sink.written.rows'), sink('lancedb')), 3);
    assert.equal(total(m.get('varstream.sink.written.rows'), sink('kuzu')), 6);
    assert.equal(total(m.get('varstream.sink.retries'), sink('kuzu')), 1);
    assert.equal(total(m.get('varstream.sink.retries'), sink('lancedb')), 0);
    assert.equal(
      total(m.get('varstream.dead_lettered.messages'), { [ATTR.DEAD_LETTER_CODE]: 'INVALID_JSON' }),
      1,
    );
    assert.equal(
      total(m.get('varstream.dead_lettered.messages'), { [ATTR.DEAD_LETTER_CODE]: 'EMPTY_VALUE' }),
      0,
    );
    assert.equal(total(m.get('varstream.dead_lettered.messages')), 1);
    assert.equal(histogramCount(m.get('messaging.process.duration'), { [ATTR.DESTINATION]: TOPIC }), 1);
    assert.equal(histogramCount(m.get('varstream.sink.write.duration'), sink('kuzu')), 1);
    assert.equal(histogramCount(m.get('varstream.batch.messages')), 1);
    assert.equal(histogramCount(m.get('varstream.batch.size')), 1);
  });

  test('a commit seen before the batch ended closes its commit span at once', async () => {
    fresh();
    tracer.committed(TOPIC, 2, 101);
    const batch = batches.startBatch({
      topic: TOPIC,
      id: 1,
      ranges: [{ partition: 2, first: 90, last: 100 }],
      messages: 11,
      bytes: 1,
      deadLetters: 0,
    });
    batch.end();
    assert.equal(tracer.pendingCommits, 0);
    assert.equal(spanNamed(h.spans.getFinishedSpans(), `commit ${TOPIC}`).status.code, SpanStatusCode.OK);
  });

  test('a batch over two partitions is committed when both are', () => {
    fresh();
    const batch = batches.startBatch({
      topic: TOPIC,
      id: 2,
      ranges: [
        { partition: 0, first: 0, last: 9 },
        { partition: 1, first: 5, last: 6 },
      ],
      messages: 12,
      bytes: 1,
      deadLetters: 0,
    });
    batch.end();
    tracer.committed(TOPIC, 0, 10);
    assert.equal(tracer.pendingCommits, 1);
    tracer.committed(TOPIC, 1, 7);
    assert.equal(tracer.pendingCommits, 0);
    const process = spanNamed(h.spans.getFinishedSpans(), `process ${TOPIC}`);
    assert.equal(process.attributes[ATTR.PARTITION], undefined);
    assert.deepEqual(process.attributes[ATTR.BATCH_PARTITIONS], [0, 1]);
    assert.equal(process.attributes[ATTR.BATCH_RANGES], '0:0-9,1:5-6');
  });

  test('a rebalance ends pending commit spans with an error', () => {
    fresh();
    tracer
      .startBatch({
        topic: TOPIC,
        id: 3,
        ranges: [{ partition: 0, first: 0, last: 0 }],
        messages: 1,
        bytes: 1,
        deadLetters: 0,
      })
      .end();
    tracer.rebalanced();
    assert.equal(tracer.pendingCommits, 0);
    const commit = spanNamed(h.spans.getFinishedSpans(), `commit ${TOPIC}`);
    assert.equal(commit.status.code, SpanStatusCode.ERROR);
    assert.equal(commit.attributes[ATTR.ERROR_TYPE], 'rebalance');
    // The old generation's committed offsets are forgotten.
    h.spans.reset();
    tracer
      .startBatch({
        topic: TOPIC,
        id: 4,
        ranges: [{ partition: 0, first: 0, last: 0 }],
        messages: 1,
        bytes: 1,
        deadLetters: 0,
      })
      .end();
    assert.equal(tracer.pendingCommits, 1);
    tracer.close();
    assert.equal(
      spanNamed(h.spans.getFinishedSpans(), `commit ${TOPIC}`).attributes[ATTR.ERROR_TYPE],
      'stopped',
    );
  });

  test('pending commit spans are bounded', () => {
    metrics = new ConsumerMetrics({ groupId: GROUP, meter: h.meterProvider.getMeter('varstream') });
    tracer = new BatchTracer({
      groupId: GROUP,
      deadLetterTopic: 'dead-letter',
      tracer: h.tracerProvider.getTracer('varstream'),
      maxPendingCommits: 2,
    });
    for (let i = 0; i < 5; i++)
      tracer
        .startBatch({
          topic: TOPIC,
          id: i,
          ranges: [{ partition: 0, first: i, last: i }],
          messages: 1,
          bytes: 1,
          deadLetters: 0,
        })
        .end();
    assert.equal(tracer.pendingCommits, 2);
    const untracked = h.spans.getFinishedSpans().filter((s) => s.attributes[ATTR.ERROR_TYPE] === 'untracked');
    assert.equal(untracked.length, 3);
    tracer.committed(TOPIC, 0, 5);
    assert.equal(tracer.pendingCommits, 0);
  });

  test('a failed sink write and an abandoned batch end with errors and are recorded as such', async () => {
    fresh();
    const batch = batches.startBatch({
      topic: TOPIC,
      id: 9,
      ranges: [{ partition: 0, first: 0, last: 4 }],
      messages: 5,
      bytes: 50,
      deadLetters: 0,
    });
    const failure = Object.assign(new Error('table is gone'), { name: 'SinkError' });
    await assert.rejects(
      batch.writeSink('lancedb', async () => Promise.reject(failure)),
      failure,
    );
    batch.fail(failure);
    assert.equal(tracer.pendingCommits, 0, 'an abandoned batch waits for no commit');
    const spans = h.spans.getFinishedSpans();
    const write = spanNamed(spans, 'write lancedb');
    assert.equal(write.status.code, SpanStatusCode.ERROR);
    assert.equal(write.attributes[ATTR.ERROR_TYPE], 'SinkError');
    assert.equal(write.events[0]?.name, 'exception');
    const process = spanNamed(spans, `process ${TOPIC}`);
    assert.equal(process.status.code, SpanStatusCode.ERROR);
    const m = await h.reader.metrics();
    assert.equal(histogramCount(m.get('messaging.process.duration'), { [ATTR.ERROR_TYPE]: 'SinkError' }), 1);
    assert.equal(
      histogramCount(m.get('varstream.sink.write.duration'), { [ATTR.ERROR_TYPE]: 'SinkError' }),
      1,
    );
  });

  test('links are capped at the collector maximum and the overflow is an attribute', () => {
    fresh();
    const links = new LinkCollector(2);
    for (let i = 1; i <= 5; i++)
      links.addFromHeaders(
        { traceparent: `00-${String(i).padStart(32, 'a')}-${String(i).padStart(16, 'b')}-01` },
        0,
        i,
      );
    tracer
      .startBatch({
        topic: TOPIC,
        id: 10,
        ranges: [{ partition: 0, first: 1, last: 5 }],
        messages: 5,
        bytes: 1,
        deadLetters: 0,
        links,
      })
      .fail(new Error('x'));
    const process = spanNamed(h.spans.getFinishedSpans(), `process ${TOPIC}`);
    assert.equal(process.links.length, 2);
    assert.equal(process.attributes[ATTR.BATCH_LINKS_DROPPED], 3);
  });

  test('the producer span is a child of the active span, and its context is what is injected', () => {
    const producer = h.tracerProvider.getTracer('producer');
    const parent = producer.startSpan('produce file');
    const headers = context.with(trace.setSpan(context.active(), parent), () =>
      traceOutgoingMessage(TOPIC, {}, producer),
    );
    parent.end();
    const create = spanNamed(h.spans.getFinishedSpans(), `create ${TOPIC}`);
    assert.equal(create.parentSpanContext?.spanId, parent.spanContext().spanId);
    assert.equal(spanContextFromHeaders(headers)?.spanId, create.spanContext().spanId);
  });
});
