/**
 * Where a process's resident memory is, from /proc/PID/smaps: Kuzu's buffer pool (the one
 * anonymous mapping of a terabyte or more: Kuzu reserves its pool's address space up front and
 * pages become resident as frames are used), file-backed pages (the Node binary, the LanceDB and
 * Kuzu native libraries), glibc's main heap (`[heap]`, grown by brk) and all other anonymous
 * memory (glibc's other arenas and mmap'd blocks, the V8 heap, thread stacks). Linux only.
 */
import { readFileSync } from 'node:fs';

const MiB = 1024 ** 2;
const TiB = 1024 ** 4;

export interface ResidentBreakdown {
  rssMb: number;
  kuzuPoolMb: number;
  filesMb: number;
  brkHeapMb: number;
  otherAnonMb: number;
}

/** The resident set of `pid` by kind, in MiB; undefined when smaps cannot be read (gone, not Linux). */
export function readResidentBreakdown(pid: number): ResidentBreakdown | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/smaps`, 'utf8');
  } catch {
    return undefined;
  }
  const bytes = { kuzuPool: 0, files: 0, brkHeap: 0, otherAnon: 0 };
  let kind: keyof typeof bytes = 'otherAnon';
  for (const line of text.split('\n')) {
    const mapping = /^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (mapping) {
      const size = Number.parseInt(mapping[2] as string, 16) - Number.parseInt(mapping[1] as string, 16);
      const name = mapping[3] ?? '';
      if (name.startsWith('/')) kind = 'files';
      else if (name === '[heap]') kind = 'brkHeap';
      else if (name === '' && size >= TiB) kind = 'kuzuPool';
      else kind = 'otherAnon';
    } else if (line.startsWith('Rss:')) bytes[kind] += Number(line.split(/\s+/)[1]) * 1024;
  }
  const mb = (n: number) => Math.round(n / MiB);
  return {
    rssMb: mb(bytes.kuzuPool + bytes.files + bytes.brkHeap + bytes.otherAnon),
    kuzuPoolMb: mb(bytes.kuzuPool),
    filesMb: mb(bytes.files),
    brkHeapMb: mb(bytes.brkHeap),
    otherAnonMb: mb(bytes.otherAnon),
  };
}
