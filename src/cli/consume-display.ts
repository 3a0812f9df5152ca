/**
 * `consume` on a terminal (LOG_FORMAT=pretty, or auto with stdout a TTY): a short start banner, a
 * live status block (per pipeline: committed of end, lag, rate; dead letters by code, what each
 * sink wrote, memory level, paused partitions), "caught up" when the lag reaches 0, one readable
 * line per dead letter (at most DEAD_LETTER_LINES per DEAD_LETTER_WINDOW_MS, then a count), and
 * log lines made readable by pino-pretty above the block (log-update keeps it at the bottom).
 * In containers (not a TTY, or LOG_FORMAT=json) none of this runs: the logs stay JSON lines.
 */
import { createLogUpdate } from 'log-update';
import { prettyFactory } from 'pino-pretty';
import { describeBudget } from '../backpressure/memory-budget.ts';
import type { Config } from '../config/schema.ts';
import type { KafkaInspector, TopicLag } from '../consumers/inspect.ts';
import type { PipelineConsumer } from '../consumers/pipeline-consumer.ts';

/** How often the status block is redrawn and the lag polled. */
export const STATUS_INTERVAL_MS = 1_000;
const DEAD_LETTER_LINES = 10;
const DEAD_LETTER_WINDOW_MS = 5_000;
const REASON_CHARS = 160;

const n = (x: number) => x.toLocaleString('en-US');

export function wantsPretty(config: Config, isTty = process.stdout.isTTY === true): boolean {
  return config.logFormat === 'pretty' || (config.logFormat === 'auto' && isTty);
}

export class ConsumeDisplay {
  /** stdout, with a width when the terminal reports none (a pseudo-terminal without a size says 0). */
  private readonly screen = {
    isTTY: process.stdout.isTTY === true,
    get columns() {
      return process.stdout.columns || 120;
    },
    get rows() {
      return process.stdout.rows || 40;
    },
    write: (text: string) => process.stdout.write(text),
  };
  private readonly update = createLogUpdate(this.screen as unknown as NodeJS.WriteStream, {
    showCursor: true,
  });
  private readonly prettify = prettyFactory({
    colorize: process.stdout.isTTY === true,
    translateTime: 'SYS:HH:MM:ss',
    // The banner says these; in JSON mode they stay on the start lines.
    ignore: 'pid,hostname,service,config,memory,stats,component,assignment',
  });
  private lags: TopicLag[] = [];
  private rate = new Map<string, number>();
  private last = new Map<string, { committed: number; at: number }>();
  private caughtUp = new Set<string>();
  /** What the group had committed at the first poll, and when the display started. */
  private readonly firstCommitted = new Map<string, number>();
  private started = performance.now();
  private memoryLevel = 'NORMAL';
  private readonly paused = new Map<string, string[]>();
  private letterWindow = { started: 0, shown: 0, suppressed: 0 };
  private timer: NodeJS.Timeout | undefined;
  private polling = false;
  private stopped = false;

  constructor(
    private readonly config: Config,
    private readonly topics: readonly string[],
    private readonly kafka: () => KafkaInspector | undefined,
  ) {}

  /** A pino destination: each log line, prettified, above the status block. */
  readonly logStream = {
    write: (line: string) => {
      const text = this.prettify(line).trimEnd();
      if (text.length > 0) this.persist(text);
    },
  };

  banner(version: string, sinks: Record<string, readonly string[]>): void {
    const budget = this.config.memoryBudget;
    const { httpPort } = this.config.telemetry;
    this.persist(
      [
        `varstream ${version}: consuming ${this.topics.map((t) => `${t} → ${(sinks[t] ?? []).join(', ')}`).join('; ')}`,
        `  brokers ${this.config.kafka.brokers.join(',')} · group ${this.config.kafka.groupId} · dead letters to ${this.config.topics.deadLetter}`,
        `  memory limit ${budget ? describeBudget(budget).limit : '-'}${httpPort > 0 ? ` · http :${httpPort} (/healthz /readyz /metrics)` : ''}`,
        '  Ctrl-C stops after writing and committing what is buffered (a second Ctrl-C exits at once)',
      ].join('\n'),
    );
  }

  watch(consumer: PipelineConsumer): void {
    consumer.on('memory-level', ({ level }: { level: string }) => {
      this.memoryLevel = level;
    });
    consumer.on(
      'pause',
      ({ topic, partitions, reasons }: { topic: string; partitions: number[]; reasons: string[] }) => {
        for (const p of partitions) this.paused.set(`${topic}/${p}`, reasons);
      },
    );
    consumer.on('resume', ({ topic, partitions }: { topic: string; partitions: number[] }) => {
      for (const p of partitions) this.paused.delete(`${topic}/${p}`);
    });
    consumer.on(
      'dead-letters',
      (letters: { topic: string; partition: number; offset: number; code: string; reason: string }[]) => {
        for (const l of letters) this.deadLetter(l);
      },
    );
    this.started = performance.now();
    this.timer = setInterval(() => void this.tick(consumer), STATUS_INTERVAL_MS);
    this.timer.unref();
    this.render(consumer);
  }

