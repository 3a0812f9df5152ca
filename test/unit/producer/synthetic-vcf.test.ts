import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import {
  SYNTHETIC_CONTIGS,
  syntheticSampleNames,
  syntheticVcfLines,
  writeSyntheticVcf,
} from '../../../src/producer/synthetic-vcf.ts';
import { toVariantMessage } from '../../../src/producer/vcf-message.ts';
import { openVcf } from '../../../src/producer/vcf-reader.ts';

let tmp = '';
before(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'synthetic-vcf-'));
});
after(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const sha = (text: string | Buffer) => createHash('sha256').update(text).digest('hex');

test('the same seed gives byte-identical output; another seed does not', async () => {
  const a = join(tmp, 'a.vcf');
  const b = join(tmp, 'b.vcf');
  await writeSyntheticVcf(a, { records: 500, samples: 8, seed: 42 });
  await writeSyntheticVcf(b, { records: 500, samples: 8, seed: 42 });
  assert.equal(sha(await readFile(a)), sha(await readFile(b)));
  const other = [...syntheticVcfLines({ records: 500, samples: 8, seed: 43 })].join('\n');
  assert.notEqual(sha(`${other}\n`), sha(await readFile(a)));
});

test('parses back through readVcf with the requested records and samples', async () => {
  const path = join(tmp, 'roundtrip.vcf');
  const written = await writeSyntheticVcf(path, { records: 1234, samples: 7, seed: 3 });
  assert.deepEqual(written.records, 1234);
  const reader = await openVcf(path);
  assert.equal(reader.compression, 'none');
  assert.equal(reader.header.fileformat, 'VCFv4.2');
  assert.deepEqual(reader.header.samples, [
    'SYN0001',
    'SYN0002',
    'SYN0003',
    'SYN0004',
    'SYN0005',
    'SYN0006',
    'SYN0007',
  ]);
  let n = 0;
  for await (const record of reader) {
    n++;
    assert.equal(Object.keys(record.GENOTYPES()).length, 7);
    assert.equal(record.FORMAT, 'GT:DP:GQ');
  }
  assert.equal(n, 1234);
  assert.equal(reader.bytesRead, written.bytes);
});

test('defaults: 20,000 records and 50 samples', () => {
  let records = 0;
  let header = '';
  for (const line of syntheticVcfLines()) {
    if (line.startsWith('#CHROM')) header = line;
    else if (!line.startsWith('#')) records++;
  }
  assert.equal(records, 20_000);
  assert.equal(header.split('\t').length, 9 + 50);
  assert.deepEqual(syntheticSampleNames(2), ['SYN0001', 'SYN0002']);
});

interface Tally {
  records: number;
  multiAllelic: number;
  star: number;
  symbolic: number;
  indel: number;
  withGenes: number;
  geneInfo: number;
  phased: number;
  unphased: number;
  missing: number;
  haploid: number;
}

async function tally(path: string, allowed: Set<string>): Promise<Tally> {
  const t: Tally = {
    records: 0,
    multiAllelic: 0,
    star: 0,
    symbolic: 0,
    indel: 0,
    withGenes: 0,
    geneInfo: 0,
    phased: 0,
    unphased: 0,
    missing: 0,
    haploid: 0,
  };
  const reader = await openVcf(path);
  let last = { chrom: '', pos: 0 };
  for await (const record of reader) {
    const msg = toVariantMessage(record, reader.header, 'syn');
    assert.ok(
      msg.chrom !== last.chrom || msg.pos > last.pos,
      `positions increase at ${msg.chrom}:${msg.pos}`,
    );
    last = msg;
    const alts = msg.alt as string[];
    t.records++;
    if (alts.length > 1) t.multiAllelic++;
    if (alts.includes('*')) t.star++;
    if (alts.includes('<DEL>')) t.symbolic++;
    if (alts.some((a) => /^[ACGT]+$/.test(a) && a.length !== msg.ref.length)) t.indel++;
    for (const gene of msg.genes ?? []) assert.ok(allowed.has(gene), `unknown gene ${gene}`);
    if (msg.genes?.length) t.withGenes++;
    if (msg.info?.GENEINFO) t.geneInfo++;
    for (const sample of Object.values(msg.samples ?? {})) {
      const gt = sample.GT ?? '';
      if (gt.startsWith('.')) t.missing++;
      else if (gt.length === 1) t.haploid++;
      else if (gt.includes('|')) t.phased++;
      else t.unphased++;
    }
  }
  return t;
}

test('realistic content: allele kinds, genes from the list, genotypes', async () => {
  const path = join(tmp, 'content.vcf');
  await writeSyntheticVcf(path, { records: 5000, samples: 20, seed: 11 });
  const genes = new Set(SYNTHETIC_CONTIGS.flatMap((c) => c.genes));
  assert.ok(genes.size >= 200 && genes.has('BRCA1') && genes.has('TP53'));
  const t = await tally(path, genes);
  const share = (n: number) => n / t.records;
  assert.ok(share(t.multiAllelic) > 0.03 && share(t.multiAllelic) < 0.08, `multi-allelic ${t.multiAllelic}`);
  assert.ok(t.star > 0 && t.symbolic > 0, `star ${t.star}, <DEL> ${t.symbolic}`);
  assert.ok(share(t.indel) > 0.1 && share(t.indel) < 0.3, `indels ${t.indel}`);
  assert.ok(share(t.withGenes) > 0.6 && share(t.withGenes) < 0.8, `with genes ${t.withGenes}`);
  assert.ok(t.geneInfo > 0);
  const calls = t.phased + t.unphased + t.missing + t.haploid;
  assert.equal(calls, 5000 * 20);
  assert.ok(t.phased > 0 && t.unphased > t.phased, `phased ${t.phased}, unphased ${t.unphased}`);
  assert.ok(t.missing / calls > 0.01 && t.missing / calls < 0.03, `missing ${t.missing}`);
  assert.ok(t.haploid > 0, 'males are haploid on chrX');
});

test('genotype counts agree with INFO AC/AN', async () => {
  const path = join(tmp, 'ac.vcf');
  await writeSyntheticVcf(path, { records: 300, samples: 30, seed: 5 });
  for await (const record of await openVcf(path)) {
    const ac = (record.ALT ?? []).map(() => 0);
    let an = 0;
    for (const gt of Object.values(record.GENOTYPES())) {
      for (const allele of gt.split(/[/|]/)) {
        if (allele === '.') continue;
        an++;
        if (allele !== '0') ac[Number(allele) - 1] = (ac[Number(allele) - 1] ?? 0) + 1;
      }
    }
    assert.deepEqual(record.INFO.AC, ac);
    assert.deepEqual(record.INFO.AN, [an]);
  }
});

test('sites-only output when samples is 0', async () => {
  const path = join(tmp, 'sites.vcf');
  await writeSyntheticVcf(path, { records: 50, samples: 0, seed: 9 });
  const reader = await openVcf(path);
  let n = 0;
  for await (const record of reader) {
    n++;
    assert.equal(toVariantMessage(record, reader.header, 's').samples, undefined);
  }
  assert.equal(n, 50);
  assert.deepEqual(reader.header.samples, []);
  assert.throws(() => [...syntheticVcfLines({ records: -1 })], RangeError);
});
