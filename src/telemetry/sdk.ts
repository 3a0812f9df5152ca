/**
 * The OpenTelemetry SDK, wired once by the entry point (library code uses @opentelemetry/api only).
 *
 * Configured by the standard OTEL_* environment variables (docs/telemetry.md, "Configuration"):
 * - OTEL_SDK_DISABLED=true: nothing is registered; the API stays a no-op; /metrics answers 404.
 * - Traces go over OTLP/HTTP protobuf when an endpoint is set (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT,
 *   else OTEL_EXPORTER_OTLP_ENDPOINT + /v1/traces) and OTEL_TRACES_EXPORTER (default otlp) does
 *   not exclude it. No endpoint: spans are not exported (and, with no exporter, not recorded).
 * - Metrics likewise over OTLP (…_METRICS_ENDPOINT, or …_ENDPOINT + /v1/metrics) every
 *   OTEL_METRIC_EXPORT_INTERVAL ms, and always to the Prometheus handler served on the health
 *   server's /metrics, unless OTEL_METRICS_EXPORTER is set and lists neither `prometheus`.
 * - OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG, OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES,
 *   OTEL_BSP_*, OTEL_METRIC_EXPORT_TIMEOUT, OTEL_LOG_LEVEL (the SDK's own diagnostics, logged
 *   through our logger). The exporters read OTEL_EXPORTER_OTLP_{,TRACES_,METRICS_}HEADERS,
 *   _TIMEOUT, _COMPRESSION and the certificate variables from the process environment themselves.
 * - Only the http/protobuf protocol is built in; OTEL_EXPORTER_OTLP_PROTOCOL naming another one is
 *   reported as a warning and http/protobuf is used.
 *
 * Long file: the OTEL_* environment contract (exporters, samplers, resource) is parsed and
 * validated here in one place, as docs/telemetry.md lists it.
 */
import { hostname } from 'node:os';
import { context, DiagLogLevel, diag, metrics, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  CompositePropagator,
  diagLogLevelFromString,
  W3CBaggagePropagator,
  W3CTraceContextPropagator,
} from '@opentelemetry/core';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import { type IMetricReader, MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  type Sampler,
  type SpanProcessor,
  TraceIdRatioBasedSampler,
  TracerProvider,
} from '@opentelemetry/sdk-trace';
import type { Logger } from '../core/logger.ts';
import type { MetricsHandler } from './health.ts';
import { DEFAULT_MAX_LINKS } from './tracing.ts';

export const SAMPLERS = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
] as const;
export type SamplerName = (typeof SAMPLERS)[number];

/** What startTelemetry() does, decided from the environment by telemetrySettingsFromEnv(). */
export interface TelemetrySettings {
  disabled: boolean;
  serviceName: string;
  resourceAttributes: Record<string, string>;
  /** OTLP/HTTP protobuf URL of traces; undefined: traces are not exported. */
  tracesUrl: string | undefined;
  /** OTLP/HTTP protobuf URL of metrics; undefined: metrics are not pushed. */
  metricsUrl: string | undefined;
  prometheus: boolean;
  sampler: SamplerName;
  samplerRatio: number;
  metricExportIntervalMs: number;
  metricExportTimeoutMs: number;
  spanProcessor: {
    scheduledDelayMillis: number;
    maxQueueSize: number;
    maxExportBatchSize: number;
    exportTimeoutMillis: number;
  };
  /** Links allowed per span (at least varstream's own maximum per batch). */
  linkCountLimit: number;
  diagLogLevel: DiagLogLevel;
  /** Environment values that were ignored, and why. */
  warnings: string[];
}

type Env = Readonly<Record<string, string | undefined>>;

