/**
 * Runs `varstream consume` as a child process and measures it from the outside: RSS sampled from
 * /proc (and the kernel's own peak, VmHWM), CPU seconds, and when it joined its group.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { Admin, Kafka } from 'kafkajs';
import { caughtUp } from '../consumers/topics.ts';
import type { MemoryCgroup } from './memory-cgroup.ts';

/**
 * glibc settings of every measured process, as the npm scripts and the image set them: two arenas,
 * and a fixed mmap threshold so that freed store buffers (LanceDB's per-write Arrow and merge
 * buffers) return to the kernel instead of staying in the heap (docs/memory.md).
 */
export const ALLOCATOR_ENV = {
  MALLOC_ARENA_MAX: '2',
  MALLOC_MMAP_THRESHOLD_: '4194304',
  MALLOC_TRIM_THRESHOLD_: '4194304',
} as const;

const MAIN = fileURLToPath(new URL('../cli/main.ts', import.meta.url));
const CLOCK_TICKS = 100;

export interface ChildUsage {
  peakRssBytes: number;
  /** The kernel's high-water mark of the resident set (VmHWM). */
  hwmBytes: number;
  cpuSeconds: number;
}

/** Children still running: killed when the bench exits, so none outlives an interrupted run. */
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));

export class MeasuredConsumer {
  readonly child: ChildProcess;
  joinedAt: number | undefined;
  readonly spawnedAt: number;
  private peakRss = 0;
  private hwm = 0;
  private cpu = 0;
  private readonly timer: NodeJS.Timeout;
  private readonly exited: Promise<number | null>;
  readonly lines: string[] = [];

  /** Log messages of the child counted by their `msg` (e.g. "paused partitions"). */
  readonly messages = new Map<string, number>();

