/** Runs graph-run.ts (one bench:graph workload, or its COPY ceiling) in a child process, optionally in a memory cgroup. */
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { WorkloadName } from './graph-workloads.ts';
import type { MemoryCgroup } from './memory-cgroup.ts';

const RUN = fileURLToPath(new URL('./graph-run.ts', import.meta.url));

/** The child's JSON lines (its stderr goes to this process's). */
export async function child(args: string[], cgroup?: MemoryCgroup): Promise<Array<Record<string, unknown>>> {
  const base = { command: process.execPath, args: ['--import', 'tsx', RUN, ...args] };
  const { command, args: argv } = cgroup ? cgroup.wrap(base.command, base.args) : base;
  const env = { ...process.env };
  delete env.NODE_TEST_CONTEXT;
  const proc = spawn(command, argv, { stdio: ['ignore', 'pipe', 'inherit'], env });
  const lines: Array<Record<string, unknown>> = [];
  let rest = '';
  proc.stdout.on('data', (chunk: Buffer) => {
    const parts = (rest + chunk.toString('utf8')).split('\n');
    rest = parts.pop() ?? '';
    for (const p of parts) if (p.trim()) lines.push(JSON.parse(p));
  });
  const code = await new Promise<number | null>((done) => proc.on('close', done));
  if (code !== 0) {
    const kills = cgroup?.oomKills() ?? 0;
    throw new Error(`graph-run ${args.join(' ')} exited with ${code}${kills ? ` (${kills} OOM kills)` : ''}`);
  }
  return lines;
}

/** Kuzu's bulk COPY of a workload's final graph into an empty database, in its own process. */
export async function graphCopyCeiling(
  name: WorkloadName,
  scale: number,
  dir: string,
  poolBytes = 4 * 1024 ** 3,
): Promise<{ variants: number; calls: number; seconds: number; hwmMb: number }> {
  try {
    const lines = await child([
      '--workload',
      name,
      '--scale',
      String(scale),
      '--pool',
      String(poolBytes),
      '--dir',
      dir,
      '--ceiling',
    ]);
    const c = lines.find((l) => l.type === 'ceiling');
    if (!c) throw new Error(`graph-run --ceiling printed no result for ${name}`);
    return {
      variants: Number(c.variants),
      calls: Number(c.calls),
      seconds: Number(c.seconds),
      hwmMb: Number(c.hwmMb),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