/** Reads the OTEL_* variables (the rules are in this module's comment and docs/telemetry.md). */
export function telemetrySettingsFromEnv(
  env: Env = process.env,
  defaults: { serviceName?: string } = {},
): TelemetrySettings {
  const warnings: string[] = [];
  const str = (name: string) => {
    const v = env[name]?.trim();
    return v === undefined || v === '' ? undefined : v;
  };
  const num = (name: string, fallback: number, min = 0) => {
    const raw = str(name);
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isFinite(n) || n < min) {
      warnings.push(`${name}=${raw}: expected a number >= ${min}; using ${fallback}`);
      return fallback;
    }
    return n;
  };
  const list = (name: string) =>
    str(name)
      ?.split(',')
      .map((s) => s.trim().toLowerCase())
      .filter((s) => s.length > 0);

  const disabled = str('OTEL_SDK_DISABLED')?.toLowerCase() === 'true';

  for (const name of [
    'OTEL_EXPORTER_OTLP_PROTOCOL',
    'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL',
    'OTEL_EXPORTER_OTLP_METRICS_PROTOCOL',
  ]) {
    const protocol = str(name);
    if (protocol !== undefined && protocol !== 'http/protobuf')
      warnings.push(`${name}=${protocol}: only http/protobuf is supported; using it`);
  }

  const tracesExporters = list('OTEL_TRACES_EXPORTER') ?? ['otlp'];
  const metricsExporters = list('OTEL_METRICS_EXPORTER');
  for (const e of tracesExporters)
    if (e !== 'otlp' && e !== 'none') warnings.push(`OTEL_TRACES_EXPORTER: "${e}" is not supported`);
  for (const e of metricsExporters ?? [])
    if (e !== 'otlp' && e !== 'prometheus' && e !== 'none')
      warnings.push(`OTEL_METRICS_EXPORTER: "${e}" is not supported`);

  const url = (signal: 'TRACES' | 'METRICS', path: string) => {
    const specific = str(`OTEL_EXPORTER_OTLP_${signal}_ENDPOINT`);
    const general = str('OTEL_EXPORTER_OTLP_ENDPOINT');
    const chosen = specific ?? (general ? `${general.replace(/\/+$/, '')}/${path}` : undefined);
    if (chosen === undefined) return undefined;
    try {
      return new URL(chosen).toString();
    } catch {
      warnings.push(
        `${specific ? `OTEL_EXPORTER_OTLP_${signal}_ENDPOINT` : 'OTEL_EXPORTER_OTLP_ENDPOINT'}=${chosen}: not a URL; OTLP ${signal.toLowerCase()} are off`,
      );
      return undefined;
    }
  };
  const tracesUrl = tracesExporters.includes('otlp') ? url('TRACES', 'v1/traces') : undefined;
  const metricsUrl = (metricsExporters ?? ['otlp']).includes('otlp')
    ? url('METRICS', 'v1/metrics')
    : undefined;
  const prometheus = metricsExporters === undefined || metricsExporters.includes('prometheus');

  let sampler: SamplerName = 'parentbased_always_on';
  const samplerRaw = str('OTEL_TRACES_SAMPLER')?.toLowerCase();
  if (samplerRaw !== undefined) {
    if ((SAMPLERS as readonly string[]).includes(samplerRaw)) sampler = samplerRaw as SamplerName;
    else
      warnings.push(
        `OTEL_TRACES_SAMPLER=${samplerRaw}: expected one of ${SAMPLERS.join(', ')}; using ${sampler}`,
      );
  }
  let samplerRatio = 1;
  if (sampler.endsWith('traceidratio')) {
    samplerRatio = num('OTEL_TRACES_SAMPLER_ARG', 1, 0);
    if (samplerRatio > 1) {
      warnings.push(`OTEL_TRACES_SAMPLER_ARG=${samplerRatio}: expected a ratio in [0, 1]; using 1`);
      samplerRatio = 1;
    }
  }

  const resourceAttributes = parseResourceAttributes(str('OTEL_RESOURCE_ATTRIBUTES'), warnings);
  const serviceName =
    str('OTEL_SERVICE_NAME') ?? resourceAttributes['service.name'] ?? defaults.serviceName ?? 'varstream';

  const maxQueueSize = num('OTEL_BSP_MAX_QUEUE_SIZE', 2048, 1);
  let maxExportBatchSize = num('OTEL_BSP_MAX_EXPORT_BATCH_SIZE', 512, 1);
  if (maxExportBatchSize > maxQueueSize) maxExportBatchSize = maxQueueSize;

  const logLevelRaw = str('OTEL_LOG_LEVEL');
  return {
    disabled,
    serviceName,
    resourceAttributes,
    tracesUrl,
    metricsUrl,
    prometheus,
    sampler,
    samplerRatio,
    metricExportIntervalMs: num('OTEL_METRIC_EXPORT_INTERVAL', 60_000, 1),
    metricExportTimeoutMs: num('OTEL_METRIC_EXPORT_TIMEOUT', 30_000, 1),
    spanProcessor: {
      scheduledDelayMillis: num('OTEL_BSP_SCHEDULE_DELAY', 5_000, 0),
      maxQueueSize,
      maxExportBatchSize,
      exportTimeoutMillis: num('OTEL_BSP_EXPORT_TIMEOUT', 30_000, 1),
    },
    linkCountLimit: Math.max(DEFAULT_MAX_LINKS, num('OTEL_SPAN_LINK_COUNT_LIMIT', DEFAULT_MAX_LINKS, 0)),
    diagLogLevel:
      (logLevelRaw ? diagLogLevelFromString(logLevelRaw.toUpperCase()) : undefined) ?? DiagLogLevel.WARN,
    warnings,
  };
}

