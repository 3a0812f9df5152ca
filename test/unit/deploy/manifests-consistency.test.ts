/**
 * Proves, for each rendered overlay, that the manifests agree with the service they deploy:
 * - every environment variable they set is one varstream reads (ENV_BINDINGS, or OTEL_* read by
 *   the OpenTelemetry SDK, or AWS_* read by LanceDB's object store), every value passes the real
 *   config schema (loadConfig), secrets come only from Secrets, test-only settings never appear;
 * - probes are /healthz and /readyz on the port the health server listens on by default, and the
 *   Service and ServiceMonitor reach that port's /metrics;
 * - the memory limit and VARSTREAM_MEMORY_LIMIT (or the cgroup reading) give the same budget;
 * - terminationGracePeriodSeconds is above the app's shutdown grace period;
 * - the graph StatefulSet has exactly 1 replica, a PVC for Kuzu and nothing scales it; the vector
 *   Deployment is scaled by KEDA on its own group's lag, capped at the partition count, and only
 *   beyond one replica with LanceDB on object storage;
 * - no container runs as root or can write outside its data and temp volumes (and the pod spec
 *   meets Pod Security "restricted");
 * - the NetworkPolicies let the pods reach exactly Kafka, the OTLP collector, object storage
 *   (when used) and DNS.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, test } from 'node:test';
import { deriveBudget, RUNTIME_RESERVE } from '../../../src/backpressure/memory-budget.ts';
import { type Config, ENV_BINDINGS, loadConfig, parseBytes } from '../../../src/config/index.ts';
import {
  container,
  type DockerStage,
  execForm,
  find,
  type KubeObject,
  metricsIn,
  OVERLAYS,
  objectId,
  ROOT,
  readDockerfile,
  renderOverlay,
  stageEnv,
} from '../../helpers/deploy.ts';
import { makeTestPki } from '../../helpers/tls.ts';

const MiB = 1024 ** 2;
const KNOWN = new Map(ENV_BINDINGS.map((b) => [b.env, b]));
/** Read by the OpenTelemetry SDK and its exporters (docs/telemetry.md, "Configuration"). */
const isOtel = (name: string) => name.startsWith('OTEL_');
/** Read by LanceDB's object store (S3 and S3-compatible; deploy/README.md). */
const LANCEDB_OBJECT_STORE_ENV = new Set([
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_REGION',
  'AWS_DEFAULT_REGION',
  'AWS_ENDPOINT',
  'AWS_ALLOW_HTTP',
]);
const SECRET_ENV = new Set([
  ...ENV_BINDINGS.filter((b) => b.secret).map((b) => b.env),
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
]);
const OBJECT_STORE_URI = /^(s3|s3\+ddb|gs|az|abfs):\/\//;

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: {
    secretKeyRef?: { name: string; key: string };
    configMapKeyRef?: { name: string; key: string };
    resourceFieldRef?: { containerName?: string; resource: string };
    fieldRef?: { fieldPath: string };
  };
}

/** A workload's container environment as the kubelet would build it (ConfigMaps resolved). */
function containerEnv(objects: KubeObject[], workload: KubeObject) {
  const c = container(workload);
  const vars = new Map<string, EnvVar>();
  for (const from of c.envFrom ?? []) {
    assert.ok(!from.secretRef, `${objectId(workload)}: envFrom secretRef hides which variables it sets`);
    const cm = find(objects, 'ConfigMap', from.configMapRef.name);
    for (const [name, value] of Object.entries(cm.data ?? {}))
      vars.set(`${from.prefix ?? ''}${name}`, { name, value: String(value) });
  }
  for (const v of (c.env ?? []) as EnvVar[]) vars.set(v.name, v);
  return vars;
}

function quantityBytes(q: string | number): number {
  const bytes = parseBytes(String(q));
  assert.ok(bytes !== undefined, `not a byte quantity: ${q}`);
  return bytes;
}

function getPath(source: unknown, path: string): unknown {
  let node = source;
  for (const key of path.split('.')) node = (node as Record<string, unknown> | undefined)?.[key];
  return node;
}

