/**
 * Checks what landed against the chaos producer's ledger, after the consumer has stopped:
 * - every valid variant key: exactly one LanceDB row, one Kuzu Variant node, and exactly its
 *   CARRIED_BY and IN_GENE edges; every valid embedding id: exactly one row;
 * - or, instead, the key on the dead-letter topic with a reason (hostile messages must be there,
 *   with the code their generator expects);
 * - the group's committed offsets equal the end offsets of every topic it consumes.
 */
import * as lancedb from '@lancedb/lancedb';
import type { Kafka } from 'kafkajs';
import type { Config } from '../config/schema.ts';
import { caughtUp } from '../consumers/topics.ts';
import { VARIANT_TABLES } from '../sinks/kuzu/graph-schema.ts';
import { KuzuStore } from '../sinks/kuzu/kuzu-store.ts';
import type { LedgerEntry } from './ledger.ts';

export interface Verdict {
  produced: number;
  stored: number;
  deadLettered: number;
  /** Keys stored more than once in some store (rows, nodes or edges beyond the expected). */
  duplicates: number;
  /** Keys neither fully stored nor dead-lettered (including hostile ones not dead-lettered). */
  lost: number;
  /** Hostile keys dead-lettered with a code other than the one(s) their generator expects. */
  wrongCode: number;
  committedAtEnd: boolean;
  /** Dead letters of the ledger's keys by error code. */
  codes: Record<string, number>;
  /** Up to 5 examples of what went wrong, for the report. */
  problems: string[];
}

export async function verify(
  kafka: Kafka,
  config: Config,
  ledger: Iterable<LedgerEntry>,
  topics: readonly string[],
): Promise<Verdict> {
  const entries = [...ledger];
  const letters = await deadLetterReasons(kafka, config.topics.deadLetter);
  const wantsVariants = entries.some((e) => e.expect.kind === 'variant');
  const wantsEmbeddings = entries.some((e) => e.expect.kind === 'embedding');
  const lance = wantsVariants
    ? await lanceKeyCounts(config.lancedb.uri, config.lancedb.variantsTable, 'variant_id')
    : new Map();
  const embeddings = wantsEmbeddings
    ? await lanceKeyCounts(config.lancedb.uri, config.lancedb.embeddingsTable, 'id')
    : new Map();
  const graph =
    wantsVariants && config.variants.sinks.includes('kuzu') ? await graphCounts(config) : undefined;
  const verdict: Verdict = { ...emptyVerdict(), produced: entries.length };
  for (const entry of entries)
    for (const letter of letters.get(entry.key) ?? []) {
      const code = letter.slice(0, letter.indexOf(':'));
      verdict.codes[code] = (verdict.codes[code] ?? 0) + 1;
    }
  const problem = (text: string) => {
    if (verdict.problems.length < 5) verdict.problems.push(text);
  };
  for (const entry of entries) {
    const dead = letters.get(entry.key);
    const { expect } = entry;
    if (expect.kind === 'hostile') {
      const codes = (dead ?? []).map((letter) => letter.slice(0, letter.indexOf(':')));
      if (dead && codes.every((code) => expect.codes.includes(code))) verdict.deadLettered++;
      else if (dead) {
        verdict.wrongCode++;
        problem(
          `hostile ${entry.key} (${expect.what}) dead-lettered ${codes.join(', ')}, expected ${expect.codes.join(' or ')}`,
        );
      } else {
        verdict.lost++;
        problem(`hostile ${entry.key} (${expect.what}) is not on the dead-letter topic`);
      }
      continue;
    }
    const counts: Array<[string, number, number]> = [];
    if (expect.kind === 'variant') {
      if (config.variants.sinks.includes('lancedb'))
        counts.push(['lancedb row', lance.get(expect.variantId) ?? 0, 1]);
      if (graph) {
        counts.push(['Variant node', graph.nodes.get(expect.variantId) ?? 0, 1]);
        counts.push(['CARRIED_BY edges', graph.calls.get(expect.variantId) ?? 0, expect.carriers]);
        counts.push(['IN_GENE edges', graph.genes.get(expect.variantId) ?? 0, expect.genes]);
      }
    } else {
      for (const id of expect.ids) counts.push([`embedding ${id}`, embeddings.get(id) ?? 0, 1]);
    }
    const over = counts.find(([, n, want]) => n > want);
    if (over) {
      verdict.duplicates++;
      problem(`${entry.key}: ${over[1]} ${over[0]}, expected ${over[2]}`);
    }
    if (counts.every(([, n, want]) => n === want)) verdict.stored++;
    else if (dead) verdict.deadLettered++;
    else if (!over) {
      verdict.lost++;
      const short = counts.find(([, n, want]) => n < want);
      problem(`${entry.key}: ${short?.[1]} ${short?.[0]}, expected ${short?.[2]}, and no dead letter`);
    }
  }
  for (const topic of topics) {
    const { done, lag } = await caughtUp(kafka, config.kafka.groupId, topic);
    if (!done) {
      verdict.committedAtEnd = false;
      problem(`${topic}: committed offsets are ${lag} behind the end`);
    }
  }
  return verdict;
}

