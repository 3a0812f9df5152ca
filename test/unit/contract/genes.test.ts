import assert from 'node:assert/strict';
import { test } from 'node:test';
import { genesFromInfo, normaliseGenes } from '../../../src/contract/genes.ts';

test('GENE gives its symbols, split on &', () => {
  assert.deepEqual(genesFromInfo({ GENE: 'BRCA1&NBR2' }), ['BRCA1', 'NBR2']);
});

test('GENEINFO takes the symbol of each SYMBOL:ID pair', () => {
  assert.deepEqual(genesFromInfo({ GENEINFO: 'BRCA1:672|NBR2:10230' }), ['BRCA1', 'NBR2']);
});

test('ANN takes the 4th field of each comma-separated annotation', () => {
  const ann =
    'A|missense_variant|MODERATE|TP53|ENSG00000141510|transcript|ENST1|protein_coding|5/11|c.1A>G|||||,' +
    'A|upstream_gene_variant|MODIFIER|WRAP53|ENSG2|transcript|ENST2|protein_coding||||||';
  assert.deepEqual(genesFromInfo({ ANN: ann }), ['TP53', 'WRAP53']);
});

test('ANN given as an array of annotations works the same', () => {
  assert.deepEqual(genesFromInfo({ ANN: ['A|x|LOW|KRAS|', 'A|x|LOW|KRAS|'] }), ['KRAS']);
});

test('old SnpEff EFF takes the 6th field inside the parentheses', () => {
  const eff =
    'NON_SYNONYMOUS_CODING(MODERATE|MISSENSE|gCt/gTt|A45V|300|OR4F5|protein_coding|CODING|ENST00000335137|1|1)';
  assert.deepEqual(genesFromInfo({ EFF: eff }), ['OR4F5']);
});

test('VEP CSQ takes the 4th field; BCSQ the 2nd', () => {
  assert.deepEqual(genesFromInfo({ CSQ: 'T|missense_variant|MODERATE|EGFR|ENSG|Transcript' }), ['EGFR']);
  assert.deepEqual(
    genesFromInfo({ BCSQ: 'missense|PCSK9|ENST00000302118|protein_coding|+|45V>45A|55505599T>C' }),
    ['PCSK9'],
  );
});

test('empty and "." symbols are dropped; duplicates collapse across fields', () => {
  assert.deepEqual(
    genesFromInfo({ GENE: '.', CSQ: 'T|x|LOW||E,T|x|LOW|.|E', GENEINFO: 'APOE:348', ANN: 'A|x|LOW|APOE|' }),
    ['APOE'],
  );
});

test('no annotation gives no genes', () => {
  assert.deepEqual(genesFromInfo({ AF: [0.1], DP: 10 }), []);
  assert.deepEqual(genesFromInfo(undefined), []);
});

test('explicit genes are split on & and cleaned', () => {
  assert.deepEqual(normaliseGenes(['BRCA1&BRCA2', '.', '', 'BRCA1']), ['BRCA1', 'BRCA2']);
});

test('only ASCII whitespace is trimmed from symbols: a byte order mark or other Unicode space stays', () => {
  assert.deepEqual(normaliseGenes([' BRCA1 ', '\ufeffx', 'TP53\u00a0']), ['BRCA1', '\ufeffx', 'TP53\u00a0']);
});
