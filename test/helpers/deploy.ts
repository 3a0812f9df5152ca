/**
 * Fixtures of the deployment tests: render the kustomize overlays (deploy/kubernetes), find the
 * tools (kustomize, hadolint), validate objects with the kubernetes-models packages, and read
 * deploy/Dockerfile into stages.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const KUSTOMIZE_DIR = join(ROOT, 'deploy', 'kubernetes');
export const OVERLAYS = ['dev', 'prod'] as const;
export type Overlay = (typeof OVERLAYS)[number];
/** Where .ci/run installs the tools that are not on the machine (git-ignored). */
export const TOOLS_DIR = join(ROOT, '.cache', 'tools');

export type KubeObject = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  // biome-ignore lint/suspicious/noExplicitAny: rendered YAML is untyped until validated
  [key: string]: any;
};

function onPath(command: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    const candidate = join(dir, command);
    if (dir && existsSync(candidate)) return candidate;
  }
  return undefined;
}

/**
 * The kustomize to render with: $KUSTOMIZE, the one .ci/run installs (.cache/tools/bin), one on
 * PATH, else kubectl's built-in `kubectl kustomize`.
 */
export function kustomizeCommand(): { command: string; args: string[] } {
  const pinned = process.env.KUSTOMIZE ?? join(TOOLS_DIR, 'bin', 'kustomize');
  if (existsSync(pinned)) return { command: pinned, args: ['build'] };
  const standalone = onPath('kustomize');
  if (standalone) return { command: standalone, args: ['build'] };
  const kubectl = onPath('kubectl');
  if (kubectl) return { command: kubectl, args: ['kustomize'] };
  throw new Error(
    'no kustomize: install it with `GOBIN=$PWD/.cache/tools/bin go install sigs.k8s.io/kustomize/kustomize/v5@v5.8.0` (.ci/run does when neither kustomize nor kubectl is present)',
  );
}

/** Renders a kustomization directory and parses every document. */
export function renderDir(dir: string): KubeObject[] {
  const { command, args } = kustomizeCommand();
  const result = spawnSync(command, [...args, dir], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (result.status !== 0)
    throw new Error(`${command} ${args.join(' ')} ${dir} failed (${result.status}): ${result.stderr}`);
  return parseYamlDocuments(result.stdout, dir);
}

export function renderOverlay(overlay: Overlay): KubeObject[] {
  return renderDir(join(KUSTOMIZE_DIR, 'overlays', overlay));
}

export function parseYamlDocuments(text: string, source: string): KubeObject[] {
  const objects: KubeObject[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) throw new Error(`${source}: ${doc.errors.map((e) => e.message).join('; ')}`);
    const value = doc.toJS() as KubeObject | null;
    if (value !== null) objects.push(value);
  }
  return objects;
}

export function objectId(o: KubeObject): string {
  return `${o.kind}/${o.metadata?.name}`;
}

export function find(objects: KubeObject[], kind: string, name: string): KubeObject {
  const found = objects.find((o) => o.kind === kind && o.metadata?.name === name);
  if (!found) throw new Error(`no ${kind}/${name} among ${objects.map(objectId).join(', ')}`);
  return found;
}

/** The package of kubernetes-models that holds an apiVersion's models. */
export function modelPackage(apiVersion: string): string {
  const group = apiVersion.includes('/') ? apiVersion.split('/')[0] : '';
  if (group === 'keda.sh') return '@kubernetes-models/keda';
  if (group === 'monitoring.coreos.com') return '@kubernetes-models/prometheus-operator';
  return 'kubernetes-models';
}

/** The module of a kind's model, e.g. kubernetes-models/apps/v1/Deployment. */
export function modelModule(o: { apiVersion: string; kind: string }): string {
  return `${modelPackage(o.apiVersion)}/${o.apiVersion}/${o.kind}`;
}

/**
 * Validates an object against its kind's schema (kubernetes-models' compiled JSON Schema
 * validators: types, enums, formats, required fields). Returns the problems, [] when valid.
 */
