import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DeadLetterCode, DecodeError } from '../../../src/contract/errors.ts';
import { decodeVariantMessage } from '../../../src/contract/variant-decoder.ts';

const example = {
  chrom: 'chr17',
  pos: 43045712,
  ref: 'G',
  alt: ['A', 'T'],
  id: 'rs80357906',
  qual: 99.5,
  filter: ['PASS'],
  info: { AF: [0.01, 0.002], GENEINFO: 'BRCA1:672' },
  samples: { NA12878: { GT: '0/1', DP: 31, GQ: 99 }, NA12891: { GT: '1|2', DP: 20 }, NA12892: { GT: './.' } },
  source: 'cohort-a',
};

const decode = (body: unknown, contentType?: string) =>
  decodeVariantMessage(Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)), contentType);

function rejects(body: unknown, code: string, contentType?: string): void {
  assert.throws(
    () => decode(body, contentType),
    (e: unknown) => e instanceof DecodeError && e.code === code,
  );
}

test('the contract example yields one variant per ALT with its carriers', () => {
  const d = decode(example);
  assert.deepEqual(
    d.variants.map((v) => [v.variantId, v.sampleCount]),
    [
      ['chr17-43045712-G-A', 2],
      ['chr17-43045712-G-T', 1],
    ],
  );
  assert.deepEqual(d.samples, ['NA12878', 'NA12891', 'NA12892']);
  assert.deepEqual(
    d.calls.map((c) => [c.sample, c.variantId, c.gt, c.zygosity, c.dp, c.gq]),
    [
      ['NA12878', 'chr17-43045712-G-A', '0/1', 'HET', 31, 99],
      ['NA12891', 'chr17-43045712-G-A', '1|2', 'HET', 20, null],
      ['NA12891', 'chr17-43045712-G-T', '1|2', 'HET', 20, null],
    ],
  );
  const v = d.variants[0];
  assert.equal(v?.rsid, 'rs80357906');
  assert.equal(v?.qual, 99.5);
  assert.deepEqual(v?.filter, ['PASS']);
  assert.deepEqual(v?.genes, ['BRCA1']);
  assert.deepEqual(JSON.parse(v?.info ?? ''), example.info);
  assert.equal(v?.source, 'cohort-a');
});

test('explicit genes win over INFO annotations', () => {
  assert.deepEqual(decode({ ...example, genes: ['NBR2'] }).variants[0]?.genes, ['NBR2']);
});

test('gVCF placeholders and the spanning deletion yield no variant, and no error', () => {
  const d = decode({ ...example, alt: ['A', '<NON_REF>', '*', '<*>'], samples: { S: { GT: '1/2' } } });
  assert.deepEqual(
    d.variants.map((v) => v.variantId),
    ['chr17-43045712-G-A'],
  );
  assert.deepEqual(
    d.calls.map((c) => c.variantId),
    ['chr17-43045712-G-A'],
  );
  assert.deepEqual(decode({ ...example, alt: ['<NON_REF>'], samples: { S: { GT: '0/1' } } }).variants, []);
});

test('alt "." or [] means no alternate allele; a string alt is accepted', () => {
  const { samples: _, ...site } = example;
  assert.equal(decode({ ...site, alt: '.' }).variants.length, 0);
  assert.equal(decode({ ...site, alt: [] }).variants.length, 0);
  assert.deepEqual(
    decode({ ...site, alt: 'C' }).variants.map((v) => v.variantId),
    ['chr17-43045712-G-C'],
  );
});

test('VCF fidelity: POS 0 (a telomere), empty ALT alleles as missing, leading-phase genotypes', () => {
  assert.deepEqual(
    decode({ chrom: '1', pos: 0, ref: 'N', alt: '<TRA>' }).variants.map((v) => v.variantId),
    ['1-0-N-<TRA>'],
  );
  // `A,,T`: the second allele is missing; allele 3 keeps its number.
  const d = decode({
    chrom: '1',
    pos: 5,
    ref: 'C',
    alt: ['A', '', 'T'],
    samples: { S: { GT: '/0/3' }, R: { GT: '|1' } },
  });
  assert.deepEqual(
    d.variants.map((v) => v.variantId),
    ['1-5-C-A', '1-5-C-T'],
  );
  assert.deepEqual(
    d.calls.map((c) => `${c.sample} ${c.variantId} ${c.zygosity}`),
    ['S 1-5-C-T HET', 'R 1-5-C-A HEMI'],
  );
  assert.deepEqual(decode({ chrom: '1', pos: 5, ref: 'C', alt: '' }).variants, []);
  // No ALT at all: the record yields nothing, whatever its genotypes say (hts-specs passed_body_alt).
  assert.deepEqual(
    decode({ chrom: '1', pos: 1900, ref: 'C', alt: '.', samples: { S: { GT: '0|1' } } }).calls,
    [],
  );
});

test('symbolic and breakend alleles are kept as text', () => {
  const d = decode({ chrom: '2', pos: 321682, ref: 'T', alt: ['<DEL>', 'N]CHR6:51159910]'] });
  assert.deepEqual(
    d.variants.map((v) => v.alt),
    ['<DEL>', 'N]CHR6:51159910]'],
  );
});

test('optional fields may be absent or null', () => {
  const d = decode({ chrom: '1', pos: 1, ref: 'A', alt: 'G', id: null, qual: null, filter: null });
  assert.equal(d.variants[0]?.rsid, null);
  assert.equal(d.variants[0]?.qual, null);
  assert.deepEqual(d.variants[0]?.filter, []);
  assert.equal(d.variants[0]?.info, '{}');
  assert.deepEqual(d.samples, []);
});