/** `key1=value1,key2=value2`, values percent-decoded (the OTEL_RESOURCE_ATTRIBUTES format). */
function parseResourceAttributes(raw: string | undefined, warnings: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  if (!raw) return out;
  for (const pair of raw.split(',')) {
    if (pair.trim() === '') continue;
    const at = pair.indexOf('=');
    const key = at > 0 ? pair.slice(0, at).trim() : '';
    if (!key) {
      warnings.push(`OTEL_RESOURCE_ATTRIBUTES: "${pair}" is not key=value; ignored`);
      continue;
    }
    try {
      out[key] = decodeURIComponent(pair.slice(at + 1).trim());
    } catch {
      warnings.push(`OTEL_RESOURCE_ATTRIBUTES: "${pair}" is not percent-encoded correctly; ignored`);
    }
  }
  return out;
}

export interface StartTelemetryOptions {
  /** Default: telemetrySettingsFromEnv(process.env). */
  settings?: TelemetrySettings;
  /** service.version of the resource. */
  serviceVersion?: string;
  /** Receives the SDK's diagnostics and the start-up summary. */
  logger?: Logger;
  /** Overrides settings.prometheus (one-shot CLIs have no /metrics to serve). */
  prometheus?: boolean;
  /** More span processors and metric readers (tests: in-memory exporters). */
  spanProcessors?: SpanProcessor[];
  metricReaders?: IMetricReader[];
}

export interface Telemetry {
  readonly enabled: boolean;
  readonly settings: TelemetrySettings;
  /** Serves the Prometheus text on the health server's /metrics; undefined when off. */
  readonly metricsHandler: MetricsHandler | undefined;
  readonly tracerProvider: TracerProvider | undefined;
  readonly meterProvider: MeterProvider | undefined;
  /** Exports whatever is buffered now (spans and a metrics collection). */
  forceFlush(): Promise<void>;
  /** Flushes, stops the exporters and unregisters the global providers. Safe twice. */
  shutdown(): Promise<void>;
}

/**
 * Registers the SDK as the global tracer provider, meter provider, context manager (async
 * hooks) and propagator (W3C trace context and baggage). Call once, before creating
 * ConsumerMetrics or anything else that takes a meter.
 */