export async function schemaProblems(o: KubeObject): Promise<string[]> {
  let Model: new (data: unknown) => { validate(): void };
  try {
    const module = (await import(modelModule(o))) as Record<string, typeof Model>;
    Model = module[o.kind] as typeof Model;
    if (typeof Model !== 'function') throw new Error(`${modelModule(o)} exports no ${o.kind}`);
  } catch (error) {
    return [`no schema for ${o.apiVersion} ${o.kind}: ${(error as Error).message}`];
  }
  try {
    new Model(o).validate();
    return [];
  } catch (error) {
    const errors = (error as { errors?: { instancePath: string; message?: string }[] }).errors;
    return errors?.map((e) => `${e.instancePath || '/'} ${e.message}`) ?? [(error as Error).message];
  }
}

/**
 * Strict field check: the API server (kubectl's default --validate=strict) refuses fields its
 * schema does not know, and the schema validators above ignore them. The models' TypeScript types
 * list every field, so each object is written as a typed object literal and compiled: an
 * unknown field anywhere is TypeScript's excess-property error. Returns problems per object id.
 */
export function unknownFieldProblems(objects: KubeObject[], label: string): Map<string, string[]> {
  const dir = join(ROOT, '.cache', 'deploy-typecheck');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${label}.ts`);
  const lines: string[] = [];
  const starts: { line: number; id: string }[] = [];
  const imports = new Map<string, string>();
  objects.forEach((o, i) => {
    const alias = `T${i}`;
    imports.set(alias, `import type { I${o.kind} as ${alias} } from '${modelModule(o)}';`);
  });
  lines.push(...imports.values(), '');
  objects.forEach((o, i) => {
    const statement = `export const o${i}: T${i} = ${JSON.stringify(o, null, 2)};`;
    starts.push({ line: lines.length + 1, id: objectId(o) });
    lines.push(...statement.split('\n'), '');
  });
  writeFileSync(file, lines.join('\n'));
  const project = join(dir, `${label}.tsconfig.json`);
  writeFileSync(
    project,
    JSON.stringify({
      compilerOptions: {
        strict: true,
        noEmit: true,
        skipLibCheck: true,
        target: 'es2023',
        module: 'nodenext',
        moduleResolution: 'nodenext',
        types: [],
      },
      files: [`${label}.ts`],
    }),
  );
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const result = spawnSync(process.execPath, [tsc, '-p', project, '--pretty', 'false'], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  const problems = new Map<string, string[]>();
  const output = `${result.stdout}${result.stderr}`;
  for (const line of output.split('\n')) {
    const match =
      /\.ts[:(](\d+)[,:](\d+)\)?:? - error (TS\d+): (.*)$|\.ts\((\d+),(\d+)\): error (TS\d+): (.*)$/.exec(
        line,
      );
    if (!match) continue;
    const lineNo = Number(match[1] ?? match[5]);
    const message = `${match[3] ?? match[7]}: ${match[4] ?? match[8]}`;
    const owner = [...starts].reverse().find((s) => s.line <= lineNo);
    const id = owner?.id ?? 'imports';
    problems.set(id, [...(problems.get(id) ?? []), `line ${lineNo - (owner?.line ?? 0)}: ${message}`]);
  }
  if (result.status !== 0 && problems.size === 0)
    problems.set('tsc', [`tsc exited ${result.status}: ${output.slice(0, 2000)}`]);
  rmSync(file, { force: true });
  rmSync(project, { force: true });
  return problems;
}

/** A container of a workload (Deployment or StatefulSet) by name. */
export function container(workload: KubeObject, name = 'varstream') {
  const found = workload.spec.template.spec.containers.find((c: { name: string }) => c.name === name);
  if (!found) throw new Error(`${objectId(workload)} has no container ${name}`);
  return found;
}

// ---- Dockerfile -------------------------------------------------------------------------------

export interface DockerInstruction {
  keyword: string;
  /** Flags such as --from=build or --mount=type=cache,target=/root/.npm. */
  flags: Record<string, string>;
  /** The rest of the instruction, continuation lines joined. */
  args: string;
}

export interface DockerStage {
  name: string;
  from: string;
  instructions: DockerInstruction[];
}

/** Splits a Dockerfile into stages (enough of the syntax for deploy/Dockerfile). */
export function parseDockerfile(text: string): { args: Record<string, string>; stages: DockerStage[] } {
  const logical: string[] = [];
  let pending = '';
  for (const raw of text.split('\n')) {
    const line = raw.trimEnd();
    if (/^\s*#/.test(line) || (line.trim() === '' && pending === '')) continue;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1)} `;
      continue;
    }
    logical.push((pending + line).trim());
    pending = '';
  }
  const globalArgs: Record<string, string> = {};
  const stages: DockerStage[] = [];
  for (const line of logical) {
    const keyword = (line.split(/\s+/, 1)[0] as string).toUpperCase();
    let rest = line.slice(keyword.length).trim();
    const flags: Record<string, string> = {};
    for (let m = /^--([a-z-]+)=(\S+)\s+/.exec(rest); m; m = /^--([a-z-]+)=(\S+)\s+/.exec(rest)) {
      flags[m[1] as string] = m[2] as string;
      rest = rest.slice(m[0].length);
    }
    if (keyword === 'ARG' && stages.length === 0) {
      const [key, value] = rest.split('=', 2);
      globalArgs[key as string] = value ?? '';
      continue;
    }
    if (keyword === 'FROM') {
      const expanded = rest.replace(/\$\{(\w+)\}|\$(\w+)/g, (_, a, b) => globalArgs[a ?? b] ?? '');
      const [image, as, name] = expanded.split(/\s+/);
      stages.push({
        name: as?.toUpperCase() === 'AS' && name ? name : String(stages.length),
        from: image as string,
        instructions: [],
      });
      continue;
    }
    const stage = stages[stages.length - 1];
    if (!stage) throw new Error(`Dockerfile: ${keyword} before FROM`);
    stage.instructions.push({ keyword, flags, args: rest });
  }
  return { args: globalArgs, stages };
}

