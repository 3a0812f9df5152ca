import assert from 'node:assert/strict';
import { test } from 'node:test';
import { carriedAlleles } from '../../../src/contract/genotype.ts';

test('0/1 carries allele 1, heterozygous', () => {
  assert.deepEqual(carriedAlleles('0/1'), [{ allele: 1, zygosity: 'HET' }]);
});

test('1|2 carries alleles 1 and 2, each heterozygous', () => {
  assert.deepEqual(carriedAlleles('1|2'), [
    { allele: 1, zygosity: 'HET' },
    { allele: 2, zygosity: 'HET' },
  ]);
});

test('1/1 and 2|2 are homozygous for their allele', () => {
  assert.deepEqual(carriedAlleles('1/1'), [{ allele: 1, zygosity: 'HOM' }]);
  assert.deepEqual(carriedAlleles('2|2'), [{ allele: 2, zygosity: 'HOM' }]);
});

test('missing and reference genotypes carry nothing', () => {
  for (const gt of ['./.', '.|.', '.', '0/0', '0|0', '0']) assert.deepEqual(carriedAlleles(gt), [], gt);
});

test('haploid 1 is hemizygous', () => {
  assert.deepEqual(carriedAlleles('1'), [{ allele: 1, zygosity: 'HEMI' }]);
});

test('a partly missing call still carries its allele', () => {
  assert.deepEqual(carriedAlleles('./1'), [{ allele: 1, zygosity: 'HET' }]);
});

test('triploid and multi-digit alleles', () => {
  assert.deepEqual(carriedAlleles('0/1/1'), [{ allele: 1, zygosity: 'HET' }]);
  assert.deepEqual(carriedAlleles('0/12'), [{ allele: 12, zygosity: 'HET' }]);
});

test('text that is not a genotype is rejected', () => {
  for (const gt of ['A/T', '0/x', '', '1/-1', '0//1']) assert.equal(carriedAlleles(gt), undefined, gt);
});

test('VCF 4.4 leading phase: /0/1, |0|1 and |1 read as 0/1, 0|1 and haploid 1', () => {
  assert.deepEqual(carriedAlleles('/0/1'), [{ allele: 1, zygosity: 'HET' }]);
  assert.deepEqual(carriedAlleles('|0|1'), [{ allele: 1, zygosity: 'HET' }]);
  assert.deepEqual(carriedAlleles('|0/1/2'), [
    { allele: 1, zygosity: 'HET' },
    { allele: 2, zygosity: 'HET' },
  ]);
  assert.deepEqual(carriedAlleles('|1'), [{ allele: 1, zygosity: 'HEMI' }]);
  assert.deepEqual(carriedAlleles('|0'), []);
  for (const gt of ['/', '|', '//1', '|/1']) assert.equal(carriedAlleles(gt), undefined, gt);
});
