import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { test } from 'node:test';
import { decodeVariantMessage } from '../../../src/contract/variant-decoder.ts';
import type { VariantMessageV1 } from '../../../src/contract/variant-message.ts';
import { annotationSubfields, geneFieldsForHeader } from '../../../src/producer/vcf-genes.ts';
import { messageKey, toVariantMessage } from '../../../src/producer/vcf-message.ts';
import { openVcf } from '../../../src/producer/vcf-reader.ts';
import { FIXTURE_VCF, SHARED_VCF, sharedCorpusPresent } from '../../helpers/shared-data.ts';

const DATA = FIXTURE_VCF;

/** Messages of the given 1-based record numbers of a file (all when omitted). */
async function messages(file: string, wanted?: number[]): Promise<Map<number, VariantMessageV1>> {
  const reader = await openVcf(`${DATA}/${file}`);
  const out = new Map<number, VariantMessageV1>();
  const last = wanted ? Math.max(...wanted) : Number.POSITIVE_INFINITY;
  let n = 0;
  for await (const record of reader) {
    n++;
    if (!wanted || wanted.includes(n)) out.set(n, toVariantMessage(record, reader.header, file));
    if (n >= last) break;
  }
  return out;
}

async function message(file: string, recordNumber: number): Promise<VariantMessageV1> {
  const msg = (await messages(file, [recordNumber])).get(recordNumber);
  assert.ok(msg, `${file} has record ${recordNumber}`);
  return msg;
}

test('VEP CSQ: SYMBOL subfield of every annotation, in order, de-duplicated', async () => {
  const msg = await message('vep_csq.split-vep.vcf', 294);
  assert.equal(messageKey(msg), '1-137825-G');
  assert.deepEqual(msg.genes, [
    'AL627309.1',
    'CICP27',
    'RP11-34P13.13',
    'RP11-34P13.14',
    'RP11-34P13.15',
    'RP11-34P13.16',
  ]);
  assert.equal(msg.samples, undefined, 'sites-only VCF has no samples');
});

test('gnomAD vep field resolves like CSQ', async () => {
  const msg = await message('gnomad.exomes.r2.1.1.sites.chr1.sample.vcf.gz', 1);
  assert.equal(messageKey(msg), '1-12198-G');
  assert.deepEqual(msg.genes, ['WASH7P', 'DDX11L1']);
});

test('SnpEff ANN: Gene_Name; intergenic_region pairs are not genes, leaving []', async () => {
  const got = await messages('lumpy_EML4-ALK_fusion.snpeff_ann.vcf', [1, 2, 5, 107]);
  assert.deepEqual(got.get(1)?.genes, ['SH3GLB1']);
  assert.equal(got.get(2)?.pos, 187675267);
  assert.deepEqual(got.get(2)?.genes, [], 'only intergenic_region PLA2G4A-BRINP3');
  assert.deepEqual(got.get(5)?.genes, ['ALK']);
  assert.deepEqual(got.get(107)?.genes, ['EVI2A', 'NF1']);
  assert.deepEqual(got.get(107)?.alt, ['[CHR17:29663719[N'], 'breakend kept as text');
});

test('old SnpEff EFF: Gene_Name located from the header (5th field in SnpEff 3 files)', async () => {
  const reader = await openVcf(`${DATA}/snpeff_eff.test.chr1.out.slice.vcf.gz`);
  reader.close();
  const eff = geneFieldsForHeader(reader.header).find((f) => f.key === 'EFF');
  assert.equal(eff?.index, 4);
  // Records 101 and 102 of the slice are records 47,956 and 61,876 of the whole file.
  const got = await messages('snpeff_eff.test.chr1.out.slice.vcf.gz', [1, 101]);
  assert.deepEqual(got.get(1)?.genes, ['SAMD11'], 'not the biotype protein_coding');
  assert.equal(got.get(101)?.pos, 173839540);
  assert.deepEqual(got.get(101)?.genes, [
    'ZBTB37',
    'GAS5',
    'SNORD44',
    'SNORD74',
    'SNORD75',
    'SNORD76',
    'SNORD77',
    'SNORD78',
    'SNORD79',
  ]);
});

