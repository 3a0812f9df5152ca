/**
 * The fault scenarios. Each runs `varstream consume` as child processes (the real command) with its
 * own topics, group and data directory, against the real broker, while the chaos producer sends;
 * applies its fault; stops the consumer with SIGTERM; and checks the outcome against the ledger.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { isolatedEnv, MeasuredConsumer } from '../bench/child-process.ts';
import { loadConfig } from '../config/index.ts';
import { type Config, pipelineTopics } from '../config/schema.ts';
import { createKafka } from '../consumers/kafka-client.ts';
import { caughtUp, ensureTopics } from '../consumers/topics.ts';
import { createLogger } from '../core/logger.ts';
import { mulberry32 } from '../producer/prng.ts';
import { HOSTILE_MAX_CALLS, hostileMessages } from './hostile.ts';
import { embeddingMessages, LedgerProducer, type Outgoing, variantMessages } from './ledger.ts';
import { emptyVerdict, type Verdict, verify } from './verify.ts';

const KAFKA_SH = fileURLToPath(new URL('../../scripts/kafka/kafka.sh', import.meta.url));

export const SCENARIOS = [
  'kill-9',
  'kill-9-graph',
  'group-1-3-1',
  'broker-restart',
  'failing-sink',
  'hostile-input',
] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

export interface ScenarioOptions {
  /** kill -9 rounds (kill-9 only). */
  rounds: number;
  /** Valid messages per scenario. */
  messages: number;
  /** Hostile messages per topic (hostile-input only). */
  hostile: number;
  seed: number;
  /** Print progress lines. */
  log?: (line: string) => void;
}

export interface ScenarioResult extends Verdict {
  scenario: ScenarioName;
  /** Consumer processes started after the first (restarts after kill -9, members added). */
  restarts: number;
  /** Consumer exits nobody asked for (a crash), and SIGTERM stops that did not exit 0. */
  crashes: number;
  seconds: number;
  /** Why the scenario did not run, when it did not. */
  skipped?: string;
}

const DIM = 8;
const MAX_MESSAGE_BYTES = 256 * 1024;

class Run {
  readonly id: string;
  readonly dir: string;
  readonly env: Record<string, string>;
  readonly config: Config;
  readonly kafka;
  readonly producer;
  readonly topics: string[];
  started = 0;
  crashes = 0;
  private members: MeasuredConsumer[] = [];
  private readonly expectedExit = new WeakSet<MeasuredConsumer>();

  constructor(
    readonly name: ScenarioName,
    extra: Record<string, string>,
    readonly options: ScenarioOptions,
  ) {
    this.id = `chaos-${name}-${Date.now().toString(36)}`;
    this.dir = mkdtempSync(join(tmpdir(), 'varstream-chaos-'));
    this.env = isolatedEnv(this.id, this.dir, {
      VARSTREAM_PIPELINES: 'variants',
      VARSTREAM_SESSION_TIMEOUT_MS: '6000',
      VARSTREAM_BATCH_LINGER_MS: '100',
      VARSTREAM_BATCH_MAX_ROWS: '500',
      VARSTREAM_KUZU_BUFFER_POOL: '128Mi',
      VARSTREAM_SINK_RETRY_INITIAL_MS: '50',
      VARSTREAM_SINK_RETRY_MAX_MS: '1000',
      VARSTREAM_SHUTDOWN_GRACE_MS: '20000',
      VARSTREAM_MAX_MESSAGE_BYTES: String(MAX_MESSAGE_BYTES),
      VARSTREAM_EMBEDDING_DIM: String(DIM),
      VARSTREAM_MEMORY_LIMIT: '1Gi',
      // info: the consumer's "joined consumer group" line tells the harness it is in the group.
      LOG_LEVEL: 'info',
      ...extra,
    });
    this.config = loadConfig({ env: this.env });
    this.kafka = createKafka(this.config, createLogger('silent'));
    this.producer = new LedgerProducer(this.kafka);
    this.topics = pipelineTopics(this.config);
  }

