/**
 * Produce→commit latency at a steady rate. The producer sends `rate` messages per second, each to
 * an explicit partition (round robin), and notes when each produce request started; the broker's
 * answer gives the partition's base offset, so every message's offset is known. A poller reads the
 * group's committed offsets every `pollMs`: a message's latency is the time from its send to the
 * first poll that sees its offset committed (so figures carry up to `pollMs` of poll granularity).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { type Kafka, Partitioners } from 'kafkajs';
import type { OutgoingMessage } from '../core/publisher.ts';

export interface LatencyOptions {
  topic: string;
  groupId: string;
  /** Messages per second. */
  rate: number;
  seconds: number;
  /** Waiting for the last commits after the producer stops. */
  drainTimeoutMs?: number;
  pollMs?: number;
}

export interface LatencyResult {
  messages: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** The rate the producer achieved (below `rate` when the broker or this process could not keep up). */
  achievedRate: number;
}

interface Segment {
  base: number;
  count: number;
  sentAt: number;
}

const TICK_MS = 20;

export async function measureLatency(
  kafka: Kafka,
  messages: AsyncIterator<OutgoingMessage>,
  options: LatencyOptions,
): Promise<LatencyResult> {
  const pollMs = options.pollMs ?? 50;
  const admin = kafka.admin();
  const producer = kafka.producer({
    allowAutoTopicCreation: false,
    // Every message names its partition; the partitioner is never asked.
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await Promise.all([admin.connect(), producer.connect()]);
  try {
    const partitions = (await admin.fetchTopicMetadata({ topics: [options.topic] })).topics[0]?.partitions
      .length;
    if (!partitions) throw new Error(`topic ${options.topic} has no partitions`);
    const pending: Segment[][] = Array.from({ length: partitions }, () => []);
    const latencies = new Float64Array(Math.ceil(options.rate * options.seconds) + partitions);
    let measured = 0;
    let sent = 0;
    let producing = true;
    let abandoned = false;

    const poll = async () => {
      while (!abandoned && (producing || pending.some((p) => p.length > 0))) {
        const [committed] = await admin.fetchOffsets({ groupId: options.groupId, topics: [options.topic] });
        const now = performance.now();
        for (const { partition, offset } of committed?.partitions ?? []) {
          const upTo = Number(offset);
          const queue = pending[partition] ?? [];
          while (queue.length > 0 && (queue[0] as Segment).base < upTo) {
            const s = queue[0] as Segment;
            const done = Math.min(s.count, upTo - s.base);
            for (let i = 0; i < done && measured < latencies.length; i++)
              latencies[measured++] = now - s.sentAt;
            if (done === s.count) queue.shift();
            else queue[0] = { base: s.base + done, count: s.count - done, sentAt: s.sentAt };
          }
        }
        await sleep(pollMs);
      }
    };
    const polling = poll();
    // Observed at the end (a poll failure then fails the measurement), not as an unhandled rejection.
    polling.catch(() => undefined);

    const started = performance.now();
    const total = Math.floor(options.rate * options.seconds);
    let next = 0;
    while (sent < total) {
      const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * options.rate));
      if (due > sent) {
        const batch = [];
        for (; sent < due; sent++) {
          const m = await messages.next();
          if (m.done) throw new Error('the message source ended');
          batch.push({ ...m.value, partition: next++ % partitions });
        }
        const sentAt = performance.now();
        const acks = await producer.send({ topic: options.topic, messages: batch });
        const counts = new Map<number, number>();
        for (const m of batch) counts.set(m.partition, (counts.get(m.partition) ?? 0) + 1);
        for (const ack of acks)
          pending[ack.partition]?.push({
            base: Number(ack.baseOffset),
            count: counts.get(ack.partition) ?? 0,
            sentAt,
          });
      }
      await sleep(TICK_MS);
    }
    const achievedRate = sent / ((performance.now() - started) / 1000);
    producing = false;
    const timeout = sleep(options.drainTimeoutMs ?? 120_000, 'timeout' as const, { ref: false });
    if ((await Promise.race([polling, timeout])) === 'timeout') {
      abandoned = true;
      await polling.catch(() => undefined);
      throw new Error(`${options.groupId} did not commit the steady-rate messages in time`);
    }
    const sorted = latencies.subarray(0, measured).sort();
    const at = (q: number) => Math.round(sorted[Math.min(measured - 1, Math.floor(q * measured))] ?? 0);
    return { messages: measured, p50Ms: at(0.5), p99Ms: at(0.99), maxMs: at(1), achievedRate };
  } finally {
    await Promise.allSettled([admin.disconnect(), producer.disconnect()]);
  }
}
