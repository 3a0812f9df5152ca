/** Creates the topics varstream reads and writes, when they do not exist yet. */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Admin, Kafka } from 'kafkajs';
import type { Config } from '../config/schema.ts';

/**
 * Topic-level message size limits (`max.message.bytes`). Input topics: 10 MiB, since VCF lines of
 * thousands of samples exceed Kafka's 1 MB default (and never less than `kafka.maxMessageBytes`,
 * the largest message varstream decodes). The dead-letter topic: the same plus 1 MiB, so that the
 * dead letter of any message an input topic holds (plus ~1 KiB of `dlq-*` headers) fits with its
 * value; on a dead-letter topic made smaller by hand, what does not fit goes without its value
 * (dead-letter.ts).
 */
function topicMaxBytes(config: Config, topic: string): string {
  return String(topic === config.topics.deadLetter ? deadLetterMaxBytes(config) : inputMaxBytes(config));
}

function inputMaxBytes(config: Config): number {
  return Math.max(10 * 1024 * 1024, config.kafka.maxMessageBytes);
}

/** The dead-letter topic's `max.message.bytes` as varstream creates it (and the publisher's bound). */
export function deadLetterMaxBytes(config: Config): number {
  return inputMaxBytes(config) + 1024 * 1024;
}

export async function ensureTopics(
  kafka: Kafka,
  config: Config,
  topics = Object.values(config.topics),
): Promise<{ created: string[]; existing: string[] }> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter((t) => !existing.has(t));
    const result = { created: missing, existing: topics.filter((t) => existing.has(t)) };
    if (missing.length === 0) return result;
    await admin.createTopics({
      // kafkajs's own wait fails on a just-started broker (UNKNOWN_TOPIC_OR_PARTITION while the
      // KRaft metadata propagates); waitForLeaders below retries that.
      waitForLeaders: false,
      topics: missing.map((topic) => ({
        topic,
        numPartitions: config.kafka.topicPartitions,
        replicationFactor: -1,
        configEntries: [{ name: 'max.message.bytes', value: topicMaxBytes(config, topic) }],
      })),
    });
    await waitForLeaders(admin, missing);
    return result;
  } finally {
    await admin.disconnect();
  }
}

/** Resolves once every partition of `topics` has a leader; retries what a young broker refuses. */
export async function waitForLeaders(admin: Admin, topics: string[], timeoutMs = 30_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  let last: unknown;
  while (performance.now() < deadline) {
    try {
      const { topics: meta } = await admin.fetchTopicMetadata({ topics });
      if (meta.length === topics.length && meta.every((t) => t.partitions.every((p) => p.leader >= 0))) {
        // Metadata can name a leader before it serves the partition; a first produce then fails
        // and kafkajs's idempotent retry answers OUT_OF_ORDER_SEQUENCE_NUMBER (seen once in CI).
        // ListOffsets is answered by the leader itself.
        for (const topic of topics) await admin.fetchTopicOffsets(topic);
        return;
      }
    } catch (error) {
      if ((error as { retriable?: boolean }).retriable === false) throw error;
      last = error;
    }
    await sleep(100);
  }
  throw new Error(
    `topics ${topics.join(', ')} have no leader after ${timeoutMs} ms: ${(last as Error)?.message ?? 'no metadata'}`,
  );
}

/** True when the group's committed offsets have reached the end of every partition of `topic`. */
export async function caughtUp(
  kafka: Kafka,
  groupId: string,
  topic: string,
): Promise<{ done: boolean; lag: number }> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const ends = await admin.fetchTopicOffsets(topic);
    const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
    let lag = 0;
    for (const end of ends) {
      const c = committed?.partitions.find((p) => p.partition === end.partition);
      const at = c && Number(c.offset) >= 0 ? Number(c.offset) : Number(end.low);
      lag += Math.max(0, Number(end.high) - at);
    }
    return { done: lag === 0, lag };
  } finally {
    await admin.disconnect();
  }
}
