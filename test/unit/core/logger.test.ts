import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, test } from 'node:test';
import { context, type SpanContext } from '@opentelemetry/api';
import { createLogger } from '../../../src/core/logger.ts';
import { createHarness, type Harness } from '../telemetry/harness.ts';

let h: Harness;
before(() => {
  h = createHarness();
  context.setGlobalContextManager(h.contextManager);
});
after(async () => {
  context.disable();
  await h.shutdown();
});

function capture() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n')) if (line) lines.push(JSON.parse(line));
      done();
    },
  });
  return { lines, stream };
}

test('every line written inside a span carries its trace and span ids; lines outside carry none', async () => {
  const { lines, stream } = capture();
  const logger = createLogger('debug', stream);
  const child = logger.child({ component: 'consumer' });
  const tracer = h.tracerProvider.getTracer('test');
  logger.info('outside');
  let spanContext: SpanContext | undefined;
  await tracer.startActiveSpan('batch', async (span) => {
    spanContext = span.spanContext();
    child.warn({ sink: 'kuzu' }, 'inside');
    await new Promise((resolve) => setImmediate(resolve));
    logger.debug('after an await');
    span.end();
  });
  logger.info('outside again');
  assert.equal(lines.length, 4);
  const [outside, inside, afterAwait, outsideAgain] = lines;
  assert.equal(outside?.trace_id, undefined);
  assert.equal(outsideAgain?.span_id, undefined);
  assert.ok(spanContext);
  for (const line of [inside, afterAwait]) {
    assert.equal(line?.trace_id, spanContext.traceId);
    assert.equal(line?.span_id, spanContext.spanId);
    assert.equal(line?.trace_flags, '01');
  }
  assert.equal(inside?.component, 'consumer');
  assert.equal(inside?.sink, 'kuzu');
  assert.equal(inside?.service, 'varstream');
  assert.equal(typeof inside?.time, 'string');
});

test('the level comes from the argument (LOG_LEVEL by default)', () => {
  const { lines, stream } = capture();
  const logger = createLogger('warn', stream);
  logger.info('dropped');
  logger.warn('kept');
  assert.deepEqual(
    lines.map((l) => l.msg),
    ['kept'],
  );
});
