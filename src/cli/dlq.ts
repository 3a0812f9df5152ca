/**
 * `varstream dlq tail` shows the latest dead letters (code, reason, where each came from, key, a
 * preview of the value); `varstream dlq replay` publishes chosen ones back to their source topic
 * once the cause is fixed, with a dry run. A replayed message carries its original key, value and
 * headers, plus `varstream-replayed-from` (where the letter was on the dead-letter topic) and
 * `varstream-replayed-code` (why it had failed). Letters are streamed, never all held.
 */
import type { Config } from '../config/schema.ts';
import type { KafkaInspector, StoredDeadLetter } from '../consumers/inspect.ts';
import type { PublisherPort } from '../core/publisher.ts';

export const REPLAYED_FROM = 'varstream-replayed-from';
export const REPLAYED_CODE = 'varstream-replayed-code';

/** A dead letter as the commands show it: text, with a bounded preview of the value. */
export interface LetterView {
  dlq: string;
  code: string;
  reason: string;
  source: string;
  failedAt?: string;
  key: string | null;
  valueBytes: number;
  valueOmitted: boolean;
  valuePreview: string;
  /** Set when the message was itself a replay: where its earlier dead letter was. */
  replayedFrom?: string;
}

const PREVIEW_BYTES = 160;

export function letterView(letter: StoredDeadLetter, dlqTopic: string): LetterView {
  const value = letter.value ?? Buffer.alloc(0);
  const preview = value.subarray(0, PREVIEW_BYTES).toString('utf8').replace(/\s+/g, ' ');
  return {
    dlq: `${dlqTopic}/${letter.partition}@${letter.offset}`,
    code: letter.code,
    reason: letter.reason,
    source: `${letter.source.topic}/${letter.source.partition}@${letter.source.offset}`,
    failedAt: letter.failedAt,
    key: letter.key === null ? null : letter.key.toString('utf8'),
    valueBytes: value.length,
    valueOmitted: letter.valueOmitted,
    valuePreview: value.length > PREVIEW_BYTES ? `${preview}…` : preview,
    ...(letter.headers[REPLAYED_FROM] ? { replayedFrom: letter.headers[REPLAYED_FROM] } : {}),
  };
}

export function formatLetter(v: LetterView): string {
  const value = v.valueOmitted
    ? '(value not kept: too large for the dead-letter topic)'
    : `${v.valueBytes} B: ${v.valuePreview}`;
  return [
    `${v.failedAt ?? '-'}  ${v.code}  from ${v.source}  (${v.dlq})${v.replayedFrom ? `  replayed from ${v.replayedFrom}` : ''}`,
    `  reason: ${v.reason}`,
    `  key: ${v.key ?? '(none)'}`,
    `  value: ${value}`,
  ].join('\n');
}

/** The last `limit` dead letters (by time of failure), optionally of some codes only. */
export async function dlqTail(
  kafka: KafkaInspector,
  config: Config,
  options: { limit: number; codes?: readonly string[] },
): Promise<{ letters: LetterView[]; total: number; exists: boolean }> {
  const kept: LetterView[] = [];
  const { exists, total } = await kafka.forEachDeadLetter(
    config.topics.deadLetter,
    (letter) => {
      if (options.codes && !options.codes.includes(letter.code)) return;
      kept.push(letterView(letter, config.topics.deadLetter));
      // Bounded: keep at most twice the limit, the latest ones.
      if (kept.length > 2 * options.limit) {
        kept.sort(byFailure);
        kept.splice(0, kept.length - options.limit);
      }
    },
    // With a code filter the letters of that code may be older than the last `limit`: read all.
    { lastPerPartition: options.codes ? undefined : options.limit },
  );
  kept.sort(byFailure);
  return { letters: kept.slice(-options.limit), total, exists };
}

const byFailure = (a: LetterView, b: LetterView) =>
  (a.failedAt ?? '').localeCompare(b.failedAt ?? '') || a.dlq.localeCompare(b.dlq);

/** `topic:partition:offset` (or `topic/partition@offset`, as `dlq tail` prints it) of a source message. */
export function parseSourceOffset(text: string): string {
  const match = /^(.+?)[:/](\d+)[:@](\d+)$/.exec(text.trim());
  if (!match) throw new Error(`"${text}" is not topic:partition:offset (e.g. variants:0:42)`);
  return `${match[1]}/${Number(match[2])}@${Number(match[3])}`;
}

export interface ReplayResult {
  dryRun: boolean;
  /** Letters chosen and published (or that would be, in a dry run), by target topic. */
  replayed: Record<string, number>;
  /** Chosen letters that cannot be replayed: their value was not kept. */
  skipped: LetterView[];
  /** Letters on the dead-letter topic that were read. */
  read: number;
}

/**
 * Publishes the chosen dead letters back to the topics they came from. `codes` or `sources`
 * (`topic/partition@offset`, see parseSourceOffset) choose them; a letter without its value is
 * skipped and reported. Only topics of this configuration are replayed to.
 */
export async function dlqReplay(
  kafka: KafkaInspector,
  publishers: PublisherPort,
  config: Config,
  options: { codes?: readonly string[]; sources?: readonly string[]; dryRun: boolean },
): Promise<ReplayResult> {
  const targets = new Set([config.topics.variants, config.topics.embeddings]);
  const sources = options.sources ? new Set(options.sources) : undefined;
  const result: ReplayResult = { dryRun: options.dryRun, replayed: {}, skipped: [], read: 0 };
  const open = new Map<string, ReturnType<PublisherPort['publisher']>>();
  try {
    await kafka.forEachDeadLetter(config.topics.deadLetter, async (letter) => {
      result.read++;
      const view = letterView(letter, config.topics.deadLetter);
      if (options.codes && !options.codes.includes(letter.code)) return;
      if (sources && !sources.has(view.source)) return;
      if (!targets.has(letter.source.topic)) return;
      if (letter.valueOmitted || letter.value === null) {
        if (result.skipped.length < 1000) result.skipped.push(view);
        return;
      }
      const topic = letter.source.topic;
      result.replayed[topic] = (result.replayed[topic] ?? 0) + 1;
      if (options.dryRun) return;
      let publisher = open.get(topic);
      if (!publisher) {
        publisher = publishers.publisher(topic);
        await publisher.connect();
        open.set(topic, publisher);
      }
      await publisher.publish({
        key: letter.key,
        value: letter.value,
        headers: { ...letter.headers, [REPLAYED_FROM]: view.dlq, [REPLAYED_CODE]: letter.code },
      });
    });
  } finally {
    for (const publisher of open.values()) await publisher.close();
  }
  return result;
}
