import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import {
  detectCompression,
  openVcf,
  readVcf,
  splitLines,
  VcfParseError,
} from '../../../src/producer/vcf-reader.ts';
import { FIXTURE_VCF } from '../../helpers/shared-data.ts';

const DATA = FIXTURE_VCF;
let tmp = '';

before(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'vcf-reader-'));
});
after(async () => {
  await rm(tmp, { recursive: true, force: true });
});

async function count(path: string, chunkSize?: number): Promise<number> {
  let n = 0;
  for await (const _ of readVcf(path, { chunkSize })) n++;
  return n;
}

const TINY = [
  '##fileformat=VCFv4.2',
  '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
  '#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1\tS2',
  '1\t100\t.\tA\tG\t50\tPASS\t.\tGT\t0/1\t1|1',
  '1\t200\trs2\tC\tT\t.\t.\tDP=3\tGT\t./.\t0/0',
];

test('detects plain text, plain gzip and BGZF by magic bytes, not by name', async () => {
  assert.equal(await detectCompression(`${DATA}/vep_csq.split-vep.vcf`), 'none');
  assert.equal(await detectCompression(`${DATA}/gnomad.exomes.r2.1.1.sites.chr1.sample.vcf.gz`), 'gzip');
  assert.equal(await detectCompression(`${DATA}/clinvar_20211025.grch38.subset.vcf.gz`), 'bgzf');
  const misnamed = join(tmp, 'gzipped.vcf');
  await writeFile(misnamed, gzipSync(`${TINY.join('\n')}\n`));
  assert.equal(await detectCompression(misnamed), 'gzip');
  assert.equal(await count(misnamed), 2);
});

test('reads BGZF, plain gzip and plain files with the record counts of SOURCES.md', async () => {
  assert.equal(await count(`${DATA}/clinvar_20211025.grch38.subset.vcf.gz`), 50);
  assert.equal(await count(`${DATA}/lumpy_EML4-ALK_fusion.snpeff_ann.vcf`), 117);
  assert.equal(await count(`${DATA}/gnomad.exomes.r2.1.1.sites.chr1.sample.vcf.gz`), 100);
  assert.equal(await count(`${DATA}/hail_sample.vcf.gz`), 346);
});

test('exposes the header: samples, fileformat, metadata, compression', async () => {
  const reader = await openVcf(`${DATA}/hail_sample.vcf.gz`);
  try {
    assert.equal(reader.compression, 'bgzf');
    assert.equal(reader.header.samples.length, 100);
    assert.equal(reader.header.samples[0], 'C1046::HG02024');
    assert.equal(reader.header.fileformat, 'VCFv4.2');
    assert.ok(reader.header.lines.at(-1)?.startsWith('#CHROM'));
    assert.equal(reader.header.parser.getMetadata('FORMAT', 'GQ', 'Type'), 'Integer');
  } finally {
    reader.close();
  }
  const sitesOnly = await openVcf(`${DATA}/vep_csq.split-vep.vcf`);
  sitesOnly.close();
  assert.deepEqual(sitesOnly.header.samples, []);
});

test('progress: bytes read grow with the records, up to the file size', async () => {
  const path = `${DATA}/giab_ashk_trio.bcsq.vcf.gz`;
  const reader = await openVcf(path, { chunkSize: 64 * 1024 });
  assert.equal(reader.fileSize, 967955);
  let firstBytes = -1;
  for await (const _ of reader) {
    if (firstBytes < 0) firstBytes = reader.bytesRead;
  }
  assert.ok(firstBytes > 0 && firstBytes < reader.fileSize / 4, `first record after ${firstBytes} bytes`);
  assert.equal(reader.bytesRead, reader.fileSize);
  assert.equal(reader.recordsRead, 9940);
});

test('streams a 2.27 MB line, and gives the same records whatever the chunk size', async () => {
  let longest = 0;
  let n = 0;
  for await (const record of readVcf(`${DATA}/manta_somatic_sv.vep94.vcf.gz`)) {
    longest = Math.max(longest, record.line.length);
    n++;
  }
  assert.equal(n, 15);
  assert.ok(longest > 2_200_000, `longest line ${longest}`);
  const path = `${DATA}/giab_ashk_trio.bcsq.vcf.gz`;
  const small: string[] = [];
  for await (const r of readVcf(path, { chunkSize: 977 })) small.push(`${r.CHROM}:${r.POS}:${r.FORMAT}`);
  const big: string[] = [];
  for await (const r of readVcf(path)) big.push(`${r.CHROM}:${r.POS}:${r.FORMAT}`);
  assert.equal(small.length, 9940);
  assert.deepEqual(small, big);
});

test('splitLines joins lines across chunks and strips CR', async () => {
  async function* chunks() {
    yield 'a\r\nbb';
    yield 'b';
    yield '\nc';
    yield 'cc\n\nd';
  }
  const out: string[] = [];
  for await (const batch of splitLines(chunks())) out.push(...batch);
  assert.deepEqual(out, ['a', 'bbb', 'ccc', '', 'd']);
});

test('CRLF files (with a byte order mark) parse without a trailing CR in the last column', async () => {
  const path = join(tmp, 'crlf.vcf');
  await writeFile(path, `\uFEFF${TINY.join('\r\n')}\r\n`);
  const genotypes: string[] = [];
  const reader = await openVcf(path);
  assert.deepEqual(reader.header.samples, ['S1', 'S2']);
  for await (const record of reader) genotypes.push(...Object.values(record.GENOTYPES()));
  assert.deepEqual(genotypes, ['0/1', '1|1', './.', '0/0']);
});

test('a truncated gzip rejects instead of ending quietly', async () => {
  const whole = await readFile(`${DATA}/gnomad.exomes.r2.1.1.sites.chr1.sample.vcf.gz`);
  const path = join(tmp, 'truncated.vcf.gz');
  await writeFile(path, whole.subarray(0, Math.floor(whole.length / 2)));
  await assert.rejects(count(path), /unexpected end of file/i);
});

test('a file without a #CHROM line is rejected; a bad data line names its line number', async () => {
  const noHeader = join(tmp, 'no-header.vcf');
  await writeFile(noHeader, '1\t100\t.\tA\tG\t50\tPASS\t.\n');
  await assert.rejects(openVcf(noHeader), /no #CHROM header line/);
  const bad = join(tmp, 'bad-line.vcf');
  await writeFile(bad, `${TINY.slice(0, 4).join('\n')}\n1\t300\t.\tA\tG\t50\tPASS\n`);
  await assert.rejects(count(bad), (err: unknown) => {
    assert.ok(err instanceof VcfParseError);
    assert.equal(err.lineNumber, 5);
    return true;
  });
});

test('breaking out of the loop closes the file; a reader iterates only once', async () => {
  const reader = await openVcf(`${DATA}/giab_ashk_trio.bcsq.vcf.gz`, { chunkSize: 64 * 1024 });
  assert.equal(reader.closed, false);
  for await (const _ of reader) break;
  assert.equal(reader.closed, true);
  assert.equal(reader.recordsRead, 1);
  assert.ok(reader.bytesRead < reader.fileSize);
  await assert.rejects(async () => {
    for await (const _ of reader) break;
  }, /only once/);
});

test('onHeader sees the header before the first record', async () => {
  const seen: string[] = [];
  for await (const record of readVcf(`${DATA}/hail_sample.vcf.gz`, {
    onHeader: (header, reader) => seen.push(`header:${header.samples.length}:${reader.recordsRead}`),
  })) {
    seen.push(`record:${record.POS}`);
    break;
  }
  assert.deepEqual(seen, ['header:100:0', 'record:10019093']);
});