test('annotationSubfields reads the Format lists of VEP, SnpEff and bcftools headers', () => {
  assert.equal(
    annotationSubfields(
      'Consequence annotations from Ensembl VEP. Format: Allele|Consequence|IMPACT|SYMBOL|Gene',
    ).indexOf('SYMBOL'),
    3,
  );
  const eff =
    "Predicted effects. Format: 'Effect ( Effect_Impact | Functional_Class | Codon_Change | Amino_Acid_change| Amino_Acid_length | Gene_Name | Transcript_BioType )'";
  assert.equal(annotationSubfields(eff, true).indexOf('Gene_Name'), 5);
  const bcsq =
    "Local consequence annotation from BCFtools/csq. Format: '[*]consequence|gene|transcript|biotype[|strand]' or, ...";
  assert.equal(annotationSubfields(bcsq).indexOf('gene'), 1);
  assert.deepEqual(annotationSubfields('No list here'), []);
});

test('bcftools BCSQ: 2nd field; a record without BCSQ has no genes key', async () => {
  const got = await messages('giab_ashk_trio.bcsq.vcf.gz', [1, 3, 743, 7451]);
  assert.equal(got.get(1)?.genes, undefined);
  assert.equal('genes' in (got.get(1) ?? {}), false);
  assert.deepEqual(got.get(3)?.genes, ['OR4F5']);
  assert.deepEqual(got.get(743)?.genes, ['APITD1', 'APITD1-CORT', 'CORT']);
  assert.deepEqual(got.get(7451)?.genes, ['NAV1', 'IPO9-AS1', 'MIR5191']);
});

test('GENEINFO: symbols of SYMBOL:ID pairs; no GENEINFO → no genes; `.` columns', async () => {
  const got = await messages('clinvar_20211025.grch38.subset.vcf.gz', [15, 16]);
  const two = got.get(16);
  assert.deepEqual(two?.genes, ['DLGAP2', 'DLGAP2-AS1']);
  assert.equal(two?.info?.GENEINFO, 'DLGAP2:9228|DLGAP2-AS1:100507435', 'Number=1 is unwrapped');
  assert.equal(two?.id, '1272088');
  assert.equal(two?.qual, null);
  assert.deepEqual(two?.filter, []);
  assert.equal(got.get(15)?.genes, undefined);
});

test('CSQ and ANN on one record are merged, CSQ first', async () => {
  const msg = await message('scout_643594.clinical.ann_csq.vcf.gz', 2);
  assert.equal(messageKey(msg), '1-7879627-C');
  assert.deepEqual(msg.genes, ['PER3', 'RP3-467L1.4']);
});

test('samples: GT as written, DP/GQ numbers, null when `.`', async () => {
  const got = await messages('hail_sample.vcf.gz', [12, 54]);
  const s12 = got.get(12)?.samples;
  assert.equal(Object.keys(s12 ?? {}).length, 100);
  assert.deepEqual(s12?.['C1046::HG02024'], { GT: '0/1', DP: 7, GQ: 60 });
  assert.deepEqual(s12?.['C1046::HG02025'], { GT: '0/0', DP: 6, GQ: 15 });
  assert.deepEqual(s12?.HG00403, { GT: './.', DP: 0, GQ: null });
  assert.deepEqual(got.get(54)?.samples?.['C454::NA19625'], { GT: './.', DP: null, GQ: null });
});