  log(line: string): void {
    this.options.log?.(`[${this.name}] ${line}`);
  }

  async setup(): Promise<void> {
    await ensureTopics(this.kafka, this.config);
  }

  variants(first: number, count: number, chromosomes?: readonly string[]): Outgoing[] {
    return variantMessages(
      this.config.topics.variants,
      this.id.replace(/[^a-z0-9]/gi, ''),
      first,
      count,
      chromosomes,
    );
  }

  /** Waits until the graph sink has staged files of a batch, i.e. a graph write is under way. */
  async graphWriteBegun(timeoutMs = 30_000): Promise<boolean> {
    const staging = join(dirname(this.config.kuzu.path), 'staging');
    const deadline = performance.now() + timeoutMs;
    while (performance.now() < deadline) {
      if (existsSync(staging) && readdirSync(staging).some((f) => f.startsWith('batch-'))) return true;
      await sleep(2);
    }
    return false;
  }

  /** Starts one more consumer process. */
  start(): MeasuredConsumer {
    this.started++;
    const member = new MeasuredConsumer(this.env, { sampleMs: 1_000 });
    this.members.push(member);
    void member.waitExit(24 * 3_600_000).then(
      ({ exitCode }) => {
        if (!this.expectedExit.has(member)) {
          this.crashes++;
          this.log(`consumer exited unasked (code ${exitCode}): ${member.lines.slice(-5).join(' | ')}`);
        }
      },
      () => undefined,
    );
    return member;
  }

