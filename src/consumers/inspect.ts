/**
 * What Kafka knows of a pipeline (`varstream status`): per partition the group's committed offset
 * against the end offset, the group's state and members; and the dead letters on the dead-letter
 * topic, read back with their `dlq-*` headers (`varstream dlq`).
 */
import { AssignerProtocol, type Kafka } from 'kafkajs';
import { partitionRanges, rangesOf, readTopic, type TopicRecord } from './topic-reader.ts';

export interface PartitionLag {
  partition: number;
  /** The group's committed offset; absent when the group committed none for the partition. */
  committed?: number;
  end: number;
  /** end − committed (or end − log start when nothing is committed). */
  lag: number;
}

export interface TopicLag {
  topic: string;
  /** False when the topic does not exist. */
  exists: boolean;
  partitions: PartitionLag[];
  committed: number;
  end: number;
  lag: number;
}

export interface GroupMember {
  memberId: string;
  clientId: string;
  host: string;
  assignment: Record<string, number[]>;
}

export interface GroupState {
  groupId: string;
  /** Kafka's group state: Stable, Empty, PreparingRebalance, CompletingRebalance, Dead. */
  state: string;
  members: GroupMember[];
}

export async function groupState(kafka: Kafka, groupId: string): Promise<GroupState> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const [group] = (await admin.describeGroups([groupId])).groups;
    return {
      groupId,
      state: group?.state ?? 'Dead',
      members: (group?.members ?? []).map((m) => ({
        memberId: m.memberId,
        clientId: m.clientId,
        host: m.clientHost,
        assignment:
          m.memberAssignment.length > 0
            ? (AssignerProtocol.MemberAssignment.decode(m.memberAssignment)?.assignment ?? {})
            : {},
      })),
    };
  } finally {
    await admin.disconnect();
  }
}

export async function topicLags(
  kafka: Kafka,
  groupId: string,
  topics: readonly string[],
): Promise<TopicLag[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const committed = new Map<string, number>();
    const present = topics.filter((t) => existing.has(t));
    if (present.length > 0)
      for (const { topic, partitions } of await admin.fetchOffsets({ groupId, topics: present }))
        for (const p of partitions)
          if (Number(p.offset) >= 0) committed.set(`${topic}:${p.partition}`, Number(p.offset));
    const out: TopicLag[] = [];
    for (const topic of topics) {
      if (!existing.has(topic)) {
        out.push({ topic, exists: false, partitions: [], committed: 0, end: 0, lag: 0 });
        continue;
      }
      // The same admin client for every topic: the terminal display polls this every second.
      const ranges = await rangesOf(admin, topic);
      const partitions = ranges.map((r): PartitionLag => {
        const c = committed.get(`${topic}:${r.partition}`);
        return { partition: r.partition, committed: c, end: r.high, lag: Math.max(0, r.high - (c ?? r.low)) };
      });
      out.push({
        topic,
        exists: true,
        partitions,
        committed: partitions.reduce((n, p) => n + (p.committed ?? 0), 0),
        end: partitions.reduce((n, p) => n + p.end, 0),
        lag: partitions.reduce((n, p) => n + p.lag, 0),
      });
    }
    return out;
  } finally {
    await admin.disconnect();
  }
}

/** A dead letter as read back from the dead-letter topic. */
export interface StoredDeadLetter {
  /** Where it is on the dead-letter topic. */
  partition: number;
  offset: number;
  code: string;
  reason: string;
  /** Where it came from. */
  source: { topic: string; partition: number; offset: number };
  failedAt?: string;
  group?: string;
  key: Buffer | null;
  value: Buffer | null;
  /** True when the letter was published without its value (`dlq-value-omitted`). */
  valueOmitted: boolean;
  /** The original message's headers (without the `dlq-*` ones). */
  headers: Record<string, string>;
}

export function parseDeadLetter(record: TopicRecord): StoredDeadLetter {
  const h = record.headers;
  const original: Record<string, string> = {};
  for (const [name, value] of Object.entries(h)) if (!name.startsWith('dlq-')) original[name] = value;
  return {
    partition: record.partition,
    offset: record.offset,
    code: h['dlq-error-code'] ?? 'UNKNOWN',
    reason: h['dlq-error-message'] ?? '',
    source: {
      topic: h['dlq-topic'] ?? '',
      partition: Number(h['dlq-partition'] ?? -1),
      offset: Number(h['dlq-offset'] ?? -1),
    },
    failedAt: h['dlq-failed-at'],
    group: h['dlq-consumer-group'],
    key: record.key,
    value: record.value,
    valueOmitted: h['dlq-value-omitted'] !== undefined,
    headers: original,
  };
}

/**
 * Calls `onLetter` for the dead letters of `topic`, one at a time (nothing is kept): all of them,
 * or the last `lastPerPartition` of each partition. `total` counts what the topic holds; `read`
 * what was read (less when the read timed out, `complete: false`).
 */
export async function forEachDeadLetter(
  kafka: Kafka,
  topic: string,
  onLetter: (letter: StoredDeadLetter) => void | Promise<void>,
  options: { lastPerPartition?: number; timeoutMs?: number } = {},
): Promise<{ exists: boolean; total: number; read: number; complete: boolean }> {
  const admin = kafka.admin();
  await admin.connect();
  const exists = await admin
    .listTopics()
    .then((t) => t.includes(topic))
    .finally(() => admin.disconnect());
  if (!exists) return { exists, total: 0, read: 0, complete: true };
  const ranges = await partitionRanges(kafka, topic);
  const total = ranges.reduce((n, r) => n + (r.high - r.low), 0);
  const last = options.lastPerPartition;
  const { read, complete } = await readTopic(
    kafka,
    topic,
    async (record) => onLetter(parseDeadLetter(record)),
    {
      from: last === undefined ? undefined : (r) => r.high - last,
      timeoutMs: options.timeoutMs,
    },
  );
  return { exists, total, read, complete };
}

/** These readers bound to one kafkajs client, for code that does not import kafkajs (the CLI). */
export interface KafkaInspector {
  groupState(groupId: string): Promise<GroupState>;
  topicLags(groupId: string, topics: readonly string[]): Promise<TopicLag[]>;
  forEachDeadLetter(
    topic: string,
    onLetter: (letter: StoredDeadLetter) => void | Promise<void>,
    options?: { lastPerPartition?: number; timeoutMs?: number },
  ): ReturnType<typeof forEachDeadLetter>;
}

export function kafkaInspector(kafka: Kafka): KafkaInspector {
  return {
    groupState: (groupId) => groupState(kafka, groupId),
    topicLags: (groupId, topics) => topicLags(kafka, groupId, topics),
    forEachDeadLetter: (topic, onLetter, options) => forEachDeadLetter(kafka, topic, onLetter, options),
  };
}
