/**
 * One number configures memory: the limit, from VARSTREAM_MEMORY_LIMIT, else the container's
 * cgroup limit (v2 `memory.max`, v1 `memory.limit_in_bytes`), else 1 GiB. Everything that holds
 * bytes is derived from it: the level thresholds, Kafka fetch sizes, batch bytes and batches in
 * flight, Kuzu's buffer pool and LanceDB's caches. Explicit settings of those fields win over the derived values.
 */
import { readFileSync } from 'node:fs';

export const DEFAULT_MEMORY_LIMIT = 1024 ** 3;
const MiB = 1024 ** 2;
/**
 * What the process needs besides the pipelines' data: Node 26 and V8, LanceDB's native side while
 * it merges into a table (its caches and allocator arenas), Kuzu's native side. Measured: a
 * consumer writing 1536-d embeddings to LanceDB settles at ~300-370 MiB RSS with small batches.
 */
export const RUNTIME_RESERVE = 320 * MiB;
/** Any cgroup "limit" this large means unlimited. */
const UNLIMITED = 2 ** 60;

export type LimitSource =
  | 'VARSTREAM_MEMORY_LIMIT'
  | 'cgroup v2 memory.max'
  | 'cgroup v1 memory.limit_in_bytes'
  | 'default';

export interface MemoryBudget {
  limitBytes: number;
  source: LimitSource;
  /** WARNING at or above: pause the partitions holding the most buffered bytes. */
  warningBytes: number;
  /** CRITICAL at or above: pause every partition and flush now. */
  criticalBytes: number;
  /** EMERGENCY at or above: also shrink batches until NORMAL. */
  emergencyBytes: number;
  /** Back to NORMAL (everything resumes) only below this. */
  resumeBytes: number;
  /** What the pipelines may hold: fetched, batched and being written. */
  dataBytes: number;
  fetchMaxBytes: number;
  fetchMaxBytesPerPartition: number;
  batchMaxBytes: number;
  maxInFlight: number;
  kuzuBufferPoolBytes: number;
  /** LanceDB's caches, part of RUNTIME_RESERVE (LanceDB's own defaults: 6 GB index, 1 GB metadata). */
  lancedbIndexCacheBytes: number;
  lancedbMetadataCacheBytes: number;
}

export function deriveBudget(limitBytes: number, source: LimitSource): MemoryBudget {
  const kuzuBufferPoolBytes = clamp(align(limitBytes / 8), 32 * MiB, 256 * MiB);
  const base = RUNTIME_RESERVE + kuzuBufferPoolBytes;
  const dataBytes = Math.max(32 * MiB, limitBytes - base);
  // A batch costs more than its message bytes: decoded variant JSON is 2-3x larger on the V8 heap,
  // and LanceDB holds 2-3x a batch while encoding it (FIELD-NOTES). The filling batch, the ones in
  // flight and one waiting, of two pipelines, must fit with that overhead. A quarter of the data
  // each, not an eighth: at 512 MiB 5 MiB batches ran f32 embeddings at 31% of their 1 GiB speed
  // and peaked higher (more versions for LanceDB to hold and compact) than 11 MiB ones (75%).
  const maxInFlight = dataBytes >= 256 * MiB ? 2 : 1;
  const batchMaxBytes = clamp(align(dataBytes / ((maxInFlight + 2) * 4)), 1 * MiB, 16 * MiB);
  const fetchMaxBytes = clamp(align(dataBytes / 12), 1 * MiB, 8 * MiB);
  return {
    limitBytes,
    source,
    // The levels sit in the band the pipelines control, above the runtime's own working set (the
    // reserve and Kuzu's pool): at 1 GiB that is about 70 / 85 % of the limit, as before; at 512 MiB
    // a share of the limit would put WARNING below what an idle consumer holds, and pause for good.
    warningBytes: Math.round(base + dataBytes * 0.5),
    criticalBytes: Math.round(base + dataBytes * 0.75),
    emergencyBytes: Math.round(Math.max(limitBytes * 0.95, base + dataBytes * 0.875)),
    resumeBytes: Math.round(base + dataBytes * 0.25),
    dataBytes,
    fetchMaxBytes,
    fetchMaxBytesPerPartition: clamp(align(fetchMaxBytes / 4), 256 * 1024, 2 * MiB),
    batchMaxBytes,
    maxInFlight,
    kuzuBufferPoolBytes,
    // A writer needs the current version's metadata and key index, not the old versions every
    // merge-insert and optimize() leave behind; the LRU caches keep those until full (a 64+32 MiB
    // session grew ~7 MiB a minute and RSS ~90 MiB over 12 minutes; 16+8 MiB filled in 5 minutes,
    // 8+8 in 2.5, measured), so their size is memory a long run gains over a short one. 8+8 MiB
    // ran a 100k-row table at full speed; 2+2 thrashed. The key index is ~1.8 MiB per 100k rows
    // on disk: larger tables need lancedb.indexCacheBytes raised.
    lancedbIndexCacheBytes: clamp(align(limitBytes / 128), 8 * MiB, 64 * MiB),
    lancedbMetadataCacheBytes: clamp(align(limitBytes / 128), 8 * MiB, 32 * MiB),
  };
}

