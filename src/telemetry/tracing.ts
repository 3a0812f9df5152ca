/**
 * Traces, on the OpenTelemetry API only (the SDK is wired in the entry point).
 *
 * - Producer side: traceOutgoingMessage() starts a `create <topic>` span per message and puts its
 *   context in the message's `traceparent` (and `tracestate`) header. Without an SDK it does
 *   nothing and costs one no-op call.
 * - Consumer side: each message's `traceparent` is parsed into a span context and collected, per
 *   batch, by a LinkCollector (deduplicated, at most `max` links). BatchTracer.startBatch() starts
 *   the batch's `process <topic>` span with those links; the returned BatchTrace runs each sink
 *   write (`write <sink>`) and the dead-letter publish (`send <dead-letter topic>`) as children,
 *   and on end() opens a `commit <topic>` child that ends when the consumer reports a commit
 *   covering the batch's last offsets. With a ConsumerMetrics, the same calls record the batch,
 *   sink-write, rows, retry and dead-letter metrics, so spans and metrics cannot disagree.
 *
 * Long file: producer spans, link collection and the batch/commit span lifecycle share one context
 * model; each part is small and tested in tracing.test.ts.
 */
import {
  type Attributes,
  type Context,
  context,
  createTraceState,
  isSpanContextValid,
  type Link,
  ROOT_CONTEXT,
  type Span,
  type SpanContext,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import type { MessageHeaders as IHeaders } from '../core/messages.ts';
import type { BatchRange } from '../core/sink.ts';
import type { BatchInstruments, BatchObserver, BatchStart } from './instruments.ts';
import { DEAD_LETTER_SINK } from './metrics.ts';
import { ATTR, errorType, MESSAGING_SYSTEM, SCOPE_NAME, SPAN_NAMES } from './semconv.ts';

export const TRACEPARENT_HEADER = 'traceparent';
export const TRACESTATE_HEADER = 'tracestate';
/** Links per batch span unless configured otherwise (the SDK's default link limit is also 128). */
export const DEFAULT_MAX_LINKS = 128;

let defaultTracer: Tracer | undefined;
function tracerOrDefault(tracer: Tracer | undefined): Tracer {
  if (tracer) return tracer;
  // A ProxyTracer: it delegates to whichever provider is registered later.
  defaultTracer ??= trace.getTracer(SCOPE_NAME);
  return defaultTracer;
}

// ---------------------------------------------------------------------------------------------
// W3C Trace Context (level 1) in Kafka headers

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const ZERO_TRACE = '0'.repeat(32);
const ZERO_SPAN = '0'.repeat(16);

/** Parses a `traceparent` value (W3C Trace Context); undefined when it is not a valid one. */
export function parseTraceparent(value: string, tracestate?: string): SpanContext | undefined {
  const match = TRACEPARENT.exec(value.trim());
  if (!match) return undefined;
  const [, version, traceId, spanId, flags, rest] = match as unknown as [
    string,
    string,
    string,
    string,
    string,
    string | undefined,
  ];
  // Version ff is forbidden; version 00 has nothing after the flags; later versions may.
  if (version === 'ff' || (version === '00' && rest !== undefined)) return undefined;
  if (traceId === ZERO_TRACE || spanId === ZERO_SPAN) return undefined;
  return {
    traceId,
    spanId,
    traceFlags: Number.parseInt(flags, 16),
    isRemote: true,
    ...(tracestate ? { traceState: createTraceState(tracestate) } : {}),
  };
}

/** The `traceparent` value of a span context. */
export function formatTraceparent(spanContext: SpanContext): string {
  return `00-${spanContext.traceId}-${spanContext.spanId}-${(spanContext.traceFlags & 0xff).toString(16).padStart(2, '0')}`;
}

/** The producer's span context carried in a message's headers, if any. */
export function spanContextFromHeaders(headers: IHeaders | undefined): SpanContext | undefined {
  const parent = headerString(headers?.[TRACEPARENT_HEADER]);
  if (parent === undefined) return undefined;
  return parseTraceparent(parent, headerString(headers?.[TRACESTATE_HEADER]));
}

/**
 * `headers` plus `traceparent` (and `tracestate`) of the span active in `ctx`; `headers` itself
 * when no valid span context is active.
 */
export function injectTraceContext(headers: IHeaders = {}, ctx: Context = context.active()): IHeaders {
  const spanContext = trace.getSpanContext(ctx);
  if (!spanContext || !isSpanContextValid(spanContext)) return headers;
  const out: IHeaders = { ...headers, [TRACEPARENT_HEADER]: formatTraceparent(spanContext) };
  const state = spanContext.traceState?.serialize();
  if (state) out[TRACESTATE_HEADER] = state;
  else delete out[TRACESTATE_HEADER];
  return out;
}

/**
 * For the producer CLI: starts and ends a `create <topic>` span for one message (a child of the
 * active span, else a root: OTEL_TRACES_SAMPLER applies per message) and returns `headers` with
 * its context. Without a registered SDK the span is invalid and `headers` is returned as is.
 */
export function traceOutgoingMessage(topic: string, headers: IHeaders = {}, tracer?: Tracer): IHeaders {
  const span = tracerOrDefault(tracer).startSpan(SPAN_NAMES.create(topic), {
    kind: SpanKind.PRODUCER,
    attributes: {
      [ATTR.SYSTEM_NAME]: MESSAGING_SYSTEM,
      [ATTR.SYSTEM_LEGACY]: MESSAGING_SYSTEM,
      [ATTR.OPERATION_NAME]: 'create',
      [ATTR.OPERATION_TYPE]: 'create',
      [ATTR.DESTINATION]: topic,
    },
  });
  try {
    return injectTraceContext(headers, trace.setSpan(context.active(), span));
  } finally {
    span.end();
  }
}

function headerString(value: IHeaders[string]): string | undefined {
  const first = Array.isArray(value) ? value[0] : value;
  if (first === undefined) return undefined;
  return typeof first === 'string' ? first : first.toString('latin1');
}

// ---------------------------------------------------------------------------------------------
// Links

/**
 * The distinct producer span contexts of one batch's messages, at most `max` (the first seen win;
 * each link carries the partition and offset of the first message that had it). Messages whose
 * context did not fit are counted in `dropped`.
 */
export class LinkCollector {
  private readonly byKey = new Map<string, Link>();
  private droppedCount = 0;

  constructor(readonly max: number = DEFAULT_MAX_LINKS) {}

  /** Adds the context in `headers` (if any) of the message at `partition`/`offset`. */
  addFromHeaders(headers: IHeaders | undefined, partition: number, offset: number): void {
    const raw = headerString(headers?.[TRACEPARENT_HEADER]);
    if (raw === undefined) return;
    const key = raw.trim().slice(3, 52); // trace id and span id: dedupe before parsing
    if (this.byKey.has(key)) return;
    if (this.byKey.size >= this.max) {
      this.droppedCount++;
      return;
    }
    const spanContext = parseTraceparent(raw, headerString(headers?.[TRACESTATE_HEADER]));
    if (!spanContext) return;
    this.byKey.set(key, {
      context: spanContext,
      attributes: { [ATTR.PARTITION]: String(partition), [ATTR.KAFKA_OFFSET]: offset },
    });
  }

  /** Adds the contexts of `messages` (e.g. a batch's held messages and dead letters). */
  addMessages(
    messages: Iterable<{ headers?: IHeaders | undefined; partition: number; offset: number }>,
  ): this {
    for (const m of messages) this.addFromHeaders(m.headers, m.partition, m.offset);
    return this;
  }

  /** Adds a span context already parsed (e.g. by spanContextFromHeaders). */
  add(spanContext: SpanContext | undefined, attributes?: Attributes): void {
    if (!spanContext || !isSpanContextValid(spanContext)) return;
    const key = `${spanContext.traceId}-${spanContext.spanId}`;
    if (this.byKey.has(key)) return;
    if (this.byKey.size >= this.max) {
      this.droppedCount++;
      return;
    }
    this.byKey.set(key, attributes ? { context: spanContext, attributes } : { context: spanContext });
  }

  get links(): Link[] {
    return [...this.byKey.values()];
  }

  get size(): number {
    return this.byKey.size;
  }

  /** Messages whose (new) context was not linked because the collector was full. */
  get dropped(): number {
    return this.droppedCount;
  }
}

// ---------------------------------------------------------------------------------------------
// Batch spans

export interface BatchTracerOptions {
  groupId: string;
  /** Name of the dead-letter topic (the `send` span's destination). */
  deadLetterTopic: string;
  tracer?: Tracer;
  /** Commit spans waiting for their commit, at most; beyond, the oldest is ended (default 1,000). */
  maxPendingCommits?: number;
}

export type { BatchStart };

interface PendingCommit {
  span: Span;
  topic: string;
  /** partition → the offset a commit must reach (last offset of the batch + 1). */
  remaining: Map<number, number>;
}

/** Starts batch spans and ends their commit spans when the consumer reports commits. */
export class BatchTracer implements BatchInstruments {
  readonly groupId: string;
  readonly deadLetterTopic: string;
  readonly tracer: Tracer;
  private readonly maxPending: number;
  /** Insertion-ordered: the first is the oldest. */
  private readonly pending = new Set<PendingCommit>();
  private readonly byPartition = new Map<string, Set<PendingCommit>>();
  private readonly committedOffsets = new Map<string, number>();

  constructor(options: BatchTracerOptions) {
    this.groupId = options.groupId;
    this.deadLetterTopic = options.deadLetterTopic;
    this.tracer = tracerOrDefault(options.tracer);
    this.maxPending = options.maxPendingCommits ?? 1_000;
  }

  /** Starts the `process <topic>` span of a batch being flushed (call when its write begins). */
  startBatch(batch: BatchStart): BatchTrace {
    const partitions = batch.ranges.map((r) => r.partition);
    const attributes: Attributes = {
      [ATTR.SYSTEM_NAME]: MESSAGING_SYSTEM,
      [ATTR.SYSTEM_LEGACY]: MESSAGING_SYSTEM,
      [ATTR.OPERATION_NAME]: 'process',
      [ATTR.OPERATION_TYPE]: 'process',
      [ATTR.DESTINATION]: batch.topic,
      [ATTR.CONSUMER_GROUP]: this.groupId,
      [ATTR.BATCH_MESSAGE_COUNT]: batch.messages,
      [ATTR.BATCH_ID]: batch.id,
      [ATTR.BATCH_BYTES]: batch.bytes,
      [ATTR.BATCH_DEAD_LETTERS]: batch.deadLetters,
      [ATTR.BATCH_RANGES]: formatRanges(batch.ranges),
      [ATTR.BATCH_PARTITIONS]: partitions,
      [ATTR.BATCH_FIRST_OFFSETS]: batch.ranges.map((r) => r.first),
      [ATTR.BATCH_LAST_OFFSETS]: batch.ranges.map((r) => r.last),
    };
    if (partitions.length === 1) attributes[ATTR.PARTITION] = String(partitions[0]);
    if (batch.links && batch.links.dropped > 0) attributes[ATTR.BATCH_LINKS_DROPPED] = batch.links.dropped;
    const span = this.tracer.startSpan(SPAN_NAMES.process(batch.topic), {
      kind: SpanKind.CONSUMER,
      root: true,
      attributes,
      links: batch.links?.links ?? [],
    });
    return new BatchTrace(this, batch, span);
  }

  /** The consumer committed `offset` (the next offset to read) of a partition: the `commit` event. */
  committed(topic: string, partition: number, offset: number): void {
    const key = partitionKey(topic, partition);
    this.committedOffsets.set(key, Math.max(offset, this.committedOffsets.get(key) ?? -1));
    const waiting = this.byPartition.get(key);
    if (!waiting) return;
    for (const commit of waiting) {
      const needed = commit.remaining.get(partition);
      if (needed === undefined || needed > offset) continue;
      commit.remaining.delete(partition);
      waiting.delete(commit);
      if (commit.remaining.size === 0) this.finish(commit);
    }
    if (waiting.size === 0) this.byPartition.delete(key);
  }

  /**
   * After a rebalance (the `joined` event): commits still pending will not happen (the partitions
   * are re-read from the last committed offset); their spans end with an error.
   */
  rebalanced(): void {
    this.abandonAll('rebalance', 'the group rebalanced before this batch was committed; it will be re-read');
    this.committedOffsets.clear();
  }

  /** On stop: ends every pending commit span (error `stopped`). */
  close(): void {
    this.abandonAll('stopped', 'the consumer stopped before this batch was committed');
  }

  /** Commit spans still waiting. */
  get pendingCommits(): number {
    return this.pending.size;
  }

  /** @internal BatchTrace.end(): opens the commit span and waits for the covering commit. */
  awaitCommit(batch: BatchStart, parent: Span): void {
    const remaining = new Map<number, number>();
    for (const r of batch.ranges) {
      const needed = r.last + 1;
      if ((this.committedOffsets.get(partitionKey(batch.topic, r.partition)) ?? -1) < needed)
        remaining.set(r.partition, Math.max(needed, remaining.get(r.partition) ?? 0));
    }
    const attributes: Attributes = {
      [ATTR.SYSTEM_NAME]: MESSAGING_SYSTEM,
      [ATTR.SYSTEM_LEGACY]: MESSAGING_SYSTEM,
      [ATTR.OPERATION_NAME]: 'commit',
      [ATTR.OPERATION_TYPE]: 'settle',
      [ATTR.DESTINATION]: batch.topic,
      [ATTR.CONSUMER_GROUP]: this.groupId,
      [ATTR.BATCH_ID]: batch.id,
      [ATTR.COMMIT_OFFSETS]: batch.ranges.map((r) => `${r.partition}:${r.last + 1}`).join(','),
    };
    if (batch.ranges.length === 1) attributes[ATTR.PARTITION] = String(batch.ranges[0]?.partition);
    const span = this.tracer.startSpan(
      SPAN_NAMES.commit(batch.topic),
      { kind: SpanKind.CLIENT, attributes },
      trace.setSpan(ROOT_CONTEXT, parent),
    );
    const commit: PendingCommit = { span, topic: batch.topic, remaining };
    if (remaining.size === 0) {
      this.finish(commit);
      return;
    }
    this.pending.add(commit);
    for (const partition of remaining.keys()) {
      const key = partitionKey(batch.topic, partition);
      let set = this.byPartition.get(key);
      if (!set) {
        set = new Set();
        this.byPartition.set(key, set);
      }
      set.add(commit);
    }
    while (this.pending.size > this.maxPending) {
      const oldest = this.pending.values().next().value as PendingCommit;
      this.unlink(oldest);
      oldest.span.setAttribute(ATTR.ERROR_TYPE, 'untracked');
      oldest.span.end();
    }
  }

  private finish(commit: PendingCommit): void {
    this.unlink(commit);
    commit.span.setStatus({ code: SpanStatusCode.OK });
    commit.span.end();
  }

  private abandonAll(type: string, message: string): void {
    for (const commit of [...this.pending]) {
      this.unlink(commit);
      commit.span.setAttribute(ATTR.ERROR_TYPE, type);
      commit.span.setStatus({ code: SpanStatusCode.ERROR, message });
      commit.span.end();
    }
  }

  private unlink(commit: PendingCommit): void {
    this.pending.delete(commit);
    for (const partition of commit.remaining.keys()) {
      const key = partitionKey(commit.topic, partition);
      const set = this.byPartition.get(key);
      set?.delete(commit);
      if (set?.size === 0) this.byPartition.delete(key);
    }
  }
}

/** One batch's trace: its span, and the children and metrics of its writes. */
export class BatchTrace implements BatchObserver {
  readonly span: Span;
  /** The batch span's context: run code in it with `with()` (logs then carry its ids). */
  readonly context: Context;
  private readonly writes = new Map<string, { span: Span; attempts: number }>();
  private done = false;

  constructor(
    private readonly tracer: BatchTracer,
    private readonly batch: BatchStart,
    span: Span,
  ) {
    this.span = span;
    this.context = trace.setSpan(ROOT_CONTEXT, span);
  }

  /** Runs `fn` with the batch span active. */
  with<T>(fn: () => T): T {
    return context.with(this.context, fn);
  }

  /**
   * Runs one sink's write (with its retries) in a `write <sink>` child span, active while it runs;
   * records its duration and, on success, the rows written.
   */
  async writeSink<R extends { written: number; skipped?: boolean }>(
    sink: string,
    write: () => Promise<R>,
  ): Promise<R> {
    const span = this.tracer.tracer.startSpan(
      SPAN_NAMES.write(sink),
      {
        kind: SpanKind.INTERNAL,
        attributes: {
          [ATTR.SINK]: sink,
          [ATTR.DESTINATION]: this.batch.topic,
          [ATTR.BATCH_ID]: this.batch.id,
        },
      },
      this.context,
    );
    return this.run(sink, span, write, (result) => {
      span.setAttribute(ATTR.SINK_ROWS, result.written);
      if (result.skipped !== undefined) span.setAttribute(ATTR.SINK_SKIPPED, result.skipped);
    });
  }

  /**
   * Publishes the batch's dead letters in a `send <dead-letter topic>` child span (no span when
   * there are none) and, once published, counts them by code.
   */
  async publishDeadLetters<T>(letters: readonly { code: string }[], publish: () => Promise<T>): Promise<T> {
    if (letters.length === 0) return publish();
    const span = this.tracer.tracer.startSpan(
      SPAN_NAMES.deadLetter(this.tracer.deadLetterTopic),
      {
        kind: SpanKind.PRODUCER,
        attributes: {
          [ATTR.SYSTEM_NAME]: MESSAGING_SYSTEM,
          [ATTR.SYSTEM_LEGACY]: MESSAGING_SYSTEM,
          [ATTR.OPERATION_NAME]: 'send',
          [ATTR.OPERATION_TYPE]: 'send',
          [ATTR.DESTINATION]: this.tracer.deadLetterTopic,
          [ATTR.BATCH_MESSAGE_COUNT]: letters.length,
          [ATTR.BATCH_ID]: this.batch.id,
        },
      },
      this.context,
    );
    return this.run(DEAD_LETTER_SINK, span, publish, () => undefined);
  }

  /**
   * A write of `sink` (or `dead-letter`) failed and will be retried: a `retry` event on its span
   * and the retries counter.
   */
  retry(sink: string, attempt: number, delayMs: number, error: unknown): void {
    const write = this.writes.get(sink);
    const target = write?.span ?? this.span;
    if (write) write.attempts = Math.max(write.attempts, attempt + 1);
    target.addEvent('retry', {
      [ATTR.SINK]: sink,
      [ATTR.RETRY_ATTEMPT]: attempt,
      [ATTR.RETRY_DELAY_MS]: delayMs,
      [ATTR.ERROR_TYPE]: errorType(error),
      'exception.message': error instanceof Error ? error.message : String(error),
    });
  }

  /** A sink rejected `messages` of the batch (they are being isolated): an event on its span. */
  rejected(sink: string, messages: number, error: unknown): void {
    (this.writes.get(sink)?.span ?? this.span).addEvent('rejected', {
      [ATTR.SINK]: sink,
      [ATTR.BATCH_MESSAGE_COUNT]: messages,
      [ATTR.ERROR_TYPE]: errorType(error),
      'exception.message': error instanceof Error ? error.message : String(error),
    });
  }

  /** Every sink wrote the batch: ends its span, records it, opens its commit span. */
  end(): void {
    if (this.done) return;
    this.done = true;
    this.span.setStatus({ code: SpanStatusCode.OK });
    if (this.span.isRecording()) this.tracer.awaitCommit(this.batch, this.span);
    this.span.end();
  }

  /** The batch was abandoned (nothing of it is committed): ends its span with the error. */
  fail(error: unknown): void {
    if (this.done) return;
    this.done = true;
    recordError(this.span, error);
    this.span.end();
  }

  private async run<R>(
    name: string,
    span: Span,
    op: () => Promise<R>,
    onSuccess: (result: R) => void,
  ): Promise<R> {
    const write = { span, attempts: 1 };
    this.writes.set(name, write);
    const ctx = trace.setSpan(this.context, span);
    try {
      const result = await context.with(ctx, op);
      span.setAttribute(ATTR.SINK_ATTEMPTS, write.attempts);
      onSuccess(result);
      return result;
    } catch (error) {
      span.setAttribute(ATTR.SINK_ATTEMPTS, write.attempts);
      recordError(span, error);
      throw error;
    } finally {
      span.end();
      if (this.writes.get(name) === write) this.writes.delete(name);
    }
  }
}

function recordError(span: Span, error: unknown): void {
  span.setAttribute(ATTR.ERROR_TYPE, errorType(error));
  if (error instanceof Error) span.recordException(error);
  span.setStatus({
    code: SpanStatusCode.ERROR,
    message: error instanceof Error ? error.message : String(error),
  });
}

function partitionKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

/** `0:100-199,2:40-80`: partition, first and last offset of each range. */
export function formatRanges(ranges: readonly BatchRange[]): string {
  return ranges.map((r) => `${r.partition}:${r.first}-${r.last}`).join(',');
}
