/**
 * The HTTP endpoint of a running consumer (node:http, one port):
 *
 * - `GET /healthz` (liveness): 200 while every watched loop reported progress within the TTL and
 *   nothing fatal was reported; 503 otherwise, with the reasons. A consume loop that stalls (an
 *   eachBatch that never returns, a fetch loop that died) stops reporting progress, so it fails.
 * - `GET /readyz` (readiness): 200 when every required condition holds (Kafka connected, group
 *   joined, sinks open) and the process is not stopping; 503 listing what is missing.
 * - `GET /metrics`: the Prometheus exposition (the handler startTelemetry() returns); 404 without.
 *
 * Bodies are JSON (except /metrics). HEAD is answered like GET without a body.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../core/logger.ts';

export const READINESS = {
  KAFKA_CONNECTED: 'kafka-connected',
  GROUP_JOINED: 'group-joined',
  SINKS_OPEN: 'sinks-open',
} as const;

/** The loop liveness watches by default. */
export const CONSUME_LOOP = 'consume';

export type MetricsHandler = (request: IncomingMessage, response: ServerResponse) => void;

export interface HealthServerOptions {
  /** The port to listen on; 0 binds an ephemeral one (the config's "0 = disabled" is the caller's). */
  port: number;
  /** Default 0.0.0.0 (probes come from outside the pod). */
  host?: string;
  /** A watched loop that reported no progress for longer than this fails /healthz. */
  livenessTtlMs: number;
  /**
   * A sink write (one attempt) running for longer than this fails /healthz: a native call that
   * hangs cannot be cancelled, so the pod is restarted. While a write runs its batch is not
   * committed, so the lag is above zero. 0 or absent: not watched.
   */
  sinkStallMs?: number;
  /** Loops that must report progress (default: ['consume']). Each starts its clock at start(). */
  loops?: readonly string[];
  /** Conditions /readyz requires (default: the three READINESS conditions). */
  readiness?: readonly string[];
  metrics?: MetricsHandler;
  logger?: Logger;
  /** Monotonic milliseconds (tests replace it). */
  now?: () => number;
}

export interface HealthReport {
  ok: boolean;
  body: Record<string, unknown>;
}

export class HealthServer {
  private readonly now: () => number;
  private readonly lastProgress = new Map<string, number>();
  private readonly conditions = new Map<string, { ok: boolean; detail?: string }>();
  private fatalReason: string | undefined;
  private readonly sinkWrites = new Map<object, { sink: string; started: number }>();
  private stopping = false;
  private server: Server | undefined;

  constructor(private readonly options: HealthServerOptions) {
    this.now = options.now ?? (() => performance.now());
    for (const name of options.readiness ?? Object.values(READINESS))
      this.conditions.set(name, { ok: false, detail: 'not yet' });
  }

  /** The consume loop (or another watched loop) made progress: a fetch started, a batch ran. */
  progress(loop: string = CONSUME_LOOP): void {
    this.lastProgress.set(loop, this.now());
  }

  /** A sink write attempt started (`running`) or returned; `token` tells attempts apart. */
  sinkWrite(token: object, sink: string, running: boolean): void {
    if (running) this.sinkWrites.set(token, { sink, started: this.now() });
    else this.sinkWrites.delete(token);
  }

  /** Sets a readiness condition (e.g. READINESS.GROUP_JOINED false while rebalancing). */
  setReady(condition: string, ok: boolean, detail?: string): void {
    this.conditions.set(condition, detail === undefined ? { ok } : { ok, detail });
  }

  /** Something the process cannot recover from (e.g. the kafkajs consumer crashed for good). */
  setFatal(reason: string): void {
    this.fatalReason ??= reason;
  }

  /** The process is shutting down: /readyz fails from now on (liveness is unaffected). */
  setStopping(): void {
    this.stopping = true;
  }

  liveness(): HealthReport {
    const now = this.now();
    const ttl = this.options.livenessTtlMs;
    const reasons: string[] = [];
    const loops: Record<string, { msSinceProgress: number }> = {};
    for (const [loop, at] of this.lastProgress) {
      const since = Math.round(now - at);
      loops[loop] = { msSinceProgress: since };
      if (since > ttl) reasons.push(`${loop} loop made no progress for ${since} ms (ttl ${ttl} ms)`);
    }
    const stallMs = this.options.sinkStallMs ?? 0;
    const writes: Record<string, { msRunning: number }> = {};
    for (const { sink, started } of this.sinkWrites.values()) {
      const running = Math.round(now - started);
      if (running > (writes[sink]?.msRunning ?? -1)) writes[sink] = { msRunning: running };
    }
    for (const [sink, { msRunning }] of Object.entries(writes))
      if (stallMs > 0 && msRunning > stallMs)
        reasons.push(`${sink} write has not returned for ${msRunning} ms (limit ${stallMs} ms)`);
    if (this.fatalReason) reasons.push(this.fatalReason);
    return {
      ok: reasons.length === 0,
      body: {
        status: reasons.length === 0 ? 'ok' : 'unhealthy',
        reasons,
        ttlMs: ttl,
        loops,
        sinkWrites: writes,
      },
    };
  }

  readiness(): HealthReport {
    const missing: string[] = [];
    const checks: Record<string, boolean> = {};
    for (const [name, { ok, detail }] of this.conditions) {
      checks[name] = ok;
      if (!ok) missing.push(detail ? `${name}: ${detail}` : name);
    }
    if (this.stopping) missing.push('stopping');
    return {
      ok: missing.length === 0,
      body: { status: missing.length === 0 ? 'ready' : 'not ready', missing, checks },
    };
  }

  /** Listens; resolves with the port (the bound one when `port` was 0). */
  async start(): Promise<number> {
    if (this.server) return (this.server.address() as AddressInfo).port;
    const started = this.now();
    for (const loop of this.options.loops ?? [CONSUME_LOOP])
      if (!this.lastProgress.has(loop)) this.lastProgress.set(loop, started);
    const server = createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port, this.options.host ?? '0.0.0.0', () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    const port = (server.address() as AddressInfo).port;
    this.options.logger?.info({ port }, 'health server listening (/healthz, /readyz, /metrics)');
    return port;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      send(req, res, 405, { error: 'method not allowed' });
      return;
    }
    const path = (req.url ?? '/').split('?', 1)[0];
    if (path === '/metrics' && this.options.metrics) {
      this.options.metrics(req, res);
      return;
    }
    const [status, body] = this.route(path);
    send(req, res, status, body);
  }

  private route(path: string | undefined): [number, unknown] {
    switch (path) {
      case '/healthz': {
        const report = this.liveness();
        return [report.ok ? 200 : 503, report.body];
      }
      case '/readyz': {
        const report = this.readiness();
        return [report.ok ? 200 : 503, report.body];
      }
      case '/metrics':
        return [404, { error: 'metrics are disabled (OTEL_SDK_DISABLED or OTEL_METRICS_EXPORTER)' }];
      default:
        return [404, { error: 'not found', paths: ['/healthz', '/readyz', '/metrics'] }];
    }
  }
}

function send(req: IncomingMessage, res: ServerResponse, status: number, body: unknown): void {
  const text = `${JSON.stringify(body)}\n`;
  res.statusCode = status;
  res.setHeader('content-type', 'application/json');
  res.setHeader('cache-control', 'no-store');
  res.setHeader('content-length', Buffer.byteLength(text));
  res.end(req.method === 'HEAD' ? undefined : text);
}