/** The limit from the setting, else the cgroup, else the default. */
export function resolveLimit(
  configured: number | undefined,
  readCgroup: () => { bytes: number; source: LimitSource } | undefined = readCgroupLimit,
): { bytes: number; source: LimitSource } {
  if (configured !== undefined) return { bytes: configured, source: 'VARSTREAM_MEMORY_LIMIT' };
  return readCgroup() ?? { bytes: DEFAULT_MEMORY_LIMIT, source: 'default' };
}

export function readCgroupLimit(root = '/sys/fs/cgroup'): { bytes: number; source: LimitSource } | undefined {
  const v2 = readCgroupNumber(`${root}/memory.max`);
  if (v2 !== undefined && v2 < UNLIMITED) return { bytes: v2, source: 'cgroup v2 memory.max' };
  const v1 = readCgroupNumber(`${root}/memory/memory.limit_in_bytes`);
  if (v1 !== undefined && v1 < UNLIMITED) return { bytes: v1, source: 'cgroup v1 memory.limit_in_bytes' };
  return undefined;
}

/**
 * The cgroup's working set, as the kubelet computes it: usage (v2 `memory.current`, v1
 * `memory.usage_in_bytes`) minus inactive file cache, which the kernel reclaims before an OOM kill.
 */
export function readCgroupWorkingSet(root = '/sys/fs/cgroup'): number | undefined {
  const v2 = readCgroupNumber(`${root}/memory.current`);
  if (v2 !== undefined) return v2 - statField(`${root}/memory.stat`, 'inactive_file');
  const v1 = readCgroupNumber(`${root}/memory/memory.usage_in_bytes`);
  if (v1 !== undefined) return v1 - statField(`${root}/memory/memory.stat`, 'total_inactive_file');
  return undefined;
}

function statField(path: string, field: string): number {
  try {
    const match = new RegExp(`^${field} (\\d+)$`, 'm').exec(readFileSync(path, 'utf8'));
    return match ? Number(match[1]) : 0;
  } catch {
    return 0;
  }
}

/** A cgroup file's number (`max` is Infinity); undefined when unreadable or not a number. */
export function readCgroupNumber(path: string): number | undefined {
  try {
    const text = readFileSync(path, 'utf8').trim();
    if (text === 'max') return Number.POSITIVE_INFINITY;
    const n = Number(text);
    return Number.isFinite(n) ? n : undefined;
  } catch {
    return undefined;
  }
}

function clamp(x: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, x));
}

/** Rounds down to a whole 64 KiB. */
function align(x: number): number {
  return Math.floor(x / 65536) * 65536;
}

/** The budget in MiB, for the start-up log. */
export function describeBudget(b: MemoryBudget): Record<string, string | number> {
  const mib = (x: number) => `${Math.round((x / MiB) * 10) / 10}Mi`;
  return {
    limit: `${mib(b.limitBytes)} (${b.source})`,
    warning: mib(b.warningBytes),
    critical: mib(b.criticalBytes),
    emergency: mib(b.emergencyBytes),
    resume: mib(b.resumeBytes),
    pipelineData: mib(b.dataBytes),
    fetchMaxBytes: mib(b.fetchMaxBytes),
    fetchMaxBytesPerPartition: mib(b.fetchMaxBytesPerPartition),
    batchMaxBytes: mib(b.batchMaxBytes),
    maxInFlight: b.maxInFlight,
    kuzuBufferPool: mib(b.kuzuBufferPoolBytes),
    lancedbIndexCache: mib(b.lancedbIndexCacheBytes),
    lancedbMetadataCache: mib(b.lancedbMetadataCacheBytes),
  };
}
