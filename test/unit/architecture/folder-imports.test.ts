/**
 * The folders of src/ depend on each other in one direction only: no import cycle between two
 * folders, however long (core <- contract <- batching <- consumers ...). A file's own folder and
 * its subfolders count as one (src/sinks/kuzu is part of sinks).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const SRC = fileURLToPath(new URL('../../../src', import.meta.url));
const IMPORT = /(?:from|import)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

const folderOf = (file: string) => relative(SRC, file).split('/')[0] ?? '';

/** folder -> folders it imports, with one file import as the example of each edge. */
function folderGraph(): Map<string, Map<string, string>> {
  const graph = new Map<string, Map<string, string>>();
  for (const file of sourceFiles(SRC)) {
    const from = folderOf(file);
    if (!from.includes('.')) graph.set(from, graph.get(from) ?? new Map());
    for (const [, spec] of readFileSync(file, 'utf8').matchAll(IMPORT)) {
      const to = folderOf(normalize(join(dirname(file), spec as string)));
      if (to === from || from.includes('.') || to.includes('.')) continue;
      const edges = graph.get(from) ?? new Map<string, string>();
      if (!edges.has(to)) edges.set(to, `${relative(SRC, file)} -> ${spec}`);
      graph.set(from, edges);
    }
  }
  return graph;
}

/** Tarjan's strongly connected components with more than one folder: each is a cycle. */
function cycles(graph: Map<string, Map<string, string>>): string[][] {
  let index = 0;
  const indices = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string) => {
    indices.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v)?.keys() ?? []) {
      if (!indices.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v) as number, low.get(w) as number));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v) as number, indices.get(w) as number));
    }
    if (low.get(v) === indices.get(v)) {
      const component: string[] = [];
      let w: string | undefined;
      do {
        w = stack.pop() as string;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1) out.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!indices.has(v)) visit(v);
  return out;
}

test('no import cycle between the folders of src/', () => {
  const graph = folderGraph();
  const found = cycles(graph).map((component) => {
    const edges = component.flatMap((a) =>
      [...(graph.get(a) ?? [])].filter(([b]) => component.includes(b)).map(([, example]) => example),
    );
    return `${component.join(' <-> ')}: ${edges.join('; ')}`;
  });
  assert.deepEqual(found, []);
});

test('core depends on no other folder but contract', () => {
  const edges = [...(folderGraph().get('core')?.keys() ?? [])];
  assert.deepEqual(
    edges.filter((f) => f !== 'contract'),
    [],
  );
});

test('only the Kafka adapters (src/consumers/) and the tools (bench, chaos) import kafkajs', () => {
  const importers = sourceFiles(SRC)
    .filter((file) => /from 'kafkajs'/.test(readFileSync(file, 'utf8')))
    .map((file) => relative(SRC, file))
    .filter((file) => !/^(consumers|bench|chaos)\//.test(file));
  assert.deepEqual(importers, []);
});

test('no file of the service over 300 lines without a reason at its top ("Long file:")', () => {
  const long = sourceFiles(SRC)
    .filter((file) => !/^(bench|chaos)\//.test(relative(SRC, file)))
    .filter((file) => {
      const text = readFileSync(file, 'utf8');
      const header = text.slice(0, text.indexOf('*/') + 2);
      return text.split('\n').length > 300 && !header.includes('Long file:');
    })
    .map((file) => relative(SRC, file));
  assert.deepEqual(long, []);
});