/** A verdict with nothing counted yet. */
export function emptyVerdict(): Verdict {
  return {
    produced: 0,
    stored: 0,
    deadLettered: 0,
    duplicates: 0,
    lost: 0,
    wrongCode: 0,
    committedAtEnd: true,
    codes: {},
    problems: [],
  };
}

/** Dead letters by original key: their error codes and reasons. */
export async function deadLetterReasons(kafka: Kafka, topic: string): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  const admin = kafka.admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(topic).finally(() => admin.disconnect());
  const remaining = new Map(
    ends.filter((e) => Number(e.high) > Number(e.low)).map((e) => [e.partition, Number(e.high)]),
  );
  if (remaining.size === 0) return out;
  const consumer = kafka.consumer({
    groupId: `chaos-reader-${process.pid}-${Date.now()}`,
    maxBytes: 16 * 1024 ** 2,
  });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    const done = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`reading ${topic} took more than 120 s`)), 120_000);
      void consumer.run({
        eachMessage: async ({ partition, message }) => {
          const key = message.key?.toString() ?? '';
          const code = message.headers?.['dlq-error-code']?.toString() ?? '?';
          const reason = message.headers?.['dlq-error-message']?.toString() ?? '';
          out.set(key, [...(out.get(key) ?? []), `${code}: ${reason}`]);
          if (Number(message.offset) + 1 >= (remaining.get(partition) ?? 0)) remaining.delete(partition);
          if (remaining.size === 0) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    });
    await done;
  } finally {
    await consumer.disconnect();
  }
  return out;
}

async function lanceKeyCounts(uri: string, table: string, key: string): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  const db = await lancedb.connect(uri);
  try {
    if (!(await db.tableNames()).includes(table)) return counts;
    const t = await db.openTable(table);
    try {
      for await (const batch of t.query().select([key])) {
        const column = batch.getChild(key);
        for (let i = 0; i < batch.numRows; i++) {
          const id = String(column?.get(i));
          counts.set(id, (counts.get(id) ?? 0) + 1);
        }
      }
    } finally {
      t.close();
    }
  } finally {
    db.close();
  }
  return counts;
}

async function graphCounts(config: Config) {
  const store = new KuzuStore(config.kuzu.path, 128 * 1024 ** 2);
  await store.open();
  const tally = async (query: string) => {
    const counts = new Map<string, number>();
    for (const row of await store.run(query)) counts.set(String(row.id), Number(row.n));
    return counts;
  };
  try {
    return {
      nodes: await tally(`MATCH (v:${VARIANT_TABLES.join(':')}) RETURN v.id AS id, count(*) AS n`),
      calls: await tally('MATCH (v)-[e:CARRIED_BY]->(:Sample) RETURN v.id AS id, count(e) AS n'),
      genes: await tally('MATCH (v)-[e:IN_GENE]->(:Gene) RETURN v.id AS id, count(e) AS n'),
    };
  } finally {
    await store.close();
  }
}