  /** Keeps the last status block on screen, below everything logged. */
  stop(consumer: PipelineConsumer): void {
    if (this.stopped) return;
    clearInterval(this.timer);
    this.flushSuppressed();
    this.render(consumer);
    this.update.done();
    this.stopped = true;
  }

  private persist(text: string): void {
    if (this.stopped) process.stdout.write(`${text}\n`);
    else this.update.persist(text);
  }

  private deadLetter(l: {
    topic: string;
    partition: number;
    offset: number;
    code: string;
    reason: string;
  }): void {
    const now = performance.now();
    if (now - this.letterWindow.started > DEAD_LETTER_WINDOW_MS) {
      this.flushSuppressed();
      this.letterWindow = { started: now, shown: 0, suppressed: 0 };
    }
    if (this.letterWindow.shown >= DEAD_LETTER_LINES) {
      this.letterWindow.suppressed++;
      return;
    }
    this.letterWindow.shown++;
    const reason = l.reason.length > REASON_CHARS ? `${l.reason.slice(0, REASON_CHARS)}…` : l.reason;
    this.persist(`dead letter ${l.code}  ${l.topic}/${l.partition}@${l.offset}  ${reason}`);
  }

  private flushSuppressed(): void {
    if (this.letterWindow.suppressed > 0)
      this.persist(
        `… and ${n(this.letterWindow.suppressed)} more dead letters (varstream dlq tail shows them)`,
      );
    this.letterWindow.suppressed = 0;
  }

  private async tick(consumer: PipelineConsumer): Promise<void> {
    const kafka = this.kafka();
    if (kafka && !this.polling) {
      this.polling = true;
      try {
        this.lags = await kafka.topicLags(this.config.kafka.groupId, this.topics);
        const now = performance.now();
        for (const t of this.lags) {
          const before = this.last.get(t.topic);
          if (before && now > before.at) {
            const instant = ((t.committed - before.committed) * 1000) / (now - before.at);
            this.rate.set(t.topic, 0.5 * instant + 0.5 * (this.rate.get(t.topic) ?? instant));
          }
          this.last.set(t.topic, { committed: t.committed, at: now });
          if (!this.firstCommitted.has(t.topic)) this.firstCommitted.set(t.topic, t.committed);
          const done = t.exists && t.lag === 0 && t.end > 0;
          if (done && !this.caughtUp.has(t.topic)) {
            const first = this.firstCommitted.get(t.topic) ?? 0;
            const seconds = (now - this.started) / 1000;
            this.persist(
              `caught up: ${t.topic} committed ${n(t.committed)} of ${n(t.end)}${t.committed > first ? ` (${n(t.committed - first)} in ${seconds.toFixed(1)} s since the start, ${n(Math.round((t.committed - first) / seconds))}/s)` : ''}`,
            );
          }
          if (done) this.caughtUp.add(t.topic);
          else if (t.lag > 0) this.caughtUp.delete(t.topic);
        }
      } catch {
        // The next poll tries again; the block keeps the last figures.
      } finally {
        this.polling = false;
      }
    }
    if (!this.stopped) this.render(consumer);
  }

  private render(consumer: PipelineConsumer): void {
    const lines: string[] = [];
    for (const topic of this.topics) {
      const lag = this.lags.find((t) => t.topic === topic);
      const rate = this.rate.get(topic);
      lines.push(
        lag?.exists
          ? `${topic}: committed ${n(lag.committed)} of ${n(lag.end)} · lag ${n(lag.lag)}${lag.lag === 0 ? ' (caught up)' : rate !== undefined ? ` · ${n(Math.round(rate))}/s` : ''}`
          : `${topic}: waiting for the group's first poll`,
      );
    }
    const { stats } = consumer;
    const letters = Object.entries(stats.deadLetters)
      .sort((a, b) => b[1] - a[1])
      .map(([code, count]) => `${code} ${n(count)}`);
    // Rows for LanceDB; nodes and edges upserted for the graph.
    const written = Object.entries(stats.written).map(
      ([sink, count]) => `${sink} ${n(count)} ${sink === 'kuzu' ? 'nodes+edges' : 'rows'}`,
    );
    lines.push(
      `consumed ${n(stats.messages)} · written ${written.join(', ') || '0'} · dead letters ${letters.join(', ') || '0'}`,
    );
    const rss = process.memoryUsage.rss();
    const limit = this.config.memoryBudget?.limitBytes;
    const paused = [...this.paused].map(([tp, reasons]) => `${tp} (${reasons.join(', ')})`);
    lines.push(
      `memory ${this.memoryLevel} · RSS ${Math.round(rss / 1024 ** 2)} MiB${limit ? ` of ${Math.round(limit / 1024 ** 2)} MiB` : ''} · paused ${paused.join(', ') || 'none'}`,
    );
    this.update(lines.join('\n'));
  }
}
