/**
 * A tiny OTLP/HTTP receiver for tests: accepts protobuf exports on /v1/traces and /v1/metrics and
 * decodes what the tests check (span names, ids, parents, links, attributes; metric names, units,
 * data points) with a small protobuf wire-format reader written from the OTLP .proto definitions
 * (opentelemetry-proto v1). Loopback only.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

type Field = { wire: 0; int: bigint } | { wire: 1 | 2 | 5; bytes: Buffer };
type Message = Map<number, Field[]>;

function readVarint(buf: Buffer, at: number): [bigint, number] {
  let value = 0n;
  let shift = 0n;
  for (;;) {
    const byte = buf[at++];
    if (byte === undefined) throw new Error('truncated varint');
    value |= BigInt(byte & 0x7f) << shift;
    if ((byte & 0x80) === 0) return [value, at];
    shift += 7n;
  }
}

export function decodeMessage(buf: Buffer): Message {
  const out: Message = new Map();
  let at = 0;
  while (at < buf.length) {
    const [tag, next] = readVarint(buf, at);
    at = next;
    const field = Number(tag >> 3n);
    const wire = Number(tag & 7n);
    let value: Field;
    if (wire === 0) {
      const [int, after] = readVarint(buf, at);
      at = after;
      value = { wire: 0, int };
    } else if (wire === 1 || wire === 5) {
      const size = wire === 1 ? 8 : 4;
      value = { wire, bytes: buf.subarray(at, at + size) };
      at += size;
    } else if (wire === 2) {
      const [len, after] = readVarint(buf, at);
      at = after;
      value = { wire: 2, bytes: buf.subarray(at, at + Number(len)) };
      at += Number(len);
    } else throw new Error(`unsupported wire type ${wire}`);
    const list = out.get(field) ?? [];
    list.push(value);
    out.set(field, list);
  }
  return out;
}

const bytesOf = (m: Message, f: number): Buffer[] =>
  (m.get(f) ?? []).flatMap((v) => (v.wire === 0 ? [] : [v.bytes]));
const messages = (m: Message, f: number): Message[] => bytesOf(m, f).map(decodeMessage);
const str = (m: Message, f: number): string | undefined => bytesOf(m, f)[0]?.toString('utf8');
const hex = (m: Message, f: number): string | undefined => bytesOf(m, f)[0]?.toString('hex');
const int = (m: Message, f: number): bigint | undefined => {
  const v = m.get(f)?.[0];
  if (!v) return undefined;
  if (v.wire === 0) return v.int;
  return v.bytes.length === 8 ? v.bytes.readBigInt64LE(0) : BigInt(v.bytes.readInt32LE(0));
};
const double = (m: Message, f: number): number | undefined => bytesOf(m, f)[0]?.readDoubleLE(0);

export type Value = string | number | boolean | bigint | Value[] | undefined;

function anyValue(m: Message): Value {
  if (m.has(1)) return str(m, 1);
  if (m.has(2)) return int(m, 2) === 1n;
  if (m.has(3)) return Number(int(m, 3));
  if (m.has(4)) return double(m, 4);
  if (m.has(5)) return messages(messages(m, 5)[0] as Message, 1).map(anyValue);
  return undefined;
}

function attributes(m: Message, f: number): Record<string, Value> {
  const out: Record<string, Value> = {};
  for (const kv of messages(m, f)) {
    const key = str(kv, 1);
    if (key !== undefined) out[key] = anyValue(messages(kv, 2)[0] ?? new Map());
  }
  return out;
}

export interface ReceivedSpan {
  name: string;
  traceId: string;
  spanId: string;
  parentSpanId: string | undefined;
  kind: number;
  attributes: Record<string, Value>;
  links: { traceId: string; spanId: string; attributes: Record<string, Value> }[];
  statusCode: number;
  scope: string | undefined;
  resource: Record<string, Value>;
}

export function decodeTraces(body: Buffer): ReceivedSpan[] {
  const out: ReceivedSpan[] = [];
  for (const rs of messages(decodeMessage(body), 1)) {
    const resource = attributes(messages(rs, 1)[0] ?? new Map(), 1);
    for (const ss of messages(rs, 2)) {
      const scope = str(messages(ss, 1)[0] ?? new Map(), 1);
      for (const span of messages(ss, 2)) {
        const parent = hex(span, 4);
        out.push({
          name: str(span, 5) ?? '',
          traceId: hex(span, 1) ?? '',
          spanId: hex(span, 2) ?? '',
          parentSpanId: parent ? parent : undefined,
          kind: Number(int(span, 6) ?? 0n),
          attributes: attributes(span, 9),
          links: messages(span, 13).map((l) => ({
            traceId: hex(l, 1) ?? '',
            spanId: hex(l, 2) ?? '',
            attributes: attributes(l, 4),
          })),
          statusCode: Number(int(messages(span, 15)[0] ?? new Map(), 3) ?? 0n),
          scope,
          resource,
        });
      }
    }
  }
  return out;
}

export interface ReceivedPoint {
  attributes: Record<string, Value>;
  /** Sum and gauge points. */
  value?: number;
  /** Histogram points. */
  count?: number;
}

