/**
 * Loads the configuration: defaults, then an optional JSON file (VARSTREAM_CONFIG), then
 * environment variables, then explicit overrides (CLI flags, tests). Validated once; an invalid
 * value fails start with an error naming the field, its environment variable and what is accepted.
 *
 * Long file: source merging (defaults, file, environment, flags), validation messages and TLS file
 * checks; the variable table is env-bindings.ts.
 */
import { createPrivateKey, type KeyObject, X509Certificate } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import {
  deriveBudget,
  type LimitSource,
  type MemoryBudget,
  resolveLimit,
} from '../backpressure/memory-budget.ts';
import { unknownFileKeys, unknownVariables } from './check.ts';
import { ENV_BINDINGS } from './env-bindings.ts';
import { type Config, type ConfigInput, configSchema, SASL_MECHANISMS } from './schema.ts';

export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

/** Explicit settings (CLI flags, tests): any subset of any section. */
export type ConfigOverrides = {
  [K in keyof ConfigInput]?: ConfigInput[K] extends object ? Partial<ConfigInput[K]> : ConfigInput[K];
};

export interface LoadOptions {
  env?: NodeJS.ProcessEnv;
  overrides?: ConfigOverrides;
  /** Replaces the cgroup reading (tests). */
  readCgroup?: () => { bytes: number; source: LimitSource } | undefined;
}

/** Where a field's value came from (`varstream config`). */
export type ConfigSource = 'default' | 'derived' | 'file' | `env ${string}` | 'flag';

export function loadConfig(options: LoadOptions = {}): Config {
  const env = options.env ?? process.env;
  const raw: Record<string, unknown> = emptySections();
  const sources = new Map<string, ConfigSource>();
  const warnings = unknownVariables(env);
  const file = env.VARSTREAM_CONFIG;
  if (file) {
    const content = readConfigFile(file);
    rejectSecretsInFile(file, content);
    const fields = ENV_BINDINGS.map((b) => b.path);
    warnings.push(...unknownFileKeys(file, content, fields));
    for (const path of fields) if (getPath(content, path) !== undefined) sources.set(path, 'file');
    deepMerge(raw, content);
  }
  // The local broker's port (`npm run kafka:up`, scripts/kafka/kafka.sh): without KAFKA_BROKERS,
  // every command connects where that broker listens.
  const port = env.KAFKA_PORT;
  if (port !== undefined && port !== '' && !env.KAFKA_BROKERS) {
    if (!/^\d{1,5}$/.test(port) || Number(port) < 1 || Number(port) > 65_535)
      throw new ConfigError([
        `KAFKA_PORT = ${JSON.stringify(port)}: expected a port number between 1 and 65535`,
      ]);
    setPath(raw, 'kafka.brokers', `127.0.0.1:${port}`);
    sources.set('kafka.brokers', 'env KAFKA_PORT');
  }
  for (const binding of ENV_BINDINGS) {
    const value = env[binding.env];
    if (value !== undefined && value !== '') {
      setPath(raw, binding.path, value);
      sources.set(binding.path, `env ${binding.env}`);
    }
  }
  if (options.overrides) {
    for (const { path } of ENV_BINDINGS)
      if (getPath(options.overrides as Record<string, unknown>, path) !== undefined)
        sources.set(path, 'flag');
    deepMerge(raw, options.overrides as Record<string, unknown>);
  }
  const result = configSchema.safeParse(raw);
  if (!result.success) {
    throw new ConfigError(result.error.issues.map((issue) => describeIssue(issue, raw)));
  }
  const security = kafkaSecurityProblems(result.data);
  if (security.length > 0) throw new ConfigError(security);
  const config = applyMemoryBudget(result.data, raw, options.readCgroup);
  for (const path of Object.keys(DERIVED_FIELDS)) if (!sources.has(path)) sources.set(path, 'derived');
  for (const { path } of ENV_BINDINGS) if (!sources.has(path)) sources.set(path, 'default');
  return { ...config, warnings, sources: Object.fromEntries(sources) };
}

/** Sizes derived from the memory limit, for the fields no source set explicitly. */
export const DERIVED_FIELDS = {
  'kafka.fetchMaxBytes': 'fetchMaxBytes',
  'kafka.fetchMaxBytesPerPartition': 'fetchMaxBytesPerPartition',
  'batch.maxBytes': 'batchMaxBytes',
  'batch.maxInFlight': 'maxInFlight',
  'kuzu.bufferPoolBytes': 'kuzuBufferPoolBytes',
  'lancedb.indexCacheBytes': 'lancedbIndexCacheBytes',
  'lancedb.metadataCacheBytes': 'lancedbMetadataCacheBytes',
} as const satisfies Record<string, keyof MemoryBudget>;

