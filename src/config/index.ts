export { ConfigError, type ConfigOverrides, describeConfig, ENV_BINDINGS, loadConfig } from './load.ts';
export type { Config, ConfigInput } from './schema.ts';
export { formatBytes, parseBytes } from './units.ts';