/** The effective setting of `env` (by its variable name) in a loaded configuration. */
function setting(config: Config, env: string): unknown {
  const binding = KNOWN.get(env);
  assert.ok(binding, `${env} is not in ENV_BINDINGS`);
  return getPath(config, binding.path);
}

const dockerfile = readDockerfile();
const runtime = dockerfile.stages.at(-1) as DockerStage;
assert.ok(runtime, 'deploy/Dockerfile has stages');

const pki = makeTestPki(mkdtempSync(join(tmpdir(), 'varstream-deploy-pki-')));
after(() => rmSync(pki.dir, { recursive: true, force: true }));

/**
 * Loads the configuration the container would get: plain values as written, secrets as
 * placeholders, the memory limit from the container's limit, files named by KAFKA_SSL_*_FILE
 * replaced by real test files (their paths are checked against the mounts separately).
 */
function configOf(workload: KubeObject, vars: Map<string, EnvVar>, cgroupBytes?: number): Config {
  const limits = container(workload).resources?.limits ?? {};
  // The image's ENV first (deploy/Dockerfile), then the manifest's, as in the container.
  const env: Record<string, string> = Object.fromEntries(
    Object.entries(stageEnv(runtime)).filter(([name]) => KNOWN.has(name)),
  );
  for (const [name, v] of vars) {
    if (!KNOWN.has(name)) continue;
    if (v.value !== undefined) env[name] = v.value;
    else if (v.valueFrom?.secretKeyRef) env[name] = `placeholder-${v.valueFrom.secretKeyRef.key}`;
    else if (v.valueFrom?.resourceFieldRef)
      env[name] = String(quantityBytes(limits[v.valueFrom.resourceFieldRef.resource.replace('limits.', '')]));
    else assert.fail(`${name}: unsupported valueFrom ${JSON.stringify(v.valueFrom)}`);
  }
  if (env.KAFKA_SSL_CA_FILE) env.KAFKA_SSL_CA_FILE = pki.caFile;
  if (env.KAFKA_SSL_CERT_FILE) env.KAFKA_SSL_CERT_FILE = pki.clientCertFile;
  if (env.KAFKA_SSL_KEY_FILE) env.KAFKA_SSL_KEY_FILE = pki.clientPlainKeyFile;
  return loadConfig({
    env,
    readCgroup: () =>
      cgroupBytes === undefined ? undefined : { bytes: cgroupBytes, source: 'cgroup v2 memory.max' },
  });
}

/** The mount (of the container) that holds `path`, the longest prefix. */
function mountOf(workload: KubeObject, path: string) {
  const mounts = (container(workload).volumeMounts ?? []) as {
    name: string;
    mountPath: string;
    readOnly?: boolean;
  }[];
  return mounts
    .filter((m) => path === m.mountPath || path.startsWith(`${m.mountPath.replace(/\/$/, '')}/`))
    .sort((a, b) => b.mountPath.length - a.mountPath.length)[0];
}

/** The volume behind a mount: from the pod's volumes or the StatefulSet's claim templates. */
function volumeOf(workload: KubeObject, name: string): Record<string, unknown> {
  const volume = (workload.spec.template.spec.volumes ?? []).find((v: { name: string }) => v.name === name);
  if (volume) return volume;
  const claim = (workload.spec.volumeClaimTemplates ?? []).find(
    (t: { metadata: { name: string } }) => t.metadata.name === name,
  );
  assert.ok(claim, `${objectId(workload)}: no volume or claim template ${name}`);
  return { name, volumeClaimTemplate: claim };
}

function selects(selector: Record<string, string> | undefined, labels: Record<string, string>): boolean {
  return Object.entries(selector ?? {}).every(([k, v]) => labels[k] === v);
}

function brokerPorts(brokers: string[]): Set<number> {
  return new Set(brokers.map((b) => Number(b.slice(b.lastIndexOf(':') + 1))));
}