function applyMemoryBudget(
  config: Config,
  raw: Record<string, unknown>,
  readCgroup?: LoadOptions['readCgroup'],
): Config {
  const limit = resolveLimit(config.memory.limitBytes, readCgroup);
  const budget = deriveBudget(limit.bytes, limit.source);
  for (const [path, key] of Object.entries(DERIVED_FIELDS)) {
    if (getPath(raw, path) === undefined)
      setPath(config as unknown as Record<string, unknown>, path, budget[key]);
  }
  return { ...config, memoryBudget: budget };
}

/**
 * The effective configuration, one row per field, secrets redacted, with its variable and where
 * its value came from (`varstream config`).
 */
export function configRows(config: Config): { field: string; env: string; value: unknown; source: string }[] {
  const flat = describeConfig(config);
  return ENV_BINDINGS.map((b) => ({
    field: b.path,
    env: b.env,
    value: flat[b.path],
    source: config.sources?.[b.path] ?? 'default',
  }));
}

/** The effective configuration as a flat list for the start-up log, secrets redacted. */
export function describeConfig(config: Config): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const binding of ENV_BINDINGS) {
    const value = getPath(config as unknown as Record<string, unknown>, binding.path);
    out[binding.path] = binding.secret && value !== undefined ? '<redacted>' : value;
  }
  return out;
}

function describeIssue(
  issue: { path: PropertyKey[]; message: string },
  raw: Record<string, unknown>,
): string {
  const path = issue.path.filter((p) => typeof p === 'string').join('.');
  return describeField(path, getPath(raw, path), issue.message);
}

/** `field (env VAR) = value: message`, a secret's value never shown. */
function describeField(path: string, value: unknown, message: string): string {
  const binding = ENV_BINDINGS.find((b) => b.path === path);
  const shown = value === undefined ? '' : binding?.secret ? ' = <redacted>' : ` = ${JSON.stringify(value)}`;
  const via = binding ? ` (env ${binding.env})` : '';
  return `${path}${via}${shown}: ${message}`;
}

function envOf(path: string): string {
  return ENV_BINDINGS.find((b) => b.path === path)?.env ?? path;
}

/** Passwords come from the environment only, never from a configuration file. */
function rejectSecretsInFile(file: string, content: Record<string, unknown>): void {
  const problems = ENV_BINDINGS.filter((b) => b.secret && getPath(content, b.path) !== undefined).map(
    (b) =>
      `${b.path} in VARSTREAM_CONFIG = ${JSON.stringify(file)}: secrets are read from the environment only; set ${b.env} instead`,
  );
  if (problems.length > 0) throw new ConfigError(problems);
}

/**
 * The rules between the Kafka TLS and SASL settings, then (TLS on) the files they name. Each
 * problem names the field, its environment variable and what is expected.
 */
function kafkaSecurityProblems(config: Config): string[] {
  const { ssl, sasl } = config.kafka;
  const problems: string[] = [];
  const at = (path: string, message: string) =>
    problems.push(describeField(path, getPath(config as unknown as Record<string, unknown>, path), message));
  const tlsOn = `only used with TLS: set ${envOf('kafka.ssl.enabled')}=true`;
  if (!ssl.enabled) {
    for (const field of ['caFile', 'certFile', 'keyFile', 'keyPassword', 'servername'] as const) {
      if (ssl[field] !== undefined) at(`kafka.ssl.${field}`, tlsOn);
    }
    if (!ssl.rejectUnauthorized) at('kafka.ssl.rejectUnauthorized', tlsOn);
  } else {
    if (ssl.certFile !== undefined && ssl.keyFile === undefined)
      at(
        'kafka.ssl.keyFile',
        `required with ${envOf('kafka.ssl.certFile')}: the client certificate's private key (PEM)`,
      );
    if (ssl.keyFile !== undefined && ssl.certFile === undefined)
      at(
        'kafka.ssl.certFile',
        `required with ${envOf('kafka.ssl.keyFile')}: the client certificate of that key (PEM)`,
      );
    if (ssl.keyPassword !== undefined && ssl.keyFile === undefined)
      at(
        'kafka.ssl.keyPassword',
        `only used with ${envOf('kafka.ssl.keyFile')} (the passphrase of that key)`,
      );
  }
  if (sasl.mechanism !== undefined) {
    for (const field of ['username', 'password'] as const) {
      if (sasl[field] === undefined)
        at(`kafka.sasl.${field}`, `required with ${envOf('kafka.sasl.mechanism')}=${sasl.mechanism}`);
    }
  } else if (sasl.username !== undefined || sasl.password !== undefined) {
    at(
      'kafka.sasl.mechanism',
      `required with ${envOf('kafka.sasl.username')} and ${envOf('kafka.sasl.password')}: expected one of: ${SASL_MECHANISMS.join(', ')}`,
    );
  }
  if (ssl.enabled) readTlsFiles(config, at);
  return problems;
}

/** The PEM text of the files `kafka.ssl` names, for the TLS options of the Kafka client. */
export interface KafkaTlsFiles {
  ca?: string;
  cert?: string;
  key?: string;
}