test('malformed input is rejected with a stable code', () => {
  rejects('{"chrom": "1", ', DeadLetterCode.INVALID_JSON);
  rejects('[1,2]', DeadLetterCode.NOT_AN_OBJECT);
  rejects('42', DeadLetterCode.NOT_AN_OBJECT);
  rejects({ pos: 1, ref: 'A', alt: 'G' }, DeadLetterCode.MISSING_FIELD);
  rejects({ chrom: '1', ref: 'A', alt: 'G' }, DeadLetterCode.MISSING_FIELD);
  rejects({ chrom: '1', pos: 1, alt: 'G' }, DeadLetterCode.MISSING_FIELD);
  rejects({ chrom: '1', pos: 1, ref: 'A' }, DeadLetterCode.MISSING_FIELD);
  rejects({ chrom: '1', pos: 1.5, ref: 'A', alt: 'G' }, DeadLetterCode.INVALID_FIELD);
  rejects({ chrom: '1', pos: '100', ref: 'A', alt: 'G' }, DeadLetterCode.INVALID_FIELD);
  rejects({ chrom: '1', pos: -1, ref: 'A', alt: 'G' }, DeadLetterCode.INVALID_FIELD);
  // Empty is missing, as the README's code table says.
  rejects({ chrom: '', pos: 1, ref: 'A', alt: 'G' }, DeadLetterCode.MISSING_FIELD);
  rejects({ chrom: '1', pos: 1, ref: '', alt: 'G' }, DeadLetterCode.MISSING_FIELD);
  rejects({ chrom: 7, pos: 1, ref: 'A', alt: 'G' }, DeadLetterCode.INVALID_FIELD);
  rejects({ chrom: '1', pos: 1, ref: 'A', alt: [1] }, DeadLetterCode.INVALID_FIELD);
  rejects(
    { chrom: '1', pos: 1, ref: 'A', alt: 'G', samples: { S: { GT: 'x/y' } } },
    DeadLetterCode.INVALID_FIELD,
  );
  rejects(
    { chrom: '1', pos: 1, ref: 'A', alt: 'G', samples: { S: { GT: '0/1', DP: 'deep' } } },
    DeadLetterCode.INVALID_FIELD,
  );
  rejects(
    { chrom: '1', pos: 1, ref: 'A', alt: 'G', samples: { S: { GT: '0/1', DP: 1e20 } } },
    DeadLetterCode.INVALID_FIELD,
  );
  rejects(
    { chrom: '1', pos: 1, ref: 'A', alt: ['G', 'T'], samples: { S: { GT: '0/3' } } },
    DeadLetterCode.INVALID_FIELD,
  );
  rejects({ chrom: '1', pos: 1, ref: 'A', alt: 'G', qual: 'high' }, DeadLetterCode.INVALID_FIELD);
  rejects({ chrom: '1', pos: 1, ref: 'A', alt: 'G', info: [1] }, DeadLetterCode.INVALID_FIELD);
});

test('empty values, invalid UTF-8 and foreign content types are rejected', () => {
  assert.throws(
    () => decodeVariantMessage(null),
    (e: unknown) => (e as DecodeError).code === DeadLetterCode.EMPTY_VALUE,
  );
  assert.throws(
    () => decodeVariantMessage(Buffer.from([0x7b, 0xff, 0xfe, 0x7d])),
    (e: unknown) => (e as DecodeError).code === DeadLetterCode.INVALID_UTF8,
  );
  rejects(example, DeadLetterCode.UNSUPPORTED_CONTENT_TYPE, 'application/x-float32-le');
  assert.equal(decode(example, 'application/json; charset=utf-8').variants.length, 2);
});

test('info_per_allele: each ALT row stores its own Number=A value and [REF, own] for Number=R', () => {
  const d = decode({
    chrom: '1',
    pos: 5,
    ref: 'C',
    alt: ['A', '*', 'T'],
    info: { AF: [0.1, 0.2, 0.3], ADR: [7, 1, 2, 3], DP: 12, FLAG: true },
    info_per_allele: { AF: 'A', ADR: 'R' },
  });
  assert.deepEqual(
    d.variants.map((v) => [v.alt, JSON.parse(v.info)]),
    [
      ['A', { AF: 0.1, ADR: [7, 1], DP: 12, FLAG: true }],
      ['T', { AF: 0.3, ADR: [7, 3], DP: 12, FLAG: true }],
    ],
  );
  const whole = decode({ chrom: '1', pos: 5, ref: 'C', alt: ['A', 'T'], info: { AF: [0.1, 0.2] } });
  assert.deepEqual(
    whole.variants.map((v) => JSON.parse(v.info)),
    [{ AF: [0.1, 0.2] }, { AF: [0.1, 0.2] }],
    'without info_per_allele every row holds the whole object',
  );
  rejects(
    { chrom: '1', pos: 5, ref: 'C', alt: ['A', 'T'], info: { AF: [0.1] }, info_per_allele: { AF: 'A' } },
    'INVALID_FIELD',
  );
  rejects(
    { chrom: '1', pos: 5, ref: 'C', alt: ['A'], info: { AF: [0.1] }, info_per_allele: { AF: 'G' } },
    'INVALID_FIELD',
  );
});

test('INFO_TOO_LARGE counts the INFO bytes every ALT row stores', () => {
  const info = { CSQ: 'x'.repeat(3 * 1024 * 1024) };
  assert.doesNotThrow(() => decode({ chrom: '1', pos: 5, ref: 'C', alt: ['A', 'T'], info }));
  rejects({ chrom: '1', pos: 5, ref: 'C', alt: ['A', 'T', 'G'], info }, 'INFO_TOO_LARGE');
});