export function readDockerfile() {
  return parseDockerfile(readFileSync(join(ROOT, 'deploy', 'Dockerfile'), 'utf8'));
}

/** ENV instructions of a stage as a map (KEY=value pairs; values without spaces or quoted). */
export function stageEnv(stage: DockerStage): Record<string, string> {
  const env: Record<string, string> = {};
  for (const i of stage.instructions.filter((x) => x.keyword === 'ENV')) {
    for (const m of i.args.matchAll(/(\w+)=("([^"]*)"|\S+)/g)) env[m[1] as string] = m[3] ?? (m[2] as string);
  }
  return env;
}

/** The JSON (exec) form of ENTRYPOINT or CMD. */
export function execForm(stage: DockerStage, keyword: 'ENTRYPOINT' | 'CMD'): string[] {
  const found = stage.instructions.filter((i) => i.keyword === keyword).at(-1);
  if (!found) return [];
  const parsed: unknown = JSON.parse(found.args);
  if (!Array.isArray(parsed) || !parsed.every((a) => typeof a === 'string'))
    throw new Error(`${keyword} is not in exec (JSON array) form: ${found.args}`);
  return parsed;
}

/** hadolint: $HADOLINT, the one .ci/run installs (.cache/tools/hadolint/bin), or one on PATH. */
export function hadolintPath(): string | undefined {
  const pinned = process.env.HADOLINT ?? join(TOOLS_DIR, 'hadolint', 'bin', 'hadolint');
  return existsSync(pinned) ? pinned : onPath('hadolint');
}

/** Whether .dockerignore lets `path` (relative to the context) into the build context. */
export function inBuildContext(path: string): boolean {
  const rules = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const clean = path.replace(/^\.\//, '').replace(/\/$/, '');
  let included = true;
  for (const rule of rules) {
    const negated = rule.startsWith('!');
    const pattern = (negated ? rule.slice(1) : rule).replace(/\/$/, '');
    const regex = new RegExp(
      `^${pattern
        .split('*')
        .map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
        .join('[^/]*')}(/.*)?$`,
    );
    if (regex.test(clean)) included = negated;
  }
  return included;
}

/** The metric names a PromQL expression reads (histogram series by their metric's name). */
export function metricsIn(expr: string): string[] {
  const bare = expr.replace(/\b(by|without)\s*\([^)]*\)/g, ' ').replace(/\{[^}]*\}/g, ' ');
  const names = [...bare.matchAll(/\b((?:varstream|messaging|process)_[a-z_]+|up)\b/g)].map((m) =>
    (m[1] as string).replace(/_(bucket|count|sum)$/, ''),
  );
  return [...new Set(names)];
}