test('samples: keys only for what FORMAT declares; phased GT; all-missing GT', async () => {
  const kg = await message('1kg_phase3.chr1_11.7Mb.2504samples.head10.vcf.gz', 1);
  assert.equal(Object.keys(kg.samples ?? {}).length, 2504);
  assert.deepEqual(kg.samples?.HG00096, { GT: '0|0' }, 'FORMAT is GT only');
  const scout = await message('scout_643594.clinical.ann_csq.vcf.gz', 1);
  assert.deepEqual(Object.values(scout.samples ?? {}), [{ GT: '0/0' }, { GT: '0/1' }, { GT: '1/1' }]);
  const sniffles = await message('sniffles_SKBR3_tra.vcf', 1);
  assert.deepEqual(Object.values(sniffles.samples ?? {}), [{ GT: './.' }]);
});

test('info: flags true, Number=1 unwrapped, others arrays, `.` → null, FILTER lists', async () => {
  const gnomad = await messages('gnomad.exomes.r2.1.1.sites.chr1.sample.vcf.gz', [1, 6]);
  const first = gnomad.get(1);
  assert.deepEqual(first?.info?.AC, [0], 'Number=A stays an array');
  assert.equal(first?.info_per_allele?.AC, 'A', 'and is marked per allele for the consumer to split');
  assert.equal(first?.info_per_allele?.AN, undefined, 'Number=1 is not');
  assert.equal(first?.info?.AN, 0);
  assert.equal(first?.info?.rf_tp_probability, 0.836542);
  assert.deepEqual(first?.filter, ['AC0']);
  assert.deepEqual(gnomad.get(6)?.filter, ['AC0', 'RF']);
  const kg1 = await message('1kg_phase1.chr1_head.1092samples.head10.vcf.gz', 1);
  assert.equal(kg1.info?.AA, null);
  assert.deepEqual(kg1.info?.SNPSOURCE, ['LOWCOV']);
  assert.deepEqual(kg1.filter, ['PASS']);
  assert.equal(kg1.id, 'rs58108140');
  assert.equal(kg1.qual, 100);
  const kg3 = await message('1kg_phase3.chr1_11.7Mb.2504samples.head10.vcf.gz', 1);
  assert.equal(kg3.info?.AA, 'A|||');
  const lumpy = await message('lumpy_EML4-ALK_fusion.snpeff_ann.vcf', 57);
  assert.equal(lumpy.info?.IMPRECISE, true);
});

test('numbers that are not numbers keep their text (JSON has no NaN)', async () => {
  const manta = await message('manta_somatic_sv.vep94.vcf.gz', 6);
  assert.equal(manta.info?.BND_DEPTH, '38C');
  const eff = await message('snpeff_eff.test.chr1.out.slice.vcf.gz', 102);
  assert.equal(eff.pos, 233489707);
  assert.deepEqual(eff.info?.AF, ['NaN']);
});

test('POS 0 (a telomere) maps as is for the consumer to dead-letter; other columns', async () => {
  const all = await messages('sniffles_SKBR3_tra.vcf');
  const zero = [...all.values()].filter((m) => m.pos === 0);
  assert.equal(zero.length, 1);
  assert.equal(zero[0]?.chrom, 'GL000219.1');
  const first = all.get(1);
  assert.deepEqual(first?.alt, ['<TRA>']);
  assert.equal(first?.id, '26582');
  assert.equal(first?.source, 'sniffles_SKBR3_tra.vcf');
});

/** Records per file of the vendored fixtures (fixtures/vcf/README.md). */
const FIXTURE_RECORDS: Record<string, number> = {
  '1kg_phase3.chr1_11.7Mb.2504samples.head10.vcf.gz': 10,
  '1kg_phase1.chr1_head.1092samples.head10.vcf.gz': 10,
  'hail_sample.vcf.gz': 346,
  'giab_ashk_trio.bcsq.vcf.gz': 9940,
  'vep_csq.split-vep.vcf': 802,
  'scout_643594.clinical.ann_csq.vcf.gz': 680,
  'snpeff_eff.test.chr1.out.slice.vcf.gz': 102,
  'gnomad.exomes.r2.1.1.sites.chr1.sample.vcf.gz': 100,
  'clinvar_20211025.grch38.subset.vcf.gz': 50,
  'lumpy_EML4-ALK_fusion.snpeff_ann.vcf': 117,
  'manta_somatic_sv.vep94.vcf.gz': 15,
  'sniffles_SKBR3_tra.vcf': 140,
};

