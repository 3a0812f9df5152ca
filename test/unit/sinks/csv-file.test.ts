import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { CsvFile } from '../../../src/sinks/kuzu/csv-file.ts';

test('values are quoted only when needed, quotes doubled, null and undefined empty', async () => {
  const path = join(mkdtempSync(join(tmpdir(), 'csv-')), 'x.csv');
  const csv = new CsvFile(path, ['a', 'b', 'c', 'd']);
  csv.row(['plain', 'with,comma', 'say "hi"', null]);
  csv.row([' padded', '', 3.5, undefined]);
  csv.row([Number.NaN, 'x', 1, 'y']);
  await csv.write();
  assert.equal(
    readFileSync(path, 'utf8'),
    'a,b,c,d\nplain,"with,comma","say ""hi""",\n" padded","",3.5,\n,x,1,y\n',
  );
  assert.equal(csv.rows, 3);
  assert.equal(csv.hasNewlines, false);
});

test('a value with a newline is quoted and flagged for the serial CSV reader', () => {
  const csv = new CsvFile('/dev/null', ['a']);
  csv.row(['two\nlines']);
  assert.equal(csv.hasNewlines, true);
});