export function startTelemetry(options: StartTelemetryOptions = {}): Telemetry {
  const settings = options.settings ?? telemetrySettingsFromEnv();
  const log = options.logger?.child({ component: 'telemetry' });
  for (const warning of settings.warnings) log?.warn({ warning }, 'telemetry setting ignored');
  if (settings.disabled) {
    log?.info('telemetry disabled (OTEL_SDK_DISABLED)');
    return {
      enabled: false,
      settings,
      metricsHandler: undefined,
      tracerProvider: undefined,
      meterProvider: undefined,
      forceFlush: async () => undefined,
      shutdown: async () => undefined,
    };
  }
  if (log)
    diag.setLogger(diagToLogger(log), { logLevel: settings.diagLogLevel, suppressOverrideMessage: true });

  const resource = defaultResource().merge(
    resourceFromAttributes({
      'service.instance.id': `${hostname()}-${process.pid}`,
      ...settings.resourceAttributes,
      'service.name': settings.serviceName,
      ...(options.serviceVersion ? { 'service.version': options.serviceVersion } : {}),
    }),
  );

  const spanProcessors: SpanProcessor[] = [...(options.spanProcessors ?? [])];
  if (settings.tracesUrl)
    spanProcessors.push(
      new BatchSpanProcessor({
        exporter: new OTLPTraceExporter({ url: settings.tracesUrl }),
        ...settings.spanProcessor,
      }),
    );
  const tracerProvider = new TracerProvider({
    resource,
    // Nothing would receive the spans: record none (contexts stay valid, so traceparent still flows).
    sampler: spanProcessors.length === 0 ? new AlwaysOffSampler() : buildSampler(settings),
    spanProcessors,
    spanLimits: { linkCountLimit: settings.linkCountLimit },
  });

  const readers: IMetricReader[] = [...(options.metricReaders ?? [])];
  let prometheus: PrometheusExporter | undefined;
  if (options.prometheus ?? settings.prometheus) {
    prometheus = new PrometheusExporter({ preventServerStart: true });
    readers.push(prometheus);
  }
  if (settings.metricsUrl)
    readers.push(
      new PeriodicExportingMetricReader({
        exporter: new OTLPMetricExporter({ url: settings.metricsUrl }),
        exportIntervalMillis: settings.metricExportIntervalMs,
        exportTimeoutMillis: Math.min(settings.metricExportTimeoutMs, settings.metricExportIntervalMs),
      }),
    );
  const meterProvider = new MeterProvider({ resource, readers });

  const contextManager = new AsyncLocalStorageContextManager().enable();
  const registered = {
    context: context.setGlobalContextManager(contextManager),
    propagation: propagation.setGlobalPropagator(
      new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }),
    ),
    trace: trace.setGlobalTracerProvider(tracerProvider),
    metrics: metrics.setGlobalMeterProvider(meterProvider),
  };
  for (const [api, ok] of Object.entries(registered))
    if (!ok) log?.warn({ api }, 'a global OpenTelemetry provider was already registered; ours is not used');

  log?.info(
    {
      serviceName: settings.serviceName,
      traces: settings.tracesUrl ?? 'off',
      metrics: settings.metricsUrl ?? 'off',
      prometheus: prometheus !== undefined,
      sampler: settings.sampler,
    },
    'telemetry started',
  );

  let stopped: Promise<void> | undefined;
  return {
    enabled: true,
    settings,
    metricsHandler: prometheus ? (req, res) => prometheus.getMetricsRequestHandler(req, res) : undefined,
    tracerProvider,
    meterProvider,
    forceFlush: async () => {
      await Promise.all([tracerProvider.forceFlush(), meterProvider.forceFlush()]);
    },
    shutdown: () => {
      stopped ??= (async () => {
        const results = await Promise.allSettled([tracerProvider.shutdown(), meterProvider.shutdown()]);
        for (const r of results)
          if (r.status === 'rejected') log?.warn({ err: r.reason }, 'telemetry shutdown failed');
        if (registered.trace) trace.disable();
        if (registered.metrics) metrics.disable();
        if (registered.propagation) propagation.disable();
        if (registered.context) context.disable();
        contextManager.disable();
        if (log) diag.disable();
      })();
      return stopped;
    },
  };
}

function buildSampler(settings: TelemetrySettings): Sampler {
  const ratio = () => new TraceIdRatioBasedSampler(settings.samplerRatio);
  switch (settings.sampler) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return ratio();
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: ratio() });
    default:
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
  }
}

function diagToLogger(log: Logger) {
  const write =
    (level: 'error' | 'warn' | 'info' | 'debug' | 'trace') =>
    (message: string, ...args: unknown[]) =>
      log[level]({ source: 'opentelemetry', args: args.length > 0 ? args.map(String) : undefined }, message);
  return {
    error: write('error'),
    warn: write('warn'),
    info: write('info'),
    debug: write('debug'),
    verbose: write('trace'),
  };
}
