/**
 * A memory cgroup of its own for a measured child process, as a Kubernetes container has one: the
 * kernel enforces the limit (an overrun is an OOM kill, not a number in a table), Node sizes its
 * heap from it as it does in a pod, and the cgroup's own peak is read at the end. Needs write
 * access to a memory controller (cgroup v1's memory hierarchy, or cgroup v2 with the memory
 * controller enabled for children); `create` returns undefined where there is none.
 */
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readCgroupNumber } from '../backpressure/memory-budget.ts';

const ROOT = '/sys/fs/cgroup';

export class MemoryCgroup {
  private constructor(
    readonly dir: string,
    private readonly v2: boolean,
  ) {}

  /** A new child cgroup of this process's memory cgroup, limited to `limitBytes`; undefined when not possible. */
  static create(name: string, limitBytes: number): MemoryCgroup | undefined {
    for (const v2 of [false, true]) {
      const parent = ownCgroupDir(v2);
      if (!parent) continue;
      const dir = join(parent, name);
      try {
        mkdirSync(dir);
      } catch {
        continue;
      }
      try {
        writeFileSync(join(dir, v2 ? 'memory.max' : 'memory.limit_in_bytes'), String(limitBytes));
        // No swap: a process over its limit must be reclaimed from page cache or killed, as in a pod.
        const swap = join(dir, v2 ? 'memory.swap.max' : 'memory.memsw.limit_in_bytes');
        if (existsSync(swap)) writeFileSync(swap, v2 ? '0' : String(limitBytes));
        return new MemoryCgroup(dir, v2);
      } catch {
        rmdirSync(dir);
      }
    }
    return undefined;
  }

  /** `command args` wrapped so that the process joins this cgroup before it execs (Node then sizes its heap from the limit). */
  wrap(command: string, args: readonly string[]): { command: string; args: string[] } {
    return {
      command: '/bin/sh',
      args: ['-c', 'echo $$ > "$0" && exec "$@"', join(this.dir, 'cgroup.procs'), command, ...args],
    };
  }

  /** The cgroup's peak memory use (anonymous and page cache), in bytes. */
  peakBytes(): number | undefined {
    return readCgroupNumber(join(this.dir, this.v2 ? 'memory.peak' : 'memory.max_usage_in_bytes'));
  }

  /** Processes the kernel killed for exceeding the limit. */
  oomKills(): number {
    const file = join(this.dir, this.v2 ? 'memory.events' : 'memory.oom_control');
    try {
      return Number(/^oom_kill (\d+)$/m.exec(readFileSync(file, 'utf8'))?.[1] ?? 0);
    } catch {
      return 0;
    }
  }

  /** Removes the cgroup (once its processes have exited). */
  remove(): void {
    try {
      rmdirSync(this.dir);
    } catch {
      // Still busy or already gone: the kernel frees an empty cgroup's directory on reboot.
    }
  }
}

/** This process's own memory cgroup directory, from /proc/self/cgroup. */
function ownCgroupDir(v2: boolean): string | undefined {
  let lines: string[];
  try {
    lines = readFileSync('/proc/self/cgroup', 'utf8').split('\n');
  } catch {
    return undefined;
  }
  if (v2) {
    const path = lines.find((l) => l.startsWith('0::'))?.slice(3);
    const mount = existsSync(join(ROOT, 'cgroup.controllers')) ? ROOT : join(ROOT, 'unified');
    if (path === undefined || !existsSync(join(mount, path, 'cgroup.subtree_control'))) return undefined;
    const enabled = readFileSync(join(mount, path, 'cgroup.subtree_control'), 'utf8');
    return enabled.split(/\s+/).includes('memory') ? join(mount, path) : undefined;
  }
  const path = lines
    .map((l) => l.split(':'))
    .find(([, controllers]) => controllers?.split(',').includes('memory'))?.[2];
  return path === undefined || !existsSync(join(ROOT, 'memory', path))
    ? undefined
    : join(ROOT, 'memory', path);
}
