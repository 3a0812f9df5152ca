/**
 * `npm run chaos -- --rounds N`: runs the fault scenarios against the real broker and prints, per
 * scenario, what was produced, stored, dead-lettered, duplicated and lost, and how often the
 * consumer restarted or crashed. Exits 1 when any scenario lost, duplicated, crashed or left
 * offsets uncommitted. Writes the results as JSON (--out).
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { brokersOrLocal } from '../cli/local-kafka.ts';
import { runScenario, SCENARIOS, type ScenarioName, type ScenarioResult } from './scenarios.ts';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '20' },
    messages: { type: 'string', default: '5000' },
    hostile: { type: 'string', default: '300' },
    scenario: { type: 'string', multiple: true },
    seed: { type: 'string', default: '42' },
    out: { type: 'string', default: 'chaos-result.json' },
  },
});

const number = (name: string, value: string | undefined) => {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1)
    throw new Error(`--${name}: expected a positive integer, got ${value}`);
  return n;
};
const scenarios = (values.scenario ?? [...SCENARIOS]).flatMap((s) => s.split(','));
for (const s of scenarios)
  if (!(SCENARIOS as readonly string[]).includes(s))
    throw new Error(`--scenario ${s}: expected one of ${SCENARIOS.join(', ')}`);

brokersOrLocal();
const options = {
  rounds: number('rounds', values.rounds),
  messages: number('messages', values.messages),
  hostile: number('hostile', values.hostile),
  seed: number('seed', values.seed),
  log: (line: string) => console.error(line),
};
const results: ScenarioResult[] = [];
for (const name of scenarios as ScenarioName[]) {
  console.error(`== ${name}`);
  results.push(await runScenario(name, options));
}

const header = [
  'scenario',
  'produced',
  'stored',
  'dead-lettered',
  'duplicates',
  'lost',
  'wrong code',
  'restarts',
  'crashes',
  'committed = end',
  'seconds',
];
const rows = results.map((r) =>
  r.skipped
    ? [r.scenario, `skipped: ${r.skipped}`, '', '', '', '', '', '', '', '', '']
    : [
        r.scenario,
        r.produced,
        r.stored,
        r.deadLettered,
        r.duplicates,
        r.lost,
        r.wrongCode,
        r.restarts,
        r.crashes,
        r.committedAtEnd ? 'yes' : 'NO',
        r.seconds,
      ].map(String),
);
console.log(`| ${header.join(' | ')} |`);
console.log(`| ${header.map((_, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`);
for (const row of rows) console.log(`| ${row.join(' | ')} |`);
for (const r of results) {
  const codes = Object.entries(r.codes).map(([code, n]) => `${code} ${n}`);
  if (codes.length > 0) console.log(`${r.scenario}: dead letters by code: ${codes.join(', ')}`);
  for (const p of r.problems) console.log(`${r.scenario}: ${p}`);
}
writeFileSync(
  values.out as string,
  `${JSON.stringify({ options: { ...options, log: undefined }, results }, null, 2)}\n`,
);
const failed = results.some(
  (r) =>
    !r.skipped && (r.lost > 0 || r.wrongCode > 0 || r.duplicates > 0 || r.crashes > 0 || !r.committedAtEnd),
);
process.exit(failed ? 1 : 0);
