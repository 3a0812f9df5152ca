/** In-memory OpenTelemetry SDK for the telemetry tests: spans to an array, metrics on demand. */
import type { Attributes } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  type DataPoint,
  type Histogram,
  MeterProvider,
  type MetricData,
  MetricReader,
} from '@opentelemetry/sdk-metrics';
import {
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
  TracerProvider,
} from '@opentelemetry/sdk-trace';

/** A reader collected on demand (no timer). */
export class CollectingReader extends MetricReader {
  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}

  /** The metrics of one collection, by name. */
  async metrics(): Promise<Map<string, MetricData>> {
    const { resourceMetrics, errors } = await this.collect();
    if (errors.length > 0) throw new AggregateError(errors, 'metric collection failed');
    const out = new Map<string, MetricData>();
    for (const scope of resourceMetrics.scopeMetrics)
      for (const m of scope.metrics) out.set(m.descriptor.name, m);
    return out;
  }
}

export interface Harness {
  spans: InMemorySpanExporter;
  tracerProvider: TracerProvider;
  meterProvider: MeterProvider;
  reader: CollectingReader;
  contextManager: AsyncLocalStorageContextManager;
  shutdown(): Promise<void>;
}

export function createHarness(): Harness {
  const spans = new InMemorySpanExporter();
  const tracerProvider = new TracerProvider({
    spanProcessors: [new SimpleSpanProcessor({ exporter: spans })],
  });
  const reader = new CollectingReader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  const contextManager = new AsyncLocalStorageContextManager().enable();
  return {
    spans,
    tracerProvider,
    meterProvider,
    reader,
    contextManager,
    shutdown: async () => {
      contextManager.disable();
      await Promise.all([tracerProvider.shutdown(), meterProvider.shutdown()]);
    },
  };
}

export function spanNamed(spans: readonly ReadableSpan[], name: string): ReadableSpan {
  const found = spans.filter((s) => s.name === name);
  if (found.length !== 1)
    throw new Error(
      `expected one span "${name}", found ${found.length}: ${spans.map((s) => s.name).join(', ')}`,
    );
  return found[0] as ReadableSpan;
}

function matches(attributes: Attributes, filter: Attributes): boolean {
  return Object.entries(filter).every(([k, v]) => attributes[k] === v);
}

/** Data points of `metric` whose attributes include `filter`. */
export function points<T>(metric: MetricData | undefined, filter: Attributes = {}): DataPoint<T>[] {
  if (!metric) return [];
  return (metric.dataPoints as DataPoint<T>[]).filter((p) => matches(p.attributes, filter));
}

/** Sum of a counter's (or gauge's) values over the points matching `filter`. */
export function total(metric: MetricData | undefined, filter: Attributes = {}): number {
  return points<number>(metric, filter).reduce((n, p) => n + p.value, 0);
}

/** Histogram count over the points matching `filter`. */
export function histogramCount(metric: MetricData | undefined, filter: Attributes = {}): number {
  return points<Histogram>(metric, filter).reduce((n, p) => n + p.value.count, 0);
}