  /** Waits until `members` logged that they joined, and the group is stable with `count` members. */
  async joined(members: MeasuredConsumer[], count: number, timeoutMs = 90_000): Promise<void> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      const deadline = performance.now() + timeoutMs;
      for (;;) {
        const { groups } = await admin.describeGroups([this.config.kafka.groupId]);
        const group = groups[0];
        const stable = group?.state === 'Stable' && group.members.length === count;
        if (stable && members.every((m) => m.joinedAt !== undefined)) return;
        if (performance.now() > deadline)
          throw new Error(`group ${this.config.kafka.groupId} did not reach ${count} stable members`);
        await sleep(200);
      }
    } finally {
      await admin.disconnect();
    }
  }

  kill(member: MeasuredConsumer): Promise<unknown> {
    this.expectedExit.add(member);
    this.members = this.members.filter((m) => m !== member);
    member.child.kill('SIGKILL');
    return member.waitExit(30_000);
  }

  /** SIGTERM: the member must flush, commit, leave and exit 0. */
  async stop(member: MeasuredConsumer): Promise<void> {
    this.expectedExit.add(member);
    this.members = this.members.filter((m) => m !== member);
    const { exitCode } = await member.stop();
    if (exitCode !== 0) {
      this.crashes++;
      this.log(`SIGTERM stop exited ${exitCode}: ${member.lines.slice(-5).join(' | ')}`);
    }
  }

  async caughtUp(timeoutMs = 180_000): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    const lags = new Map<string, string>();
    for (;;) {
      let done = true;
      for (const topic of this.topics) {
        // Right after a broker restart the admin client may meet a coordinator still loading.
        const state = await caughtUp(this.kafka, this.config.kafka.groupId, topic).catch(
          (error: unknown) => ({ done: false, lag: `unknown (${(error as Error).message})` }),
        );
        lags.set(topic, String(state.lag));
        if (!state.done) done = false;
      }
      if (done) return;
      if (this.members.length === 0) throw new Error('no consumer is running');
      if (performance.now() > deadline)
        throw new Error(
          `not caught up after ${timeoutMs} ms: lag ${[...lags].map(([t, l]) => `${l} on ${t}`).join(', ')}; ` +
            this.members
              .map(
                (m, i) =>
                  `member ${i + 1} logged ${JSON.stringify([...m.messages])}; its last errors:\n${m.lines.slice(-15).join('\n')}`,
              )
              .join('\n'),
        );
      await sleep(250);
    }
  }

  async finish(started: number): Promise<ScenarioResult> {
    for (const member of [...this.members]) await this.stop(member);
    await this.producer.close();
    const verdict = await verify(this.kafka, this.config, this.producer.entries.values(), this.topics);
    rmSync(this.dir, { recursive: true, force: true });
    return {
      scenario: this.name,
      ...verdict,
      restarts: Math.max(0, this.started - 1),
      crashes: this.crashes,
      seconds: Math.round((performance.now() - started) / 100) / 10,
    };
  }

  async abort(): Promise<void> {
    this.producer.stop();
    for (const member of [...this.members]) await this.kill(member).catch(() => undefined);
    await this.producer.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export async function runScenario(name: ScenarioName, options: ScenarioOptions): Promise<ScenarioResult> {
  const started = performance.now();
  const run = new Run(name, extraEnv(name), options);
  try {
    await run.setup();
    const skipped = name === 'broker-restart' ? brokerRestartUnavailable() : undefined;
    if (skipped) {
      await run.abort();
      return { scenario: name, ...emptyVerdict(), restarts: 0, crashes: 0, seconds: 0, skipped };
    }
    await SCRIPTS[name](run, options);
    return await run.finish(started);
  } catch (error) {
    await run.abort();
    throw error;
  }
}

function extraEnv(name: ScenarioName): Record<string, string> {
  if (name === 'failing-sink')
    return { VARSTREAM_TEST_SINK_FAILURE_RATE: '0.3', VARSTREAM_TEST_SINK_REJECT_EVERY: '97' };
  if (name === 'hostile-input')
    return { VARSTREAM_PIPELINES: 'variants,embeddings', VARSTREAM_MAX_CALLS: String(HOSTILE_MAX_CALLS) };
  // Kuzu is a single-writer embedded database (one process per graph): the members that scale
  // out are those of the vector pipeline, which writes LanceDB only.
  if (name === 'group-1-3-1') return { VARSTREAM_VARIANT_SINKS: 'lancedb' };
  // The graph alone, small batches: many writes, each one a moment to be killed in.
  if (name === 'kill-9-graph') return { VARSTREAM_VARIANT_SINKS: 'kuzu', VARSTREAM_BATCH_MAX_ROWS: '100' };
  return {};
}

const SCRIPTS: Record<ScenarioName, (run: Run, options: ScenarioOptions) => Promise<void>> = {
  /** kill -9 at a random moment (fetching, building, writing or committing), N times, restarting. */
  'kill-9': async (run, { rounds, messages, seed }) => {
    const random = mulberry32(seed);
    const all = run.variants(1, messages);
    const half = Math.floor(messages / 2);
    await run.producer.send(all.slice(0, half));
    // The rest arrives while the rounds run, so kills also land while fresh data is fetched.
    const sending = run.producer.send(all.slice(half), {
      chunk: 50,
      perSecond: Math.max(50, messages / (rounds * 4)),
    });
    for (let round = 1; round <= rounds; round++) {
      const member = run.start();
      await run.joined([member], 1);
      const delay = 200 + Math.floor(random() * 2_500);
      await sleep(delay);
      run.log(`round ${round}: kill -9 after ${delay} ms in the group`);
      await run.kill(member);
    }
    await sending;
    await run.joined([run.start()], 1);
    await run.caughtUp();
  },

  /**
   * kill -9 while the graph sink is writing (its batch staged, its transaction running, committing
   * or checkpointing), N times, restarting: Kuzu's recovery and the sink's idempotence must leave
   * every node and edge exactly once. Sites on real chromosomes, so writes span several shards.
   */
  'kill-9-graph': async (run, { rounds, messages, seed }) => {
    const random = mulberry32(seed + 9);
    const chromosomes = ['chr1', 'chr2', 'chr7', 'chr17', 'chrX', 'chrUn_KI270742v1'];
    await run.producer.send(run.variants(1, messages, chromosomes));
    for (let round = 1; round <= rounds; round++) {
      const member = run.start();
      await run.joined([member], 1);
      if (!(await run.graphWriteBegun())) throw new Error(`round ${round}: no graph write began within 30 s`);
      const delay = Math.floor(random() * 400);
      await sleep(delay);
      run.log(`round ${round}: kill -9 ${delay} ms into a graph write`);
      await run.kill(member);
    }
    await run.joined([run.start()], 1);
    await run.caughtUp();
  },

  /** One member, then three while the producer runs, then back to one. */
  'group-1-3-1': async (run, { messages }) => {
    const sending = run.producer.send(run.variants(1, messages), { chunk: 50, perSecond: messages / 20 });
    const first = run.start();
    await run.joined([first], 1);
    const added = [run.start(), run.start()];
    await run.joined(added, 3);
    run.log('three members; back to one');
    await sleep(1_000);
    for (const member of added) await run.stop(member);
    await run.joined([first], 1);
    await sending;
    await run.caughtUp();
  },

  /** The broker stopped and started again mid-stream (the local broker of scripts/kafka/kafka.sh). */
  'broker-restart': async (run, { messages }) => {
    const all = run.variants(1, messages);
    await run.producer.send(all.slice(0, Math.floor(messages / 3)));
    await run.joined([run.start()], 1);
    const sending = run.producer.send(all.slice(Math.floor(messages / 3)), {
      chunk: 50,
      perSecond: messages / 15,
    });
    await sleep(1_000);
    run.log('stopping the broker');
    kafkaScript('down');
    await sleep(2_000);
    run.log('starting the broker');
    kafkaScript('up');
    await sending;
    await run.caughtUp(240_000);
  },

  /** Sinks fail 30% of write attempts (transient) and reject every 97th offset (as content). */
  'failing-sink': async (run, { messages }) => {
    const all = run.variants(1, messages);
    await run.producer.send(all.slice(0, Math.floor(messages / 2)));
    await run.joined([run.start()], 1);
    await run.producer.send(all.slice(Math.floor(messages / 2)), { chunk: 50, perSecond: messages / 10 });
    await run.caughtUp();
  },

  /** Valid and hostile messages interleaved, on both topics. */
  'hostile-input': async (run, { messages, hostile, seed }) => {
    const { topics } = run.config;
    const valid = run.variants(1, messages);
    const embeddings = embeddingMessages(
      topics.embeddings,
      run.id,
      Math.max(3, Math.floor(messages / 10)),
      DIM,
    );
    const options = { maxMessageBytes: MAX_MESSAGE_BYTES, dim: DIM, seed };
    const bad = [
      ...hostileMessages('variants', topics.variants, run.id, hostile, options),
      ...hostileMessages('embeddings', topics.embeddings, run.id, hostile, { ...options, seed: seed + 1 }),
    ];
    const mixed = interleave([valid, embeddings, bad]);
    await run.joined([run.start()], 1);
    // One message per request: two oversized ones together would pass the broker's own limit.
    await run.producer.send(mixed, { chunk: 1 });
    await run.caughtUp();
  },
};

function interleave<T>(lists: T[][]): T[] {
  const out: T[] = [];
  const longest = Math.max(...lists.map((l) => l.length));
  for (let i = 0; i < longest; i++) for (const list of lists) if (i < list.length) out.push(list[i] as T);
  return out;
}

function kafkaScript(command: 'up' | 'down' | 'status'): boolean {
  const result = spawnSync('bash', [KAFKA_SH, command], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (command !== 'status' && result.status !== 0)
    throw new Error(`kafka.sh ${command} failed (${result.status})`);
  return result.status === 0;
}

/** The broker can be restarted only when it is the one scripts/kafka/kafka.sh runs. */
function brokerRestartUnavailable(): string | undefined {
  const port = process.env.KAFKA_PORT ?? '19092';
  const brokers = process.env.KAFKA_BROKERS ?? `127.0.0.1:${port}`;
  if (brokers !== `127.0.0.1:${port}` && brokers !== `localhost:${port}`)
    return `KAFKA_BROKERS (${brokers}) is not the local broker of kafka.sh (port ${port})`;
  if (!kafkaScript('status')) return 'the local broker of kafka.sh is not running';
  return undefined;
}
