import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, test } from 'node:test';
import { metrics, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import { createLogger } from '../../../src/core/logger.ts';
import { HealthServer } from '../../../src/telemetry/health.ts';
import { ConsumerMetrics } from '../../../src/telemetry/metrics.ts';
import { startTelemetry, telemetrySettingsFromEnv } from '../../../src/telemetry/sdk.ts';
import { spanContextFromHeaders, traceOutgoingMessage } from '../../../src/telemetry/tracing.ts';

describe('telemetrySettingsFromEnv', () => {
  test('no endpoint: OTLP off for both signals, Prometheus on, defaults', () => {
    const s = telemetrySettingsFromEnv({});
    assert.equal(s.disabled, false);
    assert.equal(s.tracesUrl, undefined);
    assert.equal(s.metricsUrl, undefined);
    assert.equal(s.prometheus, true);
    assert.equal(s.serviceName, 'varstream');
    assert.equal(s.sampler, 'parentbased_always_on');
    assert.equal(s.metricExportIntervalMs, 60_000);
    assert.equal(s.linkCountLimit, 128);
    assert.deepEqual(s.warnings, []);
  });

  test('OTEL_EXPORTER_OTLP_ENDPOINT enables both signals with the signal paths; specific endpoints win', () => {
    const s = telemetrySettingsFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' });
    assert.equal(s.tracesUrl, 'http://collector:4318/v1/traces');
    assert.equal(s.metricsUrl, 'http://collector:4318/v1/metrics');
    const t = telemetrySettingsFromEnv({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://tempo:4318/custom',
    });
    assert.equal(t.tracesUrl, 'http://tempo:4318/custom');
    assert.equal(t.metricsUrl, 'http://collector:4318/v1/metrics');
    const m = telemetrySettingsFromEnv({
      OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'http://mimir:4318/otlp/v1/metrics',
    });
    assert.equal(m.tracesUrl, undefined);
    assert.equal(m.metricsUrl, 'http://mimir:4318/otlp/v1/metrics');
  });

  test('OTEL_*_EXPORTER select the exporters', () => {
    const endpoint = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' };
    assert.equal(
      telemetrySettingsFromEnv({ ...endpoint, OTEL_TRACES_EXPORTER: 'none' }).tracesUrl,
      undefined,
    );
    const otlpOnly = telemetrySettingsFromEnv({ ...endpoint, OTEL_METRICS_EXPORTER: 'otlp' });
    assert.equal(otlpOnly.prometheus, false);
    assert.ok(otlpOnly.metricsUrl);
    const promOnly = telemetrySettingsFromEnv({ ...endpoint, OTEL_METRICS_EXPORTER: 'prometheus' });
    assert.equal(promOnly.prometheus, true);
    assert.equal(promOnly.metricsUrl, undefined);
    const both = telemetrySettingsFromEnv({ ...endpoint, OTEL_METRICS_EXPORTER: 'otlp, prometheus' });
    assert.ok(both.prometheus && both.metricsUrl);
    const none = telemetrySettingsFromEnv({ ...endpoint, OTEL_METRICS_EXPORTER: 'none' });
    assert.ok(!none.prometheus && !none.metricsUrl);
  });

  test('sampler, resource, intervals; bad values are warnings, not failures', () => {
    const s = telemetrySettingsFromEnv({
      OTEL_SDK_DISABLED: 'TRUE',
      OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      OTEL_TRACES_SAMPLER_ARG: '0.25',
      OTEL_RESOURCE_ATTRIBUTES: 'service.name=from-attrs,deployment.environment.name=prod,team=gen%20omics',
      OTEL_METRIC_EXPORT_INTERVAL: '5000',
      OTEL_BSP_MAX_QUEUE_SIZE: '100',
      OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '500',
    });
    assert.equal(s.disabled, true);
    assert.equal(s.sampler, 'parentbased_traceidratio');
    assert.equal(s.samplerRatio, 0.25);
    assert.equal(s.serviceName, 'from-attrs');
    assert.equal(s.resourceAttributes.team, 'gen omics');
    assert.equal(s.metricExportIntervalMs, 5000);
    assert.equal(s.spanProcessor.maxExportBatchSize, 100, 'never above the queue');
    assert.equal(
      telemetrySettingsFromEnv({ OTEL_SERVICE_NAME: 'vs-1', OTEL_RESOURCE_ATTRIBUTES: 'service.name=x' })
        .serviceName,
      'vs-1',
    );
    const bad = telemetrySettingsFromEnv({
      OTEL_TRACES_SAMPLER: 'jaeger_remote',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'not a url',
      OTEL_METRIC_EXPORT_INTERVAL: 'soon',
      OTEL_TRACES_EXPORTER: 'zipkin',
    });
    assert.equal(bad.sampler, 'parentbased_always_on');
    assert.equal(bad.tracesUrl, undefined);
    assert.equal(bad.metricExportIntervalMs, 60_000);
    assert.equal(bad.warnings.length, 5, bad.warnings.join('\n'));
  });
});

describe('startTelemetry', () => {
  test('OTEL_SDK_DISABLED: nothing is registered, no /metrics', async () => {
    const telemetry = startTelemetry({ settings: telemetrySettingsFromEnv({ OTEL_SDK_DISABLED: 'true' }) });
    assert.equal(telemetry.enabled, false);
    assert.equal(telemetry.metricsHandler, undefined);
    const span = trace.getTracer('x').startSpan('nothing');
    assert.equal(span.isRecording(), false);
    assert.deepEqual(traceOutgoingMessage('t', {}), {});
    await telemetry.shutdown();
  });

  test('registers the globals (tracer, meter, context, propagation); /metrics serves; logs carry trace ids; shutdown unregisters', async () => {
    const spans = new InMemorySpanExporter();
    const lines: Record<string, unknown>[] = [];
    const logger = createLogger(
      'info',
      new Writable({
        write(chunk, _e, done) {
          for (const line of String(chunk).split('\n')) if (line) lines.push(JSON.parse(line));
          done();
        },
      }),
    );
    const telemetry = startTelemetry({
      settings: telemetrySettingsFromEnv({ OTEL_SERVICE_NAME: 'varstream-unit' }),
      serviceVersion: '0.0.0-test',
      logger,
      spanProcessors: [new SimpleSpanProcessor({ exporter: spans })],
    });
    try {
      assert.equal(telemetry.enabled, true);
      const started = lines.find((l) => l.msg === 'telemetry started');
      assert.deepEqual(
        { traces: started?.traces, metrics: started?.metrics, prometheus: started?.prometheus },
        { traces: 'off', metrics: 'off', prometheus: true },
      );

      // Producer side through the global API: a create span, its context in the header.
      const headers = traceOutgoingMessage('variants', { 'content-type': 'x' });
      const created = spans.getFinishedSpans().find((s) => s.name === 'create variants');
      assert.ok(created, 'the create span was recorded by the registered provider');
      assert.equal(spanContextFromHeaders(headers)?.spanId, created.spanContext().spanId);
      assert.equal(created.resource.attributes['service.name'], 'varstream-unit');
      assert.equal(created.resource.attributes['service.version'], '0.0.0-test');

      // Logs inside a span (the async-hooks context manager is registered).
      await trace.getTracer('varstream').startActiveSpan('work', async (span) => {
        await Promise.resolve();
        logger.info('inside');
        span.end();
      });
      assert.equal(typeof lines.find((l) => l.msg === 'inside')?.trace_id, 'string');

      // Metrics through the global meter, scraped on the health server's /metrics.
      const consumerMetrics = new ConsumerMetrics({ groupId: 'g' });
      consumerMetrics.messagesConsumed('variants', 0, 3);
      assert.ok(telemetry.metricsHandler);
      const health = new HealthServer({
        port: 0,
        host: '127.0.0.1',
        livenessTtlMs: 1_000,
        metrics: telemetry.metricsHandler,
      });
      const port = await health.start();
      try {
        const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
        assert.match(
          text,
          /^messaging_client_consumed_messages_total\{.*messaging_destination_name="variants".*\} 3$/m,
        );
        assert.match(text, /^process_memory_usage\{.*\} \d+$/m);
        assert.match(text, /^target_info\{.*service_name="varstream-unit".*\} 1$/m);
      } finally {
        await health.stop();
      }
    } finally {
      await telemetry.shutdown();
      await telemetry.shutdown();
    }
    assert.equal(trace.getTracer('x').startSpan('after').isRecording(), false, 'unregistered');
    assert.equal(metrics.getMeterProvider().constructor.name, 'NoopMeterProvider');
  });
});