  /**
   * Starts `command` (default: `varstream consume` under this Node). A command that does not log
   * "joined consumer group" counts as joined when it is spawned.
   */
  constructor(
    env: Record<string, string>,
    options: {
      command?: string;
      args?: readonly string[];
      sampleMs?: number;
      discardStdout?: boolean;
      /** Sees every stdout line (the child's JSON log). */
      onLine?: (line: string) => void;
      /** Appends the child's log (stdout and stderr lines) to this file. */
      logFile?: string;
      /** Runs the child inside this memory cgroup (as a container would). */
      cgroup?: MemoryCgroup;
      /**
       * Runs the command under this one (e.g. `env LD_PRELOAD=… MALLOC_CONF=…` to profile its
       * native heap). It must exec its arguments, so that the measured process is the command's.
       */
      wrap?: readonly string[];
    } = {},
  ) {
    const inherited = { ...process.env };
    // Inside `node --test`, a child inheriting this would report to the runner instead of stdout.
    delete inherited.NODE_TEST_CONTEXT;
    const own = {
      command: options.command ?? process.execPath,
      args: options.command
        ? [...(options.args ?? [])]
        : [...childNodeArgs(), '--import', 'tsx', MAIN, 'consume'],
    };
    const [wrapper, ...wrapperArgs] = options.wrap ?? [];
    const direct = wrapper ? { command: wrapper, args: [...wrapperArgs, own.command, ...own.args] } : own;
    const { command, args } = options.cgroup ? options.cgroup.wrap(direct.command, direct.args) : direct;
    this.child = spawn(command, args, {
      // JSON lines (a terminal's LOG_FORMAT must not reach it); the level as the bench asks, else info.
      env: { ...ALLOCATOR_ENV, LOG_LEVEL: 'info', ...inherited, LOG_FORMAT: 'json', ...env },
      stdio: ['ignore', options.discardStdout ? 'ignore' : 'pipe', 'pipe'],
    });
    this.spawnedAt = performance.now();
    if (options.command && options.command !== process.execPath) this.joinedAt = this.spawnedAt;
    // 'close', not 'exit': the child's stdout is read to its end first.
    live.add(this.child);
    this.exited = new Promise((resolve) =>
      this.child.on('close', (code) => {
        live.delete(this.child);
        resolve(code);
      }),
    );
    const log = options.logFile ? createWriteStream(options.logFile, { flags: 'a' }) : undefined;
    if (log) this.child.on('close', () => log.end());
    const onLine = (line: string) => {
      log?.write(`${line}\n`);
      if (this.joinedAt === undefined && line.includes('"joined consumer group"'))
        this.joinedAt = performance.now();
      const msg = /"msg":"([^"]+)"/.exec(line)?.[1];
      if (msg) this.messages.set(msg, (this.messages.get(msg) ?? 0) + 1);
      if (line.includes('"level":50') || line.includes('"level":60')) this.lines.push(line);
      options.onLine?.(line);
    };
    if (this.child.stdout) createInterface({ input: this.child.stdout }).on('line', onLine);
    createInterface({ input: this.child.stderr as NodeJS.ReadableStream }).on('line', (l) => {
      log?.write(`${l}\n`);
      this.lines.push(l);
    });
    this.timer = setInterval(() => this.sample(), options.sampleMs ?? 100);
  }

  /**
   * Resolves once the child has joined its group and the group has committed the end of `topic`;
   * rejects if the child exits first or after `timeoutMs`. The join is seen in the group's state
   * (Stable, with a member), or earlier in the child's log line when it prints one: it does not
   * depend on the log (a LOG_LEVEL of warn printed no join line, and the bench waited forever).
   */
  async waitCaughtUp(kafka: Kafka, groupId: string, topic: string, timeoutMs: number): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    const admin = kafka.admin();
    await admin.connect();
    try {
      await this.pollCaughtUp(kafka, admin, groupId, topic, deadline, timeoutMs);
    } finally {
      await admin.disconnect();
    }
  }

  private async pollCaughtUp(
    kafka: Kafka,
    admin: Admin,
    groupId: string,
    topic: string,
    deadline: number,
    timeoutMs: number,
  ): Promise<void> {
    for (;;) {
      if (this.joinedAt === undefined) {
        const [group] = (await admin.describeGroups([groupId])).groups;
        if (group?.state === 'Stable' && group.members.length > 0) this.joinedAt = performance.now();
      }
      const { exitCode, signalCode } = this.child;
      if (exitCode !== null || signalCode !== null)
        throw new Error(
          `consumer exited (${exitCode ?? signalCode}) before catching up:\n${this.lines.slice(-20).join('\n')}`,
        );
      if (this.joinedAt !== undefined && (await caughtUp(kafka, groupId, topic)).done) return;
      if (performance.now() > deadline)
        throw new Error(`${groupId} has not committed the end of ${topic} after ${timeoutMs} ms`);
      await sleep(200);
    }
  }

  /** Resolves with the child's exit code and usage once it exits by itself; rejects after `timeoutMs`. */
  async waitExit(timeoutMs: number): Promise<ChildUsage & { exitCode: number | null }> {
    const timer = sleep(timeoutMs, 'timeout' as const, { ref: false });
    const outcome = await Promise.race([this.exited, timer]);
    if (outcome === 'timeout') {
      this.child.kill('SIGKILL');
      throw new Error(`${this.child.spawnfile} did not exit within ${timeoutMs} ms`);
    }
    clearInterval(this.timer);
    return { peakRssBytes: this.peakRss, hwmBytes: this.hwm, cpuSeconds: this.cpu, exitCode: outcome };
  }

  /** Samples /proc once more, stops the child with SIGTERM and waits for it to exit. */
  async stop(): Promise<ChildUsage & { exitCode: number | null }> {
    this.sample();
    clearInterval(this.timer);
    this.child.kill('SIGTERM');
    const exitCode = await this.exited;
    return { peakRssBytes: this.peakRss, hwmBytes: this.hwm, cpuSeconds: this.cpu, exitCode };
  }

  private sample(): void {
    const pid = this.child.pid;
    if (pid === undefined || this.child.exitCode !== null) return;
    try {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      const kb = (field: string) =>
        Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) * 1024;
      this.peakRss = Math.max(this.peakRss, kb('VmRSS'));
      this.hwm = Math.max(this.hwm, kb('VmHWM'));
      // Fields after the command name: utime is the 14th, stime the 15th field of the line.
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      this.cpu = (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
    } catch {
      // The process exited between the check and the read.
    }
  }
}

/** Extra node flags for the measured consumers (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`), from BENCH_CHILD_NODE_ARGS. */
function childNodeArgs(): string[] {
  return (process.env.BENCH_CHILD_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);
}

/**
 * The environment of a consumer with its own group, topics and data directory (`id` names them
 * all), plus `extra` settings.
 */
export function isolatedEnv(id: string, dir: string, extra: Record<string, string>): Record<string, string> {
  return {
    KAFKA_BROKERS: process.env.KAFKA_BROKERS ?? '127.0.0.1:19092',
    VARSTREAM_GROUP_ID: id,
    VARSTREAM_TOPIC_VARIANTS: `${id}-variants`,
    VARSTREAM_TOPIC_EMBEDDINGS: `${id}-embeddings`,
    VARSTREAM_TOPIC_DEAD_LETTER: `${id}-dlq`,
    VARSTREAM_LANCEDB_URI: join(dir, 'lancedb'),
    VARSTREAM_KUZU_PATH: join(dir, 'kuzu', 'graph.kuzu'),
    // Several consumers run on one machine: no fixed HTTP port unless a caller asks for one.
    VARSTREAM_HTTP_PORT: '0',
    ...extra,
  };
}
