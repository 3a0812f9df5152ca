export { formatBytes, parseBytes } from '../core/units.ts';
export { ConfigError, type ConfigOverrides, describeConfig, ENV_BINDINGS, loadConfig } from './load.ts';
export type { Config, ConfigInput } from './schema.ts';
