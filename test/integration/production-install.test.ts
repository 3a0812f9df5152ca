/**
 * Proves, without a container engine: the image's production install works and its command runs
 * the deployed pipelines. The test reads deploy/Dockerfile and
 * 1. runs the `deps` stage's COPY and RUN lines in a temporary directory (the production install:
 *    production dependencies only, the lock file's versions, Kuzu's sources pruned);
 * 2. compiles dist/ with the build stage's command (its dev-dependency install is the project's own
 *    node_modules here);
 * 3. assembles the final stage's /app from the COPY lines, and runs its exact ENTRYPOINT + CMD
 *    (`/usr/bin/tini -- node dist/cli/main.js consume`) as the image's USER (when the test runs as
 *    root), with the image's ENV and each pipeline's environment from the dev overlay's manifests
 *    (broker, topics, group, ports and paths pointed at this machine);
 * then the vector and the graph pipeline each become ready (/readyz 200; /healthz and /metrics
 * answer), consume a few variants (and embeddings), and stop cleanly on SIGTERM through tini
 * (exit 0, everything committed), with the rows in LanceDB and the nodes in Kuzu.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  renameSync,
  rmSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import * as lancedb from '@lancedb/lancedb';
import { embeddingMessages, variantMessages } from '../../src/chaos/ledger.ts';
import { loadConfig, parseBytes } from '../../src/config/index.ts';
import { createKafka } from '../../src/consumers/kafka-client.ts';
import { caughtUp, ensureTopics } from '../../src/consumers/topics.ts';
import { KuzuStore } from '../../src/sinks/kuzu/kuzu-store.ts';
import {
  container,
  type DockerStage,
  execForm,
  find,
  type KubeObject,
  metricsIn,
  ROOT,
  readDockerfile,
  renderOverlay,
  stageEnv,
} from '../helpers/deploy.ts';
import { ensureBroker, silentLogger, uniqueName } from '../helpers/kafka.ts';
import { freePort } from '../helpers/net.ts';
import { waitFor } from '../helpers/wait.ts';

const VARIANTS = 40;
const EMBEDDINGS = 6; // JSON, f32 and Arrow messages: 10 rows (every third message carries 3)
const EMBEDDING_ROWS = 10;

before(() => {
  process.env.KAFKA_BROKERS = ensureBroker();
});

function run(command: string, cwd: string, env: NodeJS.ProcessEnv): void {
  const result = spawnSync('sh', ['-c', command], {
    cwd,
    env,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  assert.equal(result.status, 0, `${command}\n${result.stdout}\n${result.stderr}`);
}

/** The image's filesystem path `path` of a stage, under the directory standing for its root. */
const under = (root: string, path: string) => join(root, path);

interface Container {
  name: string;
  child: ChildProcess;
  logs: string[];
  errors: string[];
  exit: Promise<number | null>;
  port: number;
}

function startContainer(
  name: string,
  argv: string[],
  cwd: string,
  env: NodeJS.ProcessEnv,
  uid?: number,
  gid?: number,
): Container {
  const [command, ...args] = argv as [string, ...string[]];
  const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], uid, gid });
  const logs: string[] = [];
  const errors: string[] = [];
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
    logs.push(line);
    if (/"level":(50|60)/.test(line)) errors.push(line);
  });
  createInterface({ input: child.stderr as NodeJS.ReadableStream }).on('line', (line) => {
    // tini, not PID 1 here, warns that it cannot reap orphans (as PID 1 in the container it
    // can); anything else on stderr is a problem.
    if (!/Tini is not running as PID 1|Zombie processes will not be re-parented|TINI_SUBREAPER/.test(line))
      errors.push(line);
  });
  const exit = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { name, child, logs, errors, exit, port: Number(env.VARSTREAM_HTTP_PORT) };
}

async function get(port: number, path: string): Promise<{ status: number; body: string }> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(2_000) });
    return { status: response.status, body: await response.text() };
  } catch {
    return { status: 0, body: '' };
  }
}

