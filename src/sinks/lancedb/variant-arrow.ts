/**
 * The LanceDB `variants` table schema and the encoder that turns a batch's columns into one Arrow
 * record batch (column by column; no row objects).
 */
import { Field, Float64, Int32, Int64, Schema, type Table, TimestampMillisecond, Utf8 } from 'apache-arrow';
import type { VariantColumns } from '../../batching/variant-batch.ts';
import {
  float64Column,
  int32Column,
  int64Column,
  tableOf,
  timestampColumn,
  utf8Column,
  utf8ListColumn,
  utf8ListType,
} from './arrow-columns.ts';

export const VARIANTS_SCHEMA = new Schema([
  new Field('variant_id', new Utf8(), false),
  new Field('chrom', new Utf8(), false),
  new Field('pos', new Int64(), false),
  new Field('ref', new Utf8(), false),
  new Field('alt', new Utf8(), false),
  new Field('rsid', new Utf8(), true),
  new Field('qual', new Float64(), true),
  new Field('filter', utf8ListType(), true),
  new Field('genes', utf8ListType(), true),
  new Field('info', new Utf8(), true),
  new Field('sample_count', new Int32(), false),
  new Field('source', new Utf8(), true),
  new Field('kafka_topic', new Utf8(), false),
  new Field('kafka_partition', new Int32(), false),
  new Field('kafka_offset', new Int64(), false),
  new Field('ingested_at', new TimestampMillisecond('UTC'), false),
]);

export function variantsToArrow(columns: VariantColumns, ingestedAt: number): Table {
  return tableOf(VARIANTS_SCHEMA, columns.length, [
    utf8Column(columns.variantId),
    utf8Column(columns.chrom),
    int64Column(columns.pos),
    utf8Column(columns.ref),
    utf8Column(columns.alt),
    utf8Column(columns.rsid),
    float64Column(columns.qual),
    utf8ListColumn(columns.filter),
    utf8ListColumn(columns.genes),
    utf8Column(columns.info),
    int32Column(columns.sampleCount),
    utf8Column(columns.source),
    utf8Column(columns.topic),
    int32Column(columns.partition),
    int64Column(columns.offset),
    timestampColumn(columns.length, ingestedAt),
  ]);
}
