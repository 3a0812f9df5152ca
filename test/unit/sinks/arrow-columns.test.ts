import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { tableFromIPC, tableToIPC } from 'apache-arrow';
import { VariantColumns } from '../../../src/batching/variant-batch.ts';
import {
  float64Column,
  int64Column,
  utf8Column,
  utf8ListColumn,
} from '../../../src/sinks/lancedb/arrow-columns.ts';
import { VARIANTS_SCHEMA, variantsToArrow } from '../../../src/sinks/lancedb/variant-arrow.ts';

/** Values as Arrow holds them, after an IPC round trip (what the LanceDB client sends). */
function roundTrip(columns: VariantColumns) {
  const table = tableFromIPC(tableToIPC(variantsToArrow(columns, Date.UTC(2026, 11, 2))));
  return table.toArray().map((row) => row.toJSON());
}

describe('Arrow columns written straight into their buffers', () => {
  it('UTF-8 strings of any width, empty strings and nulls keep their values', () => {
    const values = ['A', '', null, 'é', '中文', '🧬 DNA', 'x'.repeat(5000), null, 'ü'.repeat(2000)];
    const data = utf8Column(values);
    assert.equal(data.nullCount, 2);
    const read = Array.from({ length: values.length }, (_, i) =>
      data.getValid(i)
        ? new TextDecoder().decode(data.values.subarray(data.valueOffsets[i], data.valueOffsets[i + 1]))
        : null,
    );
    assert.deepEqual(read, values);
  });

  it('grows its buffer when wide characters outgrow the first estimate', () => {
    const values = Array.from({ length: 300 }, (_, i) => (i % 2 ? '中'.repeat(40) : 'a'));
    const data = utf8Column(values);
    assert.equal(
      data.valueOffsets[values.length],
      values.reduce((n, v) => n + Buffer.byteLength(v), 0),
    );
  });

  it('Int64 halves hold safe integers, negative ones too', () => {
    const values = [0, 1, 2 ** 32, 2 ** 32 + 7, Number.MAX_SAFE_INTEGER, -1, -(2 ** 40)];
    assert.deepEqual([...(int64Column(values).values as BigInt64Array)], values.map(BigInt));
  });

  it('Int64 refuses what it cannot hold exactly, instead of truncating it', () => {
    for (const bad of [2.5, Number.NaN, 2 ** 53, Number.POSITIVE_INFINITY])
      assert.throws(() => int64Column([1, bad]), RangeError, String(bad));
  });

  it('float64 nulls and list<utf8> rows survive an IPC round trip of a variants table', () => {
    const c = new VariantColumns();
    const rows = [
      { id: '1-10-A-T', qual: 30.5, filter: ['PASS'], genes: ['BRCA1', 'NBR2'], rsid: 'rs1' },
      { id: '1-11-G-C', qual: null, filter: [], genes: [], rsid: null },
      { id: '1-12-C-G', qual: 0, filter: ['q10', 's50'], genes: ['Ünï'], rsid: 'rs3' },
    ];
    rows.forEach((r, i) => {
      c.variantId.push(r.id);
      c.chrom.push('1');
      c.pos.push(10 + i);
      c.ref.push('A');
      c.alt.push('T');
      c.rsid.push(r.rsid);
      c.qual.push(r.qual);
      c.filter.push(r.filter);
      c.genes.push(r.genes);
      c.info.push('{"DP":3}');
      c.sampleCount.push(i);
      c.source.push(null);
      c.topic.push('t');
      c.partition.push(2);
      c.offset.push(2 ** 33 + i);
    });
    const read = roundTrip(c);
    assert.equal(read.length, 3);
    assert.equal(VARIANTS_SCHEMA.fields.length, Object.keys(read[0] as object).length);
    rows.forEach((r, i) => {
      const row = read[i] as Record<string, unknown>;
      assert.equal(row.variant_id, r.id);
      assert.equal(row.qual, r.qual);
      assert.equal(row.rsid, r.rsid);
      assert.deepEqual([...(row.filter as Iterable<string>)], r.filter);
      assert.deepEqual([...(row.genes as Iterable<string>)], r.genes);
      assert.equal(row.pos, BigInt(10 + i));
      assert.equal(row.kafka_offset, BigInt(2 ** 33 + i));
      assert.equal(row.source, null);
    });
  });

  it('float64Column marks only nulls invalid', () => {
    const data = float64Column([1.5, null, 0]);
    assert.equal(data.nullCount, 1);
    assert.deepEqual(
      [0, 1, 2].map((i) => data.getValid(i)),
      [true, false, true],
    );
  });

  it('list<utf8> of no rows is empty', () => {
    assert.equal(utf8ListColumn([]).length, 0);
  });
});