export interface ReceivedMetric {
  name: string;
  unit: string;
  type: 'gauge' | 'sum' | 'histogram' | 'other';
  monotonic?: boolean;
  points: ReceivedPoint[];
  resource: Record<string, Value>;
}

export function decodeMetrics(body: Buffer): ReceivedMetric[] {
  const out: ReceivedMetric[] = [];
  for (const rm of messages(decodeMessage(body), 1)) {
    const resource = attributes(messages(rm, 1)[0] ?? new Map(), 1);
    for (const sm of messages(rm, 2))
      for (const metric of messages(sm, 2)) {
        const name = str(metric, 1) ?? '';
        const unit = str(metric, 3) ?? '';
        const number = (p: Message): ReceivedPoint => ({
          attributes: attributes(p, 7),
          value: p.has(4) ? double(p, 4) : Number(int(p, 6) ?? 0n),
        });
        if (metric.has(5)) {
          out.push({
            name,
            unit,
            type: 'gauge',
            points: messages(messages(metric, 5)[0] as Message, 1).map(number),
            resource,
          });
        } else if (metric.has(7)) {
          const sum = messages(metric, 7)[0] as Message;
          out.push({
            name,
            unit,
            type: 'sum',
            monotonic: int(sum, 3) === 1n,
            points: messages(sum, 1).map(number),
            resource,
          });
        } else if (metric.has(9)) {
          const histogram = messages(metric, 9)[0] as Message;
          out.push({
            name,
            unit,
            type: 'histogram',
            points: messages(histogram, 1).map((p) => ({
              attributes: attributes(p, 9),
              count: Number(int(p, 4) ?? 0n),
            })),
            resource,
          });
        } else out.push({ name, unit, type: 'other', points: [], resource });
      }
  }
  return out;
}

/** Receives OTLP/HTTP protobuf exports on 127.0.0.1 and keeps them, decoded. */
export class OtlpReceiver {
  readonly spans: ReceivedSpan[] = [];
  readonly metrics: ReceivedMetric[] = [];
  readonly requests: { path: string; contentType: string | undefined }[] = [];
  private server: Server | undefined;

  async start(): Promise<string> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        let body = Buffer.concat(chunks);
        if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
        this.requests.push({ path: req.url ?? '', contentType: req.headers['content-type'] });
        try {
          if (req.url === '/v1/traces') this.spans.push(...decodeTraces(body));
          else if (req.url === '/v1/metrics') this.metrics.push(...decodeMetrics(body));
          else {
            res.statusCode = 404;
            res.end();
            return;
          }
        } catch (error) {
          res.statusCode = 400;
          res.end(String(error));
          return;
        }
        res.statusCode = 200;
        res.setHeader('content-type', 'application/x-protobuf');
        res.end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.server = server;
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  /** The latest data points of a metric (cumulative exports repeat every series each time). */
  latest(name: string): ReceivedMetric | undefined {
    return this.metrics.findLast((m) => m.name === name);
  }
}