test('the production install runs the container command: ready, consumes, stops cleanly on SIGTERM', {
  timeout: 300_000,
}, async () => {
  const { stages } = readDockerfile();
  const stage = (name: string) => stages.find((s) => s.name === name) as DockerStage;
  const runtime = stages.at(-1) as DockerStage;
  const root = mkdtempSync(join(tmpdir(), 'varstream-image-'));
  chmodSync(root, 0o755);
  // Node 26, as in the image; a copy, so the image's user can run it wherever the checkout is.
  const nodeDir = join(root, 'bin');
  mkdirSync(nodeDir);
  copyFileSync(process.execPath, join(nodeDir, 'node'));
  chmodSync(join(nodeDir, 'node'), 0o755);
  const hostEnv: NodeJS.ProcessEnv = { ...process.env, PATH: `${nodeDir}:${process.env.PATH}` };
  delete hostEnv.NODE_TEST_CONTEXT;
  delete hostEnv.NODE_OPTIONS;

  // 1. The stage that installs the production dependencies, line by line.
  const copyFromContext = (s: DockerStage, stageRoot: string, workdir: string, args: string) => {
    const parts = args.split(/\s+/);
    const dest = parts.pop() as string;
    const target = dest.startsWith('/') ? under(stageRoot, dest) : join(under(stageRoot, workdir), dest);
    mkdirSync(target, { recursive: true });
    for (const source of parts)
      copyFileSync(join(ROOT, source), join(target, source.split('/').at(-1) as string));
    assert.ok(parts.length > 0, `${s.name}: COPY ${args}`);
  };
  const nodeModulesCopy = runtime.instructions.find(
    (i) => i.keyword === 'COPY' && i.args.includes('node_modules'),
  );
  const deps = stage(nodeModulesCopy?.flags.from as string);
  const depsRoot = join(root, deps.name);
  let workdir = '/';
  const started = performance.now();
  for (const i of deps.instructions) {
    if (i.keyword === 'WORKDIR') {
      workdir = i.args;
      mkdirSync(under(depsRoot, workdir), { recursive: true });
    } else if (i.keyword === 'COPY') copyFromContext(deps, depsRoot, workdir, i.args);
    else if (i.keyword === 'RUN') run(i.args, under(depsRoot, workdir), hostEnv);
    else assert.fail(`the test does not emulate ${i.keyword} in stage ${deps.name}`);
  }
  const installSeconds = (performance.now() - started) / 1000;
  const kuzuPruned = !existsSync(join(under(depsRoot, workdir), 'node_modules', 'kuzu', 'kuzu-source'));
  assert.ok(kuzuPruned, "Kuzu's sources are pruned");
  for (const dev of ['typescript', 'tsx', '@biomejs/biome', 'fast-check', 'kubernetes-models'])
    assert.ok(
      !existsSync(join(under(depsRoot, workdir), 'node_modules', dev)),
      `dev dependency ${dev} not installed`,
    );

  // 2. dist/ as the build stage compiles it.
  const distCopy = runtime.instructions.find((i) => i.keyword === 'COPY' && i.args.includes('dist'));
  const build = stage(distCopy?.flags.from as string);
  const compile = build.instructions.filter((i) => i.keyword === 'RUN').at(-1)?.args as string;
  assert.equal(compile, 'node node_modules/typescript/bin/tsc -p tsconfig.build.json');
  const buildWorkdir = build.instructions.filter((i) => i.keyword === 'WORKDIR').at(-1)?.args as string;
  const buildRoot = join(root, build.name);
  run(`${compile} --outDir ${join(under(buildRoot, buildWorkdir), 'dist')}`, ROOT, hostEnv);

  // 3. The final stage's /app, from its COPY lines.
  const appDir = under(
    join(root, 'runtime'),
    runtime.instructions.find((i) => i.keyword === 'WORKDIR')?.args as string,
  );
  mkdirSync(appDir, { recursive: true });
  const stageRoots: Record<string, string> = { [deps.name]: depsRoot, [build.name]: buildRoot };
  for (const i of runtime.instructions.filter((x) => x.keyword === 'COPY')) {
    const [source, dest] = i.args.split(/\s+/) as [string, string];
    if (!i.flags.from) copyFromContext(runtime, join(root, 'runtime'), '/app', i.args);
    else if (stageRoots[i.flags.from])
      renameSync(under(stageRoots[i.flags.from] as string, source), join(appDir, dest));
    else
      assert.ok(
        existsSync(dest),
        `${dest} (from stage ${i.flags.from}) is installed here: apt-get install tini`,
      );
  }
  const [uid, gid] = (runtime.instructions.filter((i) => i.keyword === 'USER').at(-1)?.args ?? '')
    .split(':')
    .map(Number);
  const asImageUser = process.getuid?.() === 0;
  // The image's writable places, per container: /data (its volume) and /tmp (an emptyDir),
  // owned by the image's user.
  const writableDir = (name: string) => {
    const dir = join(root, name);
    mkdirSync(dir);
    if (asImageUser) chownSync(dir, uid as number, gid as number);
    return dir;
  };
  const tmp = writableDir('tmp');
  const mapPath = (dataDir: string, value: string) =>
    value.replace(/^\/data(?=\/|$)/, dataDir).replace(/^\/tmp(?=\/|$)/, tmp);

  // Each pipeline's environment as the dev overlay deploys it, pointed at this machine.
  const objects = renderOverlay('dev');
  const id = uniqueName('image');
  const topics = {
    VARSTREAM_TOPIC_VARIANTS: `${id}-variants`,
    VARSTREAM_TOPIC_EMBEDDINGS: `${id}-embeddings`,
    VARSTREAM_TOPIC_DEAD_LETTER: `${id}-dlq`,
  };
  const dataDirs = { vector: writableDir('vector-data'), graph: writableDir('graph-data') };
  const podEnv = async (workload: KubeObject, dataDir: string): Promise<NodeJS.ProcessEnv> => {
    const c = container(workload);
    const env: Record<string, string> = {};
    for (const from of c.envFrom ?? [])
      Object.assign(env, find(objects, 'ConfigMap', from.configMapRef.name).data);
    for (const v of c.env ?? []) {
      if (v.value !== undefined) env[v.name] = v.value;
      else if (v.valueFrom?.resourceFieldRef)
        env[v.name] = String(parseBytes(c.resources.limits[v.valueFrom.resourceFieldRef.resource.slice(7)]));
      else assert.fail(`${v.name}: the dev overlay uses no Secret`);
    }
    const merged: Record<string, string> = { ...stageEnv(runtime), ...env };
    for (const [k, v] of Object.entries(merged)) merged[k] = mapPath(dataDir, v);
    delete merged.OTEL_EXPORTER_OTLP_ENDPOINT; // no collector here; /metrics still serves
    return {
      PATH: hostEnv.PATH,
      HOME: appDir, // read-only to the image user, as the image's root filesystem is
      TMPDIR: tmp,
      ...merged,
      ...topics,
      KAFKA_BROKERS: ensureBroker(),
      VARSTREAM_GROUP_ID: `${id}-${merged.VARSTREAM_GROUP_ID}`,
      VARSTREAM_HTTP_PORT: String(await freePort()),
      // The lag gauge (an alert reads it) polled every second instead of every 15 s.
      VARSTREAM_LAG_INTERVAL_MS: '1000',
    };
  };
  const vectorEnv = await podEnv(find(objects, 'Deployment', 'varstream-vector'), dataDirs.vector);
  const graphEnv = await podEnv(find(objects, 'StatefulSet', 'varstream-graph'), dataDirs.graph);

  const config = loadConfig({ env: vectorEnv });
  const kafka = createKafka(config, silentLogger);
  await ensureTopics(kafka, config);

  const argv = [...execForm(runtime, 'ENTRYPOINT'), ...execForm(runtime, 'CMD')];
  assert.equal(argv[0], '/usr/bin/tini');
  const spawnAs = asImageUser ? [uid, gid] : [undefined, undefined];
  const containers = [
    startContainer('vector', argv, appDir, vectorEnv, spawnAs[0], spawnAs[1]),
    startContainer('graph', argv, appDir, graphEnv, spawnAs[0], spawnAs[1]),
  ];
  const describe = (c: Container) => `${c.name}:\n${c.errors.join('\n')}\n${c.logs.slice(-15).join('\n')}`;
  try {
    for (const c of containers) {
      // Ready, or exited (then fail at once with its logs).
      await waitFor(async () => c.child.exitCode !== null || (await get(c.port, '/readyz')).status === 200, {
        timeoutMs: 90_000,
        intervalMs: 250,
        message: `${c.name} /readyz 200`,
      });
      assert.equal(c.child.exitCode, null, `${c.name} exited before it was ready: ${describe(c)}`);
      assert.equal((await get(c.port, '/healthz')).status, 200, `${c.name} /healthz`);
      const metrics = await get(c.port, '/metrics');
      assert.equal(metrics.status, 200, `${c.name} /metrics`);
      // The budget came from the container's limit, through the downward API variable.
      const limit = /^varstream_memory_limit\{[^}]*\} (\d+)/m.exec(metrics.body)?.[1];
      assert.equal(
        Number(limit),
        Number(c === containers[0] ? vectorEnv.VARSTREAM_MEMORY_LIMIT : graphEnv.VARSTREAM_MEMORY_LIMIT),
      );
    }

    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic: topics.VARSTREAM_TOPIC_VARIANTS,
      messages: variantMessages(topics.VARSTREAM_TOPIC_VARIANTS, id, 1, VARIANTS).map((o) => o.message),
    });
    await producer.send({
      topic: topics.VARSTREAM_TOPIC_EMBEDDINGS,
      messages: embeddingMessages(topics.VARSTREAM_TOPIC_EMBEDDINGS, id, EMBEDDINGS, 1536).map(
        (o) => o.message,
      ),
    });
    await producer.disconnect();

    const groupsAndTopics: [string, string][] = [
      [vectorEnv.VARSTREAM_GROUP_ID as string, topics.VARSTREAM_TOPIC_VARIANTS],
      [vectorEnv.VARSTREAM_GROUP_ID as string, topics.VARSTREAM_TOPIC_EMBEDDINGS],
      [graphEnv.VARSTREAM_GROUP_ID as string, topics.VARSTREAM_TOPIC_VARIANTS],
    ];
    for (const [group, topic] of groupsAndTopics)
      await waitFor(async () => (await caughtUp(kafka, group, topic)).done, {
        timeoutMs: 90_000,
        intervalMs: 250,
        message: `${group} commits the end of ${topic}`,
      });

    // Every metric the shipped alerts read is served by the running pipelines.
    const alerts = find(objects, 'PrometheusRule', 'varstream').spec.groups.flatMap(
      (g: { rules: { expr: string }[] }) => g.rules,
    );
    const wanted = new Set<string>(alerts.flatMap((r: { expr: string }) => metricsIn(r.expr)));
    wanted.delete('up');
    let missing: string[] = [];
    await waitFor(
      async () => {
        const served = new Set<string>();
        for (const c of containers)
          for (const m of (await get(c.port, '/metrics')).body.matchAll(/^# TYPE (\S+)/gm))
            served.add(m[1] as string);
        missing = [...wanted].filter((m) => !served.has(m));
        return missing.length === 0;
      },
      { timeoutMs: 40_000, intervalMs: 1_000, message: 'every metric the alerts read on /metrics' },
    ).catch((error: Error) => assert.fail(`${error.message}; missing: ${missing.join(', ')}`));

    // SIGTERM to PID 1 of the container (tini), which forwards it to node.
    const signalled = performance.now();
    for (const c of containers) c.child.kill('SIGTERM');
    for (const c of containers) {
      const graceMs = Number((c.name === 'vector' ? vectorEnv : graphEnv).VARSTREAM_SHUTDOWN_GRACE_MS);
      const code = await Promise.race([c.exit, sleep(graceMs + 10_000, 'timeout', { ref: false })]);
      assert.equal(code, 0, `${c.name} exits 0 after SIGTERM: ${describe(c)}`);
      assert.ok(
        c.logs.some((l) => l.includes('"msg":"stopped"') && l.includes('"exitCode":0')),
        describe(c),
      );
      assert.deepEqual(c.errors, [], `${c.name} logged no error`);
    }
    const stopSeconds = (performance.now() - signalled) / 1000;

    const db = await lancedb.connect(String(vectorEnv.VARSTREAM_LANCEDB_URI));
    try {
      const variants = await db.openTable(config.lancedb.variantsTable);
      const embeddings = await db.openTable(config.lancedb.embeddingsTable);
      assert.equal(await variants.countRows(), VARIANTS);
      assert.equal(await embeddings.countRows(), EMBEDDING_ROWS);
      variants.close();
      embeddings.close();
    } finally {
      db.close();
    }
    const store = new KuzuStore(String(graphEnv.VARSTREAM_KUZU_PATH), 64 * 1024 * 1024);
    await store.open();
    try {
      const rows = await store.run('MATCH (v) WHERE v.key IS NOT NULL RETURN count(*) AS n');
      assert.equal(Number(rows[0]?.n), VARIANTS);
    } finally {
      await store.close();
    }
    console.log(
      `production install ${installSeconds.toFixed(1)} s; both pipelines stopped ${stopSeconds.toFixed(1)} s after SIGTERM${asImageUser ? `, as uid ${uid}` : ''}`,
    );
  } finally {
    for (const c of containers) if (c.child.exitCode === null) c.child.kill('SIGKILL');
    await Promise.all(containers.map((c) => c.exit));
    rmSync(root, { recursive: true, force: true });
  }
});
