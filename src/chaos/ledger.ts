/**
 * The chaos producer and its ledger: what was sent, acknowledged by the broker, and what each
 * message must become. The verifier checks the stores and the dead-letter topic against it.
 *
 * - Valid variant messages each describe one new site with one ALT allele: one LanceDB row, one
 *   Variant node, `carriers` CARRIED_BY edges and `genes` IN_GENE edges.
 * - Valid embeddings (JSON, float32 or Arrow) each have a unique id: one row in the embeddings table.
 * - Hostile messages (hostile.ts) must each end on the dead-letter topic, with one of their codes.
 * Every message has a unique key, and a message is recorded once the broker acknowledged it. A
 * send that failed is sent again (possibly twice in the log: the verifier counts keys, not sends).
 */
import type { Kafka, Message, Producer } from 'kafkajs';
import { Partitioners } from 'kafkajs';
import { VARIANT_CONTENT_TYPE } from '../contract/variant-message.ts';
import { encodeArrow, encodeFloat32, encodeJson } from '../producer/embedding-encoding.ts';
import { mulberry32 } from '../producer/prng.ts';

export type Expectation =
  | { kind: 'variant'; variantId: string; carriers: number; genes: number }
  | { kind: 'embedding'; ids: string[] }
  | { kind: 'hostile'; what: string; codes: readonly string[] };

export interface LedgerEntry {
  key: string;
  topic: string;
  expect: Expectation;
}

export interface Outgoing {
  entry: LedgerEntry;
  message: Message;
}

const GENES = ['BRCA1', 'BRCA2', 'TP53', 'EGFR', 'KRAS', 'MYC'];
const SAMPLES = ['S1', 'S2', 'S3', 'S4'];
const GTS = ['0/1', '1/1', '0/0', '1|0', './.'];

/**
 * Valid variant messages: site `chaos{run}` : `{pos}` with pos = first, first + 1, ...; with
 * `chromosomes`, the sites go round those instead (so they land in several graph shards).
 */
export function variantMessages(
  topic: string,
  run: string,
  first: number,
  count: number,
  chromosomes?: readonly string[],
): Outgoing[] {
  const random = mulberry32(first);
  const out: Outgoing[] = [];
  for (let pos = first; pos < first + count; pos++) {
    const chrom = chromosomes ? (chromosomes[pos % chromosomes.length] as string) : `chaos${run}`;
    const samples: Record<string, { GT: string; DP: number; GQ: number }> = {};
    let carriers = 0;
    for (const sample of SAMPLES) {
      const gt = GTS[Math.floor(random() * GTS.length)] as string;
      samples[sample] = { GT: gt, DP: Math.floor(random() * 60), GQ: Math.floor(random() * 99) };
      if (gt.includes('1')) carriers++;
    }
    const genes = GENES.filter(() => random() < 0.3);
    const body = { chrom, pos, ref: 'A', alt: ['G'], qual: 50, filter: ['PASS'], genes, samples };
    const key = `${chrom}-${pos}-A`;
    out.push({
      entry: {
        key,
        topic,
        expect: { kind: 'variant', variantId: `${key}-G`, carriers, genes: genes.length },
      },
      message: { key, value: JSON.stringify(body), headers: { 'content-type': VARIANT_CONTENT_TYPE } },
    });
  }
  return out;
}

/** Valid embeddings of dimension `dim`, in turn JSON, float32 and Arrow (3 rows per Arrow message). */
export function embeddingMessages(topic: string, run: string, count: number, dim: number): Outgoing[] {
  const random = mulberry32(count + dim);
  const vector = () => Float32Array.from({ length: dim }, () => random() - 0.5);
  const out: Outgoing[] = [];
  for (let i = 0; i < count; i++) {
    const id = `emb-${run}-${i}`;
    if (i % 3 === 2) {
      const ids = [0, 1, 2].map((k) => `${id}-arrow${k}`);
      const vectors = new Float32Array(3 * dim);
      for (let k = 0; k < 3; k++) vectors.set(vector(), k * dim);
      const encoded = encodeArrow(ids, vectors, dim);
      out.push({
        entry: { key: id, topic, expect: { kind: 'embedding', ids } },
        message: { key: id, value: encoded.value, headers: encoded.headers },
      });
      continue;
    }
    const encoded = (i % 3 === 0 ? encodeJson : encodeFloat32)({ id, vector: vector() });
    out.push({
      entry: { key: id, topic, expect: { kind: 'embedding', ids: [id] } },
      message: { key: id, value: encoded.value, headers: encoded.headers },
    });
  }
  return out;
}

/**
 * Sends messages and records those the broker acknowledged. Sends in chunks, optionally paced;
 * a failed chunk is sent again with a new producer after a pause, until it is acknowledged or
 * `stop()` is called (the broker may be restarting).
 */
export class LedgerProducer {
  readonly entries = new Map<string, LedgerEntry>();
  private producer: Producer | undefined;
  private stopped = false;
  sendFailures = 0;

  constructor(private readonly kafka: Kafka) {}

  async send(
    messages: readonly Outgoing[],
    options: { chunk?: number; perSecond?: number } = {},
  ): Promise<void> {
    const chunk = options.chunk ?? 100;
    const started = performance.now();
    for (let i = 0; i < messages.length && !this.stopped; i += chunk) {
      const part = messages.slice(i, i + chunk);
      await this.sendChunk(part);
      if (options.perSecond) {
        const due = started + ((i + part.length) / options.perSecond) * 1000;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      }
    }
  }

  stop(): void {
    this.stopped = true;
  }

  async close(): Promise<void> {
    await this.producer?.disconnect().catch(() => undefined);
    this.producer = undefined;
  }

  private async sendChunk(part: readonly Outgoing[]): Promise<void> {
    const byTopic = new Map<string, Message[]>();
    for (const { entry, message } of part)
      byTopic.set(entry.topic, [...(byTopic.get(entry.topic) ?? []), message]);
    let attempts = 0;
    for (;;) {
      try {
        const producer = await this.connected();
        await producer.sendBatch({
          acks: -1,
          topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
        });
        for (const { entry } of part) this.entries.set(entry.key, entry);
        return;
      } catch (error) {
        this.sendFailures++;
        // About two minutes of retries: enough for a broker restart, not for a message it refuses.
        if (this.stopped || ++attempts >= 100) throw error;
        await this.close();
        await new Promise((resolve) => setTimeout(resolve, 1_000));
      }
    }
  }

  private async connected(): Promise<Producer> {
    if (!this.producer) {
      const producer = this.kafka.producer({
        allowAutoTopicCreation: false,
        createPartitioner: Partitioners.DefaultPartitioner,
        retry: { retries: 3 },
      });
      await producer.connect();
      this.producer = producer;
    }
    return this.producer;
  }
}