/** Records per file of the shared corpus (its SOURCES.md). */
const SHARED_RECORDS: Record<string, number> = {
  '1kg_phase3.chr1_11.7Mb.2504samples.vcf.gz': 4296,
  'hail_sample.vcf.gz': 346,
  'giab_ashk_trio.bcsq.vcf.gz': 9940,
  '1kg_phase1.chr1_head.1092samples.vcf.gz': 970,
  '1kg_phase3_broad.chr20_10.1Mb.2535samples.vcf.gz': 17,
  'HG00268.g.vcf.gz': 234687,
  'vep_csq.split-vep.vcf': 802,
  'scout_643594.clinical.ann_csq.vcf.gz': 680,
  'snpeff_eff.test.chr1.out.vcf.gz': 65085,
  'gnomad.exomes.r2.1.1.sites.chr1.sample.vcf.gz': 100,
  'clinvar_20191007.grch37.subset.vcf.gz': 72,
  'clinvar_20211025.grch38.subset.vcf.gz': 50,
  'lumpy_EML4-ALK_fusion.snpeff_ann.vcf': 117,
  'manta_somatic_sv.vep94.vcf.gz': 15,
  'sniffles_SKBR3_tra.vcf': 140,
};

/** Throws unless every leaf is a string, finite number, boolean or null: what JSON keeps as is. */
function assertJsonSafe(value: unknown, where: string): void {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return;
  if (typeof value === 'number') {
    assert.ok(Number.isFinite(value), `${where} is ${value}`);
    return;
  }
  assert.equal(typeof value, 'object', `${where} is ${typeof value}`);
  for (const [k, v] of Object.entries(value as object)) assertJsonSafe(v, `${where}.${k}`);
}

async function assertCorpusMaps(dir: string, expected: Record<string, number>): Promise<void> {
  const files = readdirSync(dir).filter((f) => /\.vcf(\.gz)?$/.test(f));
  assert.deepEqual(files.sort(), Object.keys(expected).sort());
  for (const file of files) {
    const reader = await openVcf(`${dir}/${file}`);
    let n = 0;
    for await (const record of reader) {
      const msg = toVariantMessage(record, reader.header, file);
      n++;
      // the many-sample files are checked on a sample of records to keep the test quick
      if (n % 97 === 1 || reader.header.samples.length < 1000) {
        assertJsonSafe(msg, `${file}#${n}`);
        // The per-message limits' defaults and the VCF grammar accept every real record.
        decodeVariantMessage(Buffer.from(JSON.stringify(msg)));
      }
    }
    assert.equal(n, expected[file], file);
  }
}

test('every record of every vendored VCF maps to a JSON-safe message the consumer accepts', async () => {
  await assertCorpusMaps(DATA, FIXTURE_RECORDS);
});

test('every record of every VCF of the shared corpus maps to a JSON-safe message the consumer accepts', {
  skip: sharedCorpusPresent()
    ? false
    : `no shared corpus at ${SHARED_VCF} (clone beside ../shared or set VARSTREAM_SHARED_DIR)`,
}, async () => {
  await assertCorpusMaps(SHARED_VCF, SHARED_RECORDS);
});

test('JSON-safety check catches undefined and NaN', () => {
  assert.throws(() => assertJsonSafe({ info: { AF: [Number.NaN] } }, 'm'), /m\.info\.AF\.0 is NaN/);
  assert.throws(() => assertJsonSafe({ info: { AA: [undefined] } }, 'm'), /undefined/);
});
