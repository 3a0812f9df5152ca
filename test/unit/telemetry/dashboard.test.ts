import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { METRIC_SPECS, prometheusName } from '../../../src/telemetry/metric-spec.ts';

interface Panel {
  title: string;
  type: string;
  targets?: { expr: string }[];
}

const dashboard = JSON.parse(
  readFileSync(new URL('../../../deploy/grafana/varstream-dashboard.json', import.meta.url), 'utf8'),
) as { panels: Panel[]; templating: { list: { name: string; query?: unknown }[] } };
const exprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));

/** Every series name the spec puts on /metrics (histograms: their _bucket, _sum, _count). */
const served = new Set(
  Object.values(METRIC_SPECS).flatMap((spec) => {
    const name = prometheusName(spec);
    return spec.kind === 'histogram' ? [`${name}_bucket`, `${name}_sum`, `${name}_count`] : [name];
  }),
);

test('every query of the dashboard uses only metrics of the spec, under their Prometheus names', () => {
  assert.ok(exprs.length > 15);
  const promql = new Set(['sum', 'max', 'by', 'rate', 'increase', 'histogram_quantile', 'le']);
  for (const expr of exprs) {
    // Series selectors: a name followed by `{`.
    const names = [...expr.matchAll(/([a-z_][a-z0-9_]*)\{/g)].map((m) => m[1] as string);
    assert.ok(names.length > 0, expr);
    for (const name of names)
      assert.ok(served.has(name) && !promql.has(name), `${name} (in ${expr}) is not in the spec`);
  }
  const templates = JSON.stringify(dashboard.templating);
  for (const name of templates.matchAll(/label_values\(([a-z_]+),/g))
    assert.ok(served.has(name[1] as string), `template variable on ${name[1]}`);
});

test('the dashboard shows what the issue asks: lag, throughput per sink, flush p50/p99, memory vs limit, paused partitions, dead letters', () => {
  const uses = (fragment: string) => exprs.some((e) => e.includes(fragment));
  assert.ok(uses('varstream_consumer_lag{'));
  assert.ok(uses('rate(varstream_sink_written_rows_total{') && uses('varstream_sink_name'));
  assert.ok(
    uses(
      'histogram_quantile(0.5, sum by (le, messaging_destination_name) (rate(messaging_process_duration_bucket',
    ),
  );
  assert.ok(
    uses(
      'histogram_quantile(0.99, sum by (le, messaging_destination_name) (rate(messaging_process_duration_bucket',
    ),
  );
  assert.ok(
    uses(
      'histogram_quantile(0.99, sum by (le, varstream_sink_name) (rate(varstream_sink_write_duration_bucket',
    ),
  );
  assert.ok(
    uses('varstream_memory_used{') && uses('varstream_memory_limit{') && uses('process_memory_usage{'),
  );
  assert.ok(uses('sum by (varstream_pause_reason) (varstream_partition_paused{'));
  assert.ok(uses('sum by (varstream_dead_letter_code)'));
});