/**
 * Reads the files `kafka.ssl` names and checks them: readable, PEM of the right kind, an encrypted
 * key opens with `kafka.ssl.keyPassword`, the certificate belongs to the key and has not expired.
 * Throws a ConfigError naming the field and its environment variable.
 */
export function readKafkaTls(config: Config): KafkaTlsFiles {
  const problems: string[] = [];
  const files = readTlsFiles(config, (path, message) =>
    problems.push(describeField(path, getPath(config as unknown as Record<string, unknown>, path), message)),
  );
  if (problems.length > 0) throw new ConfigError(problems);
  return files;
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

function readTlsFiles(config: Config, at: (path: string, message: string) => void): KafkaTlsFiles {
  const { ssl } = config.kafka;
  const files: KafkaTlsFiles = {};
  const read = (field: 'caFile' | 'certFile' | 'keyFile'): string | undefined => {
    const file = ssl[field];
    if (file === undefined) return undefined;
    try {
      if (!statSync(file).isFile()) {
        at(`kafka.ssl.${field}`, 'cannot read the file: not a regular file');
        return undefined;
      }
      return readFileSync(file, 'utf8');
    } catch (error) {
      at(`kafka.ssl.${field}`, `cannot read the file: ${(error as Error).message}`);
      return undefined;
    }
  };
  const certificates = (text: string): X509Certificate[] | undefined => {
    try {
      const blocks = text.match(PEM_CERTIFICATE) ?? [];
      return blocks.length > 0 ? blocks.map((block) => new X509Certificate(block)) : undefined;
    } catch {
      return undefined;
    }
  };

  const ca = read('caFile');
  if (ca !== undefined) {
    if (certificates(ca)) files.ca = ca;
    else at('kafka.ssl.caFile', 'expected PEM CA certificates (-----BEGIN CERTIFICATE-----)');
  }
  const cert = read('certFile');
  let leaf: X509Certificate | undefined;
  if (cert !== undefined) {
    leaf = certificates(cert)?.[0];
    if (!leaf) at('kafka.ssl.certFile', 'expected a PEM certificate (-----BEGIN CERTIFICATE-----)');
    else if (Date.parse(leaf.validTo) < Date.now())
      at('kafka.ssl.certFile', `the certificate expired on ${leaf.validTo}`);
    else files.cert = cert;
  }
  const key = read('keyFile');
  if (key !== undefined) {
    const encrypted = /-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: 4,ENCRYPTED/.test(key);
    let keyObject: KeyObject | undefined;
    if (encrypted && ssl.keyPassword === undefined) {
      at(
        'kafka.ssl.keyFile',
        `the key is encrypted: set its passphrase in ${envOf('kafka.ssl.keyPassword')}`,
      );
    } else {
      try {
        keyObject = createPrivateKey({ key, format: 'pem', passphrase: ssl.keyPassword });
      } catch (error) {
        if (encrypted)
          at(
            'kafka.ssl.keyPassword',
            `does not decrypt the key in ${envOf('kafka.ssl.keyFile')} (wrong passphrase?)`,
          );
        else
          at(
            'kafka.ssl.keyFile',
            `expected a PEM private key (-----BEGIN PRIVATE KEY-----, RSA or EC): ${(error as Error).message}`,
          );
      }
    }
    if (keyObject) {
      if (leaf && !leaf.checkPrivateKey(keyObject))
        at(
          'kafka.ssl.certFile',
          `the certificate does not belong to the key in ${envOf('kafka.ssl.keyFile')}`,
        );
      else files.key = key;
    }
  }
  return files;
}

function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError([
      `VARSTREAM_CONFIG = ${JSON.stringify(file)}: cannot read: ${(error as Error).message}`,
    ]);
  }
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
      throw new Error('not a JSON object');
    return parsed as Record<string, unknown>;
  } catch (error) {
    throw new ConfigError([`VARSTREAM_CONFIG = ${JSON.stringify(file)}: ${(error as Error).message}`]);
  }
}

function emptySections(): Record<string, unknown> {
  return {
    kafka: {},
    topics: {},
    variants: {},
    embeddings: {},
    lancedb: {},
    kuzu: {},
    batch: {},
    sink: {},
    memory: {},
    telemetry: {},
    testing: {},
  };
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let node = target;
  for (const key of keys.slice(0, -1)) {
    if (typeof node[key] !== 'object' || node[key] === null) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[keys[keys.length - 1] as string] = value;
}

function getPath(source: Record<string, unknown>, path: string): unknown {
  let node: unknown = source;
  for (const key of path.split('.')) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

function deepMerge(target: Record<string, unknown>, source: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(source)) {
    const existing = target[key];
    if (isPlainObject(value) && isPlainObject(existing)) deepMerge(existing, value);
    else if (value !== undefined) target[key] = value;
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