/** The Prometheus names docs/telemetry.md lists (its metrics table's last column). */
const SPEC_METRICS = new Set(
  [...readFileSync(join(ROOT, 'docs', 'telemetry.md'), 'utf8').matchAll(/\| `([a-z_]+)` \|$/gm)].map(
    (m) => m[1],
  ),
);

const SASL_FOR_KEDA: Record<string, string> = {
  plain: 'plaintext',
  'scram-sha-256': 'scram_sha256',
  'scram-sha-512': 'scram_sha512',
};

for (const overlay of OVERLAYS) {
  describe(`overlay ${overlay}`, () => {
    const objects = renderOverlay(overlay);
    const vector = find(objects, 'Deployment', 'varstream-vector');
    const graph = find(objects, 'StatefulSet', 'varstream-graph');
    const workloads = [vector, graph];
    const envs = new Map(workloads.map((w) => [w, containerEnv(objects, w)]));
    const configs = new Map(workloads.map((w) => [w, configOf(w, envs.get(w) as Map<string, EnvVar>)]));
    const cfg = (w: KubeObject) => configs.get(w) as Config;

    test('exactly the two workloads, running the image command the Dockerfile defines', () => {
      const kinds = objects.filter((o) =>
        ['Deployment', 'StatefulSet', 'DaemonSet', 'Job', 'CronJob', 'Pod'].includes(o.kind),
      );
      assert.deepEqual(kinds.map(objectId).sort(), [
        'Deployment/varstream-vector',
        'StatefulSet/varstream-graph',
      ]);
      for (const w of workloads) {
        const c = container(w);
        assert.equal(c.command, undefined, `${objectId(w)}: no command override (tini stays PID 1)`);
        assert.deepEqual(c.args, execForm(runtime, 'CMD'), `${objectId(w)}: args are the image's CMD`);
        assert.equal(w.spec.template.spec.containers.length, 1);
      }
      assert.equal(container(vector).image, container(graph).image, 'both pipelines run the same image');
    });

    test('every environment variable is one varstream (or its OpenTelemetry SDK / LanceDB) reads, and the values pass the config schema', () => {
      for (const w of workloads) {
        const vars = envs.get(w) as Map<string, EnvVar>;
        const usesObjectStore = OBJECT_STORE_URI.test(String(setting(cfg(w), 'VARSTREAM_LANCEDB_URI')));
        for (const name of vars.keys()) {
          const known =
            KNOWN.has(name) || isOtel(name) || (usesObjectStore && LANCEDB_OBJECT_STORE_ENV.has(name));
          assert.ok(known, `${objectId(w)}: ${name} is not read by varstream`);
          assert.ok(!KNOWN.get(name)?.path.startsWith('testing.'), `${objectId(w)}: test-only ${name}`);
        }
        // configOf ran loadConfig on these values: an invalid one would have thrown.
        assert.ok(cfg(w).memoryBudget, `${objectId(w)}: the configuration loads`);
      }
    });

    test('secrets are referenced from Secrets, never written in a manifest', () => {
      assert.ok(!objects.some((o) => o.kind === 'Secret'), 'the overlays ship no Secret objects');
      for (const w of workloads) {
        for (const [name, v] of envs.get(w) as Map<string, EnvVar>) {
          if (SECRET_ENV.has(name))
            assert.ok(
              v.valueFrom?.secretKeyRef && v.value === undefined,
              `${objectId(w)}: ${name} from a Secret`,
            );
        }
      }
      for (const cm of objects.filter((o) => o.kind === 'ConfigMap'))
        for (const key of Object.keys(cm.data ?? {}))
          assert.ok(
            !SECRET_ENV.has(key) && !/PASSWORD|SECRET|TOKEN/.test(key),
            `${objectId(cm)} holds ${key}`,
          );
    });

    test('TLS files are read from mounted Secret volumes, read-only', () => {
      for (const w of workloads) {
        for (const [name, v] of envs.get(w) as Map<string, EnvVar>) {
          if (!/^KAFKA_SSL_.*_FILE$/.test(name) || v.value === undefined) continue;
          const mount = mountOf(w, v.value);
          assert.ok(mount, `${objectId(w)}: ${name}=${v.value} is on no volume`);
          assert.equal(mount.readOnly, true, `${objectId(w)}: ${mount.mountPath} read-only`);
          const volume = volumeOf(w, mount.name) as { secret?: { items?: { path: string }[] } };
          assert.ok(volume.secret, `${objectId(w)}: ${name} comes from a Secret volume`);
          const file = v.value.slice(mount.mountPath.replace(/\/$/, '').length + 1);
          if (volume.secret.items)
            assert.ok(
              volume.secret.items.some((i) => i.path === file),
              `${objectId(w)}: ${file} is projected`,
            );
        }
      }
    });

    test('probes: /healthz and /readyz on the port the health server listens on by default', () => {
      const defaults = loadConfig({ env: {} });
      for (const w of workloads) {
        const c = container(w);
        const port = setting(cfg(w), 'VARSTREAM_HTTP_PORT');
        assert.equal(port, setting(defaults, 'VARSTREAM_HTTP_PORT'), 'the manifests keep the default port');
        const named = (p: string | number) =>
          typeof p === 'number' ? p : c.ports.find((x: { name: string }) => x.name === p)?.containerPort;
        assert.equal(c.livenessProbe.httpGet.path, '/healthz');
        assert.equal(c.readinessProbe.httpGet.path, '/readyz');
        assert.equal(named(c.livenessProbe.httpGet.port), port);
        assert.equal(named(c.readinessProbe.httpGet.port), port);
        // /healthz answers 503 only after VARSTREAM_HEALTH_TTL_MS without progress: the probe
        // must not give up before the app itself would report a stall.
        const { periodSeconds = 10, failureThreshold = 3, timeoutSeconds = 1 } = c.livenessProbe;
        assert.ok(periodSeconds * failureThreshold >= 10 && timeoutSeconds >= 1);
      }
    });

    test('a Service and the ServiceMonitor reach /metrics on that port of every pod', () => {
      const monitor = find(objects, 'ServiceMonitor', 'varstream');
      assert.deepEqual(
        monitor.spec.endpoints.map((e: { path: string }) => e.path),
        ['/metrics'],
      );
      for (const w of workloads) {
        const labels = w.spec.template.metadata.labels;
        const services = objects.filter((o) => o.kind === 'Service' && selects(o.spec.selector, labels));
        assert.equal(services.length, 1, `${objectId(w)}: one Service selects its pods`);
        const service = services[0] as KubeObject;
        assert.ok(
          selects(monitor.spec.selector.matchLabels, service.metadata.labels ?? {}),
          `monitor selects ${objectId(service)}`,
        );
        const servicePort = service.spec.ports.find(
          (p: { name: string }) => p.name === monitor.spec.endpoints[0].port,
        );
        assert.ok(servicePort, `${objectId(service)} has the monitored port`);
        const target = container(w).ports.find(
          (p: { name: string; containerPort: number }) =>
            p.name === servicePort.targetPort || p.containerPort === servicePort.targetPort,
        );
        assert.equal(target?.containerPort, setting(cfg(w), 'VARSTREAM_HTTP_PORT'));
        assert.equal(service.spec.publishNotReadyAddresses, true, 'scraped while not ready');
      }
    });

    test('memory: limit = request, and VARSTREAM_MEMORY_LIMIT and the cgroup reading give the same budget', () => {
      for (const w of workloads) {
        const { requests, limits } = container(w).resources;
        const limit = quantityBytes(limits.memory);
        assert.equal(quantityBytes(requests.memory), limit, `${objectId(w)}: memory request = limit`);
        const budget = cfg(w).memoryBudget;
        assert.equal(budget?.limitBytes, limit, `${objectId(w)}: budget limit = container limit`);
        assert.equal(budget?.source, 'VARSTREAM_MEMORY_LIMIT');
        // Without the variable, varstream reads the container's cgroup (memory.max = the limit).
        const vars = new Map(envs.get(w));
        vars.delete('VARSTREAM_MEMORY_LIMIT');
        const fromCgroup = configOf(w, vars, limit).memoryBudget;
        assert.deepEqual(
          { ...fromCgroup, source: undefined },
          { ...deriveBudget(limit, 'VARSTREAM_MEMORY_LIMIT'), source: undefined },
        );
        // The README's measured floor: both variant sinks in one process need 768Mi.
        const sinks = setting(cfg(w), 'VARSTREAM_VARIANT_SINKS') as string[];
        assert.ok(
          limit >= (sinks.length > 1 ? 768 : 512) * MiB,
          `${objectId(w)}: ${limits.memory} is below the floor`,
        );
        // Sizes set explicitly (they win over the derived ones) must leave the runtime its reserve
        // below the WARNING level.
        const pool = setting(cfg(w), 'VARSTREAM_KUZU_BUFFER_POOL') as number;
        if (sinks.includes('kuzu'))
          assert.ok(
            pool + RUNTIME_RESERVE < (budget?.warningBytes ?? 0),
            `${objectId(w)}: Kuzu pool ${pool / MiB} MiB + reserve does not fit under WARNING`,
          );
        // No memory-backed emptyDir: it would count against the same limit.
        for (const v of w.spec.template.spec.volumes ?? [])
          assert.notEqual(v.emptyDir?.medium, 'Memory', `${objectId(w)}: ${v.name} in memory`);
      }
    });

    test('terminationGracePeriodSeconds is above the shutdown grace period', () => {
      for (const w of workloads) {
        const graceMs = setting(cfg(w), 'VARSTREAM_SHUTDOWN_GRACE_MS') as number;
        const podSeconds = w.spec.template.spec.terminationGracePeriodSeconds as number;
        assert.ok(
          podSeconds * 1000 >= graceMs + 10_000,
          `${objectId(w)}: ${podSeconds} s leaves < 10 s beyond the app's ${graceMs} ms`,
        );
      }
    });

    test('graph pipeline: a StatefulSet of exactly 1 replica writing Kuzu on its PVC, never scaled', () => {
      assert.equal(graph.spec.replicas, 1);
      assert.deepEqual(setting(cfg(graph), 'VARSTREAM_PIPELINES'), ['variants']);
      assert.deepEqual(setting(cfg(graph), 'VARSTREAM_VARIANT_SINKS'), ['kuzu']);
      const kuzuPath = setting(cfg(graph), 'VARSTREAM_KUZU_PATH') as string;
      const mount = mountOf(graph, dirname(kuzuPath));
      assert.ok(mount && !mount.readOnly, `Kuzu's directory ${dirname(kuzuPath)} is on a writable volume`);
      const volume = volumeOf(graph, mount.name) as {
        volumeClaimTemplate?: { spec: { accessModes: string[] } };
      };
      assert.ok(volume.volumeClaimTemplate, `Kuzu's volume is a PersistentVolumeClaim template`);
      assert.deepEqual(volume.volumeClaimTemplate.spec.accessModes, ['ReadWriteOnce']);
      assert.equal(graph.spec.podManagementPolicy ?? 'OrderedReady', 'OrderedReady');
      const scalers = objects.filter(
        (o) =>
          (o.kind === 'ScaledObject' || o.kind === 'HorizontalPodAutoscaler') &&
          o.spec.scaleTargetRef?.name === graph.metadata.name,
      );
      assert.deepEqual(scalers.map(objectId), []);
    });

    test('vector pipeline: its own group, LanceDB only, scaled by KEDA on that group’s lag, capped at the partitions', () => {
      const groups = workloads.map((w) => setting(cfg(w), 'VARSTREAM_GROUP_ID'));
      assert.equal(new Set(groups).size, 2, `each pipeline has its own consumer group: ${groups}`);
      assert.deepEqual(setting(cfg(vector), 'VARSTREAM_PIPELINES'), ['variants', 'embeddings']);
      assert.deepEqual(
        setting(cfg(vector), 'VARSTREAM_VARIANT_SINKS'),
        ['lancedb'],
        'no Kuzu in a scaled workload',
      );
      assert.equal(vector.spec.replicas, undefined, 'KEDA owns the replica count');

      const scaled = objects.filter((o) => o.kind === 'ScaledObject');
      assert.equal(scaled.length, 1);
      const so = scaled[0] as KubeObject;
      assert.equal(so.spec.scaleTargetRef.name, vector.metadata.name);
      assert.equal(so.spec.scaleTargetRef.kind ?? 'Deployment', 'Deployment');
      const c = cfg(vector);
      const topics = so.spec.triggers.map((t: { metadata: { topic: string } }) => t.metadata.topic).sort();
      assert.deepEqual(
        topics,
        [setting(c, 'VARSTREAM_TOPIC_EMBEDDINGS'), setting(c, 'VARSTREAM_TOPIC_VARIANTS')].sort(),
      );
      for (const t of so.spec.triggers) {
        assert.equal(t.type, 'kafka');
        assert.equal(t.metadata.consumerGroup, setting(c, 'VARSTREAM_GROUP_ID'));
        assert.deepEqual(t.metadata.bootstrapServers.split(','), setting(c, 'KAFKA_BROKERS'));
        assert.equal(t.metadata.allowIdleConsumers, 'false', 'never more consumers than partitions');
        assert.equal(t.metadata.offsetResetPolicy, 'earliest', 'varstream subscribes from the beginning');
        assert.ok(Number(t.metadata.lagThreshold) > 0);
      }
      const partitions = setting(c, 'VARSTREAM_TOPIC_PARTITIONS') as number;
      assert.ok(so.spec.minReplicaCount >= 1 && so.spec.minReplicaCount <= so.spec.maxReplicaCount);
      assert.ok(
        so.spec.maxReplicaCount <= partitions,
        `maxReplicaCount ${so.spec.maxReplicaCount} > ${partitions} partitions`,
      );

      const uri = String(setting(c, 'VARSTREAM_LANCEDB_URI'));
      if (OBJECT_STORE_URI.test(uri)) {
        assert.equal(vector.spec.strategy.type, 'RollingUpdate');
      } else {
        // LanceDB on a ReadWriteOnce volume: one writer, replaced (not overlapped) on update.
        assert.equal(so.spec.maxReplicaCount, 1, `LanceDB at ${uri} (a local volume) allows one replica`);
        assert.equal(vector.spec.strategy.type, 'Recreate');
        const mount = mountOf(vector, uri);
        assert.ok(mount && !mount.readOnly, `${uri} is on a writable volume`);
        const volume = volumeOf(vector, mount.name) as { persistentVolumeClaim?: { claimName: string } };
        assert.ok(volume.persistentVolumeClaim, `${uri} is on a PersistentVolumeClaim`);
        find(objects, 'PersistentVolumeClaim', volume.persistentVolumeClaim.claimName);
      }
    });

    test('KEDA reads the lag with the consumers’ own Kafka security settings', () => {
      const so = find(objects, 'ScaledObject', 'varstream-vector');
      const c = cfg(vector);
      const vars = envs.get(vector) as Map<string, EnvVar>;
      const mechanism = setting(c, 'KAFKA_SASL_MECHANISM') as string | undefined;
      const tls = setting(c, 'KAFKA_SSL') as boolean;
      for (const t of so.spec.triggers) {
        assert.equal(t.metadata.tls === 'enable', tls, 'tls: enable exactly when KAFKA_SSL=true');
        assert.equal(t.metadata.sasl, mechanism ? SASL_FOR_KEDA[mechanism] : undefined);
        if (!mechanism && !tls) continue;
        const auth = find(objects, 'TriggerAuthentication', t.authenticationRef?.name);
        const refs = new Map(
          auth.spec.secretTargetRef.map((r: { parameter: string; name: string; key: string }) => [
            r.parameter,
            r,
          ]),
        );
        const sameSecret = (parameter: string, env: string) => {
          const ref = vars.get(env)?.valueFrom?.secretKeyRef;
          assert.deepEqual(
            {
              name: (refs.get(parameter) as { name: string })?.name,
              key: (refs.get(parameter) as { key: string })?.key,
            },
            { name: ref?.name, key: ref?.key },
            `KEDA's ${parameter} = ${env}`,
          );
        };
        if (mechanism) {
          sameSecret('username', 'KAFKA_SASL_USERNAME');
          sameSecret('password', 'KAFKA_SASL_PASSWORD');
        }
        const caFile = vars.get('KAFKA_SSL_CA_FILE')?.value;
        if (caFile) {
          const mount = mountOf(vector, caFile);
          const volume = volumeOf(vector, mount?.name as string) as {
            secret: { secretName: string; items?: { key: string; path: string }[] };
          };
          const key =
            volume.secret.items?.find((i) => caFile.endsWith(`/${i.path}`))?.key ?? caFile.split('/').at(-1);
          const ca = refs.get('ca') as { name: string; key: string } | undefined;
          assert.deepEqual({ name: ca?.name, key: ca?.key }, { name: volume.secret.secretName, key });
        }
      }
    });

    test('no container runs as root or writes outside its data and temp volumes (Pod Security "restricted")', () => {
      const imageUser = runtime.instructions.filter((i) => i.keyword === 'USER').at(-1)?.args;
      for (const w of workloads) {
        const pod = w.spec.template.spec;
        const c = container(w);
        const uid = c.securityContext?.runAsUser ?? pod.securityContext?.runAsUser;
        assert.equal(pod.securityContext?.runAsNonRoot ?? c.securityContext?.runAsNonRoot, true);
        assert.ok(Number.isInteger(uid) && uid > 0, `${objectId(w)}: runAsUser ${uid}`);
        assert.equal(`${uid}:${pod.securityContext?.runAsGroup}`, imageUser, 'the image user');
        assert.equal(c.securityContext.allowPrivilegeEscalation, false);
        assert.equal(c.securityContext.readOnlyRootFilesystem, true);
        assert.notEqual(c.securityContext.privileged, true);
        assert.deepEqual(c.securityContext.capabilities?.drop, ['ALL']);
        assert.equal(c.securityContext.capabilities?.add, undefined);
        const seccomp = c.securityContext.seccompProfile?.type ?? pod.securityContext?.seccompProfile?.type;
        assert.equal(seccomp, 'RuntimeDefault');
        for (const key of ['hostNetwork', 'hostPID', 'hostIPC'])
          assert.notEqual(pod[key], true, `${objectId(w)}: ${key}`);
        assert.equal(pod.automountServiceAccountToken, false);
        for (const v of pod.volumes ?? [])
          assert.equal(v.hostPath, undefined, `${objectId(w)}: hostPath ${v.name}`);

        // Writable: the directories of the stores this pod writes, and /tmp; nothing else.
        const c0 = cfg(w);
        const sinks = setting(c0, 'VARSTREAM_VARIANT_SINKS') as string[];
        const dataDirs = [
          sinks.includes('lancedb') || (setting(c0, 'VARSTREAM_PIPELINES') as string[]).includes('embeddings')
            ? String(setting(c0, 'VARSTREAM_LANCEDB_URI'))
            : '',
          sinks.includes('kuzu') ? dirname(String(setting(c0, 'VARSTREAM_KUZU_PATH'))) : '',
        ].filter((p) => p.startsWith('/'));
        const writable = (c.volumeMounts ?? []).filter((m: { readOnly?: boolean }) => !m.readOnly);
        for (const m of writable) {
          const forData = dataDirs.some((d) => d === m.mountPath || d.startsWith(`${m.mountPath}/`));
          assert.ok(
            forData || m.mountPath === '/tmp',
            `${objectId(w)}: writable ${m.mountPath} holds no data`,
          );
        }
        assert.ok(
          writable.some((m: { mountPath: string }) => m.mountPath === '/tmp'),
          `${objectId(w)}: /tmp is writable (a read-only root has none)`,
        );
      }
    });

    test('NetworkPolicies: default deny, then only DNS, Kafka, the OTLP collector and object storage', () => {
      const policies = objects.filter((o) => o.kind === 'NetworkPolicy');
      for (const w of workloads) {
        const labels = w.spec.template.metadata.labels;
        const mine = policies.filter((p) => selects(p.spec.podSelector.matchLabels, labels));
        assert.ok(
          mine.some((p) => p.spec.policyTypes.includes('Egress') && p.spec.policyTypes.includes('Ingress')),
          `${objectId(w)}: a policy isolates both directions`,
        );
        const c = cfg(w);
        const needed = new Set<number>([53, ...brokerPorts(setting(c, 'KAFKA_BROKERS') as string[])]);
        const otlp = (envs.get(w) as Map<string, EnvVar>).get('OTEL_EXPORTER_OTLP_ENDPOINT')?.value;
        if (otlp) {
          const url = new URL(otlp);
          needed.add(Number(url.port || (url.protocol === 'https:' ? 443 : 80)));
        }
        const uri = String(setting(c, 'VARSTREAM_LANCEDB_URI'));
        if (
          OBJECT_STORE_URI.test(uri) &&
          (setting(c, 'VARSTREAM_VARIANT_SINKS') as string[]).includes('lancedb')
        )
          needed.add(443);
        const allowed = new Set<number>();
        for (const p of mine) {
          for (const rule of p.spec.egress ?? []) {
            assert.ok(rule.ports?.length, `${objectId(p)}: an egress rule without ports allows every port`);
            assert.ok(rule.to?.length, `${objectId(p)}: an egress rule without peers allows every address`);
            for (const port of rule.ports) allowed.add(port.port);
          }
          for (const rule of p.spec.ingress ?? []) {
            assert.deepEqual(
              rule.ports.map((x: { port: string | number }) => x.port),
              ['http'],
              `${objectId(p)}: ingress only to the HTTP port`,
            );
          }
        }
        assert.deepEqual([...allowed].sort(), [...needed].sort(), `${objectId(w)}: egress ports`);
      }
    });

    test('alerts read only metrics the telemetry spec defines, with its label names', () => {
      assert.ok(SPEC_METRICS.size >= 15, `docs/telemetry.md lists ${SPEC_METRICS.size} metrics`);
      const rule = find(objects, 'PrometheusRule', 'varstream');
      const labels = new Set([
        'namespace',
        'pod',
        'service',
        'le',
        'messaging_consumer_group_name',
        'messaging_destination_name',
        'messaging_destination_partition_id',
        'varstream_sink_name',
        'varstream_dead_letter_code',
        'varstream_pause_reason',
        'error_type',
      ]);
      const alerts = rule.spec.groups.flatMap((g: { rules: { alert: string; expr: string }[] }) => g.rules);
      assert.ok(alerts.length >= 8);
      for (const { alert, expr } of alerts) {
        const metrics = metricsIn(expr);
        assert.ok(metrics.length > 0, `${alert}: no metric in ${expr}`);
        for (const m of metrics)
          assert.ok(m === 'up' || SPEC_METRICS.has(m), `${alert}: ${m} is not in docs/telemetry.md`);
        for (const by of expr.matchAll(/\bby \(([^)]*)\)/g))
          for (const label of (by[1] as string).split(',').map((l) => l.trim()))
            assert.ok(labels.has(label), `${alert}: unknown label ${label}`);
      }
    });

    test('a PodDisruptionBudget covers each pipeline', () => {
      for (const w of workloads) {
        const labels = w.spec.template.metadata.labels;
        const pdbs = objects.filter(
          (o) => o.kind === 'PodDisruptionBudget' && selects(o.spec.selector.matchLabels, labels),
        );
        assert.equal(pdbs.length, 1, `${objectId(w)}: one PDB`);
        assert.equal(pdbs[0]?.spec.maxUnavailable, 1);
      }
    });
  });
}
