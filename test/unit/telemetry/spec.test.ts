/** docs/telemetry.md is the contract: the code emits exactly the spans, metrics and log events it lists. */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { METRIC_SPECS, prometheusName } from '../../../src/telemetry/metric-spec.ts';
import { SPAN_NAMES } from '../../../src/telemetry/semconv.ts';

const root = new URL('../../../', import.meta.url).pathname;
const doc = readFileSync(join(root, 'docs/telemetry.md'), 'utf8');

function section(title: string): string {
  const start = doc.indexOf(`\n${title}\n`);
  assert.ok(start >= 0, `section ${title}`);
  const level = title.split(' ')[0] as string;
  const rest = doc.slice(start + title.length + 2);
  const next = rest.search(new RegExp(`^#{1,${level.length}} `, 'm'));
  return next < 0 ? rest : rest.slice(0, next);
}

const KINDS: Record<string, string> = {
  counter: 'counter',
  histogram: 'histogram',
  'observable gauge': 'gauge',
};
const ticked = (cell: string) => [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1] as string);

test('the metrics table lists exactly the metrics the code creates: names, instruments, units, attributes, Prometheus names', () => {
  const rows = [
    ...section('## Metrics').matchAll(
      /^\| `([a-z][a-z0-9._]*)` \| ([a-z ]+) \| `([^`]+)` \| (.*) \| `([a-z0-9_]+)` \|$/gm,
    ),
  ];
  const documented = new Map(rows.map((m) => [m[1] as string, m]));
  const specs = Object.values(METRIC_SPECS);
  assert.deepEqual([...documented.keys()].sort(), specs.map((s) => s.name).sort());
  for (const spec of specs) {
    const row = documented.get(spec.name) as RegExpMatchArray;
    assert.equal(KINDS[row[2] as string], spec.kind, `${spec.name}: instrument`);
    assert.equal(row[3], spec.unit, `${spec.name}: unit`);
    assert.deepEqual(
      ticked(row[4] as string).sort(),
      [...spec.attributes].sort(),
      `${spec.name}: attributes`,
    );
    assert.equal(row[5], prometheusName(spec), `${spec.name}: Prometheus name`);
  }
});

test('the spans table lists exactly the span names the code starts', () => {
  const names = [...section('### Spans').matchAll(/^\| `([^`]+)` \| [A-Z]+ \|/gm)].map((m) => m[1]);
  assert.deepEqual(
    names.sort(),
    [
      SPAN_NAMES.commit('<topic>'),
      SPAN_NAMES.create('<topic>'),
      SPAN_NAMES.process('<topic>'),
      SPAN_NAMES.deadLetter('<dead-letter topic>'),
      SPAN_NAMES.write('<sink>'),
    ].sort(),
  );
});

/** The consumer process's code: what its log events come from. */
const LOG_SOURCES = [
  'src/consumers',
  'src/backpressure',
  'src/batching',
  'src/sinks',
  'src/pipelines',
  'src/telemetry',
  'src/cli/consume.ts',
];

function files(path: string): string[] {
  const full = join(root, path);
  if (!statSync(full).isDirectory()) return [full];
  return readdirSync(full, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => join(full, f));
}

/** Message literals of `log.<level>(…, 'message')` calls (both branches of a `?:`). */
function logMessages(source: string): string[] {
  const out: string[] = [];
  for (const call of source.matchAll(/\b(?:log|logger)\??\.(?:fatal|error|warn|info|debug|trace)\(/g)) {
    let depth = 1;
    let i = (call.index as number) + call[0].length;
    const start = i;
    const commas = [start];
    while (i < source.length && depth > 0) {
      const c = source[i] as string;
      if (c === "'" || c === '"' || c === '`') {
        const end = source.indexOf(c, i + 1);
        i = end < 0 ? source.length : end + 1;
        continue;
      }
      if ('([{'.includes(c)) depth++;
      else if (')]}'.includes(c)) depth--;
      else if (c === ',' && depth === 1) commas.push(i + 1);
      i++;
    }
    // Each argument ends one character before the next one starts (the comma, or the closing paren).
    const args = commas.map((at, k) => source.slice(at, (commas[k + 1] ?? i) - 1));
    const last = args.filter((a) => a.trim() !== '').at(-1) ?? '';
    for (const m of last.matchAll(/'([^']+)'|"([^"]+)"|`([^`$]+)`/g))
      out.push((m[1] ?? m[2] ?? m[3]) as string);
  }
  return out;
}

test('the log events table lists exactly the messages the consumer process logs', () => {
  const documented = new Set(
    [...section('### Log events').matchAll(/^\| `([^`]+)` \| (?:fatal|error|warn|info|debug) \|/gm)].map(
      (m) => m[1],
    ),
  );
  assert.ok(documented.size > 20);
  const emitted = new Set(LOG_SOURCES.flatMap(files).flatMap((f) => logMessages(readFileSync(f, 'utf8'))));
  const undocumented = [...emitted].filter((m) => !documented.has(m));
  const stale = [...documented].filter((m) => !emitted.has(m as string));
  assert.deepEqual({ undocumented, stale }, { undocumented: [], stale: [] });
});
