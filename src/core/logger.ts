/**
 * Structured JSON logs (pino). One root logger per process; components take children of it.
 * Every line written while a valid span is active carries `trace_id`, `span_id` and `trace_flags`
 * (the OpenTelemetry log data model's field names), so logs join traces.
 */
import { isSpanContextValid, trace } from '@opentelemetry/api';
import { pino } from 'pino';

export type Logger = pino.Logger;

/**
 * The trace fields of the active span (none outside a span, or with no SDK registered). Always a
 * fresh object: pino writes the line's own fields into what the mixin returns.
 */
export function traceFields(): Record<string, string> {
  const span = trace.getActiveSpan();
  if (!span) return {};
  const spanContext = span.spanContext();
  if (!isSpanContextValid(spanContext)) return {};
  return {
    trace_id: spanContext.traceId,
    span_id: spanContext.spanId,
    trace_flags: (spanContext.traceFlags & 0xff).toString(16).padStart(2, '0'),
  };
}

/** `destination` replaces stdout (tests). */
export function createLogger(
  level: string = process.env.LOG_LEVEL ?? 'info',
  destination?: pino.DestinationStream,
): Logger {
  const options: pino.LoggerOptions = {
    level,
    base: { service: 'varstream' },
    timestamp: pino.stdTimeFunctions.isoTime,
    mixin: traceFields,
  };
  return destination ? pino(options, destination) : pino(options);
}

/** A logger writing to stderr: for commands whose stdout is their answer (`status`, `dlq`). */
export function stderrLogger(level: string = process.env.LOG_LEVEL ?? 'warn'): Logger {
  return createLogger(level, pino.destination(2));
}
