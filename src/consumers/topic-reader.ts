/**
 * Reads a range of a topic (`varstream status` and `varstream dlq`): from a start offset per
 * partition up to the end offsets as they are when the read starts. It joins a throwaway consumer
 * group of its own, never commits, and deletes the group afterwards, so no group's offsets move.
 */
import type { Admin, Kafka } from 'kafkajs';

export interface TopicRecord {
  partition: number;
  offset: number;
  timestamp: string;
  key: Buffer | null;
  value: Buffer | null;
  /** Header values as text (the first of a repeated header). */
  headers: Record<string, string>;
}

export interface PartitionRange {
  partition: number;
  /** The partition's first offset still held (log start). */
  low: number;
  /** The end offset (next offset to be written). */
  high: number;
}

export interface ReadOptions {
  /** The first offset to read of each partition (clamped to its range); default: its low offset. */
  from?(range: PartitionRange): number;
  /** Give up after this long, returning what was read (`complete: false`); default 60 s. */
  timeoutMs?: number;
}

/** The offsets of each partition of `topic`, from the broker. */
export async function partitionRanges(kafka: Kafka, topic: string): Promise<PartitionRange[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return await rangesOf(admin, topic);
  } finally {
    await admin.disconnect();
  }
}

/** partitionRanges on a connected admin client. */
export async function rangesOf(admin: Admin, topic: string): Promise<PartitionRange[]> {
  return (await admin.fetchTopicOffsets(topic))
    .map((o) => ({ partition: o.partition, low: Number(o.low), high: Number(o.high) }))
    .sort((a, b) => a.partition - b.partition);
}

/** Calls (and awaits) `onRecord` for every record of the range, in offset order per partition. */
export async function readTopic(
  kafka: Kafka,
  topic: string,
  onRecord: (record: TopicRecord) => void | Promise<void>,
  options: ReadOptions = {},
): Promise<{ read: number; complete: boolean }> {
  const ranges = (await partitionRanges(kafka, topic))
    .map((r) => ({ ...r, start: Math.max(r.low, Math.min(r.high, options.from?.(r) ?? r.low)) }))
    .filter((r) => r.start < r.high);
  if (ranges.length === 0) return { read: 0, complete: true };
  const groupId = `varstream-inspect-${process.pid}-${Date.now().toString(36)}`;
  const consumer = kafka.consumer({ groupId, allowAutoTopicCreation: false, sessionTimeout: 10_000 });
  const pending = new Map(ranges.map((r) => [r.partition, r]));
  let read = 0;
  let finish: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const done = (partition: number) => {
    pending.delete(partition);
    consumer.pause([{ topic, partitions: [partition] }]);
    if (pending.size === 0) finish();
  };
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      const assigned = payload.memberAssignment[topic] ?? [];
      for (const partition of assigned) {
        const range = pending.get(partition);
        if (range) consumer.seek({ topic, partition, offset: String(range.start) });
        else consumer.pause([{ topic, partitions: [partition] }]);
      }
    });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        const range = pending.get(batch.partition);
        if (!range) return;
        for (const m of batch.messages) {
          const offset = Number(m.offset);
          if (offset < range.start) continue;
          if (offset >= range.high) break;
          read++;
          await onRecord({
            partition: batch.partition,
            offset,
            timestamp: m.timestamp,
            key: m.key,
            value: m.value,
            headers: headerText(m.headers),
          });
        }
        if (Number(batch.lastOffset()) + 1 >= range.high) done(batch.partition);
      },
    });
    const timeoutMs = options.timeoutMs ?? 60_000;
    let timer: NodeJS.Timeout | undefined;
    const complete = await Promise.race([
      finished.then(() => true),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    return { read, complete };
  } finally {
    await consumer.disconnect().catch(() => undefined);
    const admin = kafka.admin();
    await admin
      .connect()
      .then(() => admin.deleteGroups([groupId]))
      .catch(() => undefined)
      .finally(() => admin.disconnect());
  }
}

function headerText(headers: Record<string, unknown> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    const first = Array.isArray(value) ? value[0] : value;
    if (first !== undefined && first !== null) out[name] = String(first);
  }
  return out;
}
