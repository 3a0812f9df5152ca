/**
 * Proves: every manifest each overlay renders (kustomize build deploy/kubernetes/overlays/*) is a
 * valid Kubernetes object for the schemas of its kind: the Kubernetes API's own (kubernetes-models),
 * KEDA's CRDs (@kubernetes-models/keda) and prometheus-operator's (@kubernetes-models/prometheus-operator).
 * Two checks per object: the JSON Schema validators (types, enums, formats, required fields) and a
 * strict field check (an unknown field anywhere fails, as kubectl's --validate=strict would). Each
 * check is first shown to reject a broken manifest.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  find,
  type KubeObject,
  OVERLAYS,
  objectId,
  renderOverlay,
  schemaProblems,
  unknownFieldProblems,
} from '../../helpers/deploy.ts';

/** Every kind the overlays may render; a new kind must be added here (and have a schema). */
const EXPECTED_KINDS = new Set([
  'v1/Namespace',
  'v1/ServiceAccount',
  'v1/ConfigMap',
  'v1/Service',
  'v1/PersistentVolumeClaim',
  'apps/v1/Deployment',
  'apps/v1/StatefulSet',
  'policy/v1/PodDisruptionBudget',
  'networking.k8s.io/v1/NetworkPolicy',
  'keda.sh/v1alpha1/ScaledObject',
  'keda.sh/v1alpha1/TriggerAuthentication',
  'monitoring.coreos.com/v1/ServiceMonitor',
  'monitoring.coreos.com/v1/PrometheusRule',
]);

const rendered = new Map(OVERLAYS.map((overlay) => [overlay, renderOverlay(overlay)]));

test('the validators reject a broken manifest (so a pass below means something)', async () => {
  const objects = structuredClone(rendered.get('prod') as KubeObject[]);
  const deployment = find(objects, 'Deployment', 'varstream-vector');
  deployment.spec.template.spec.containers[0].imagePullPolicy = 'Sometimes';
  deployment.spec.template.spec.containers[0].livenessProbe.httpGet.pth = '/healthz';
  const scaledObject = find(objects, 'ScaledObject', 'varstream-vector');
  scaledObject.spec.maxReplicaCount = '12';
  scaledObject.spec.triggers[0].authRef = scaledObject.spec.triggers[0].authenticationRef;
  const serviceMonitor = find(objects, 'ServiceMonitor', 'varstream');
  serviceMonitor.spec.endpoints[0].scheme = 'tcp';

  assert.match(
    (await schemaProblems(deployment)).join('\n'),
    /imagePullPolicy must be equal to one of the allowed values/,
  );
  assert.match((await schemaProblems(scaledObject)).join('\n'), /maxReplicaCount must be integer/);
  assert.match((await schemaProblems(serviceMonitor)).join('\n'), /scheme/);

  const unknown = unknownFieldProblems(objects, 'negative-control');
  assert.match(String(unknown.get('Deployment/varstream-vector')), /'"pth"' does not exist/);
  assert.match(String(unknown.get('ScaledObject/varstream-vector')), /'"authRef"' does not exist/);
});

for (const [overlay, objects] of rendered) {
  describe(`overlay ${overlay}`, () => {
    test('renders only the expected kinds, each once per name', () => {
      const kinds = new Set(objects.map((o) => `${o.apiVersion}/${o.kind}`));
      for (const kind of kinds) assert.ok(EXPECTED_KINDS.has(kind), `unexpected kind ${kind}`);
      const ids = objects.map(objectId);
      assert.equal(new Set(ids).size, ids.length, `duplicates in ${ids.join(', ')}`);
      for (const kind of [
        'Deployment',
        'StatefulSet',
        'ScaledObject',
        'ServiceMonitor',
        'PrometheusRule',
        'NetworkPolicy',
      ])
        assert.ok(
          objects.some((o) => o.kind === kind),
          `${overlay} renders no ${kind}`,
        );
    });

    test('every object validates against its schema (Kubernetes, KEDA, prometheus-operator)', async () => {
      const problems: string[] = [];
      for (const o of objects) {
        for (const p of await schemaProblems(o)) problems.push(`${objectId(o)}: ${p}`);
      }
      assert.deepEqual(problems, []);
    });

    test('no object has a field its schema does not know', () => {
      const problems = unknownFieldProblems(objects, overlay);
      assert.deepEqual(Object.fromEntries(problems), {});
    });

    test('every namespaced object lands in the overlay namespace, which the overlay creates', () => {
      const namespace = objects.find((o) => o.kind === 'Namespace');
      assert.ok(namespace, 'the overlay creates its namespace');
      for (const o of objects.filter((x) => x.kind !== 'Namespace'))
        assert.equal(o.metadata.namespace, namespace.metadata.name, objectId(o));
    });
  });
}
