/**
 * bench:graph's ceiling: the same final graph as a workload leaves, loaded with Kuzu's own bulk
 * path (one COPY per table and per rel table pair, into an empty schema v2 database). The CSV files
 * are written first and not timed; only the COPY statements are.
 */
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { shardOf, VARIANT_TABLES, variantTable } from '../sinks/kuzu/graph-schema.ts';
import { KuzuStore } from '../sinks/kuzu/kuzu-store.ts';
import { ensureGraphSchema } from '../sinks/kuzu/schema-version.ts';
import { variantKey } from '../sinks/kuzu/variant-key.ts';
import { type Workload, workloadMessages } from './graph-workloads.ts';

/** Buffered line writer (the files reach hundreds of MB). */
class Lines {
  private buffer: string[] = [];
  private size = 0;
  private readonly fd: number;
  rows = 0;

  constructor(
    readonly path: string,
    header: string,
  ) {
    this.fd = openSync(path, 'w');
    this.push(header);
    this.rows = 0;
  }

  push(line: string): void {
    this.buffer.push(line);
    this.size += line.length;
    this.rows++;
    if (this.size > 1 << 20) this.flush();
  }

  close(): void {
    this.flush();
    closeSync(this.fd);
  }

  private flush(): void {
    if (this.buffer.length > 0) writeSync(this.fd, `${this.buffer.join('\n')}\n`);
    this.buffer = [];
    this.size = 0;
  }
}

const csv = (v: string | number | null) => {
  if (v === null) return '';
  const s = String(v);
  return /[",\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
};

export async function copyCeiling(w: Workload, dir: string, poolBytes: number) {
  const files = new Map<string, Lines>();
  const file = (name: string, header: string) => {
    let f = files.get(name);
    if (!f) {
      f = new Lines(join(dir, `${name}.csv`), header);
      files.set(name, f);
    }
    return f;
  };
  const genes = new Set<string>();
  const perSample = new Map<string, number>();
  let variants = 0;
  let calls = 0;
  for (const m of workloadMessages(w)) {
    for (const v of m.variants) {
      const t = variantTable(shardOf(v.chrom));
      const key = variantKey(v.variantId);
      file(t, 'key,id,chrom,pos,ref,alt,rsid,qual').push(
        [key, v.variantId, v.chrom, v.pos, v.ref, v.alt, v.rsid, v.qual].map(csv).join(','),
      );
      variants++;
      for (const g of v.genes) {
        genes.add(g);
        file(`${t}-IN_GENE`, 'from,to').push(`${key},${csv(g)}`);
      }
      for (const c of m.calls) {
        if (c.variantId !== v.variantId) continue;
        file(`${t}-CARRIED_BY`, 'from,to,gt,zygosity,dp,gq').push(
          [key, c.sample, c.gt, c.zygosity, c.dp, c.gq].map(csv).join(','),
        );
        calls++;
        perSample.set(c.sample, (perSample.get(c.sample) ?? 0) + 1);
      }
    }
  }
  const geneFile = file('Gene', 'symbol');
  for (const g of genes) geneFile.push(csv(g));
  const sampleFile = file('Sample', 'id,variants');
  for (const s of w.samples) sampleFile.push(`${csv(s)},${perSample.get(s) ?? 0}`);
  for (const f of files.values()) f.close();

  const store = new KuzuStore(join(dir, 'ceiling.kuzu'), poolBytes);
  await store.open();
  await ensureGraphSchema(store);
  const opts = "header=true, escape='\"'";
  const statements: string[] = [
    `COPY Gene FROM '${geneFile.path}' (${opts})`,
    `COPY Sample FROM '${sampleFile.path}' (${opts})`,
  ];
  for (const t of VARIANT_TABLES) {
    if (!files.has(t)) continue;
    statements.push(`COPY ${t} FROM '${files.get(t)?.path}' (${opts})`);
    const ig = files.get(`${t}-IN_GENE`);
    if (ig) statements.push(`COPY IN_GENE FROM '${ig.path}' (${opts}, from='${t}', to='Gene')`);
    const cb = files.get(`${t}-CARRIED_BY`);
    if (cb) statements.push(`COPY CARRIED_BY FROM '${cb.path}' (${opts}, from='${t}', to='Sample')`);
  }
  const started = performance.now();
  for (const s of statements) await store.run(s);
  const seconds = (performance.now() - started) / 1000;
  await store.close();
  const hwm = Number(/^VmHWM:\s+(\d+)/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? 0) / 1024;
  return { variants, calls, seconds, statements: statements.length, hwmMb: Math.round(hwm) };
}
