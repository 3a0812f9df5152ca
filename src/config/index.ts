export { formatBytes, parseBytes } from '../core/units.ts';
export { ENV_BINDINGS } from './env-bindings.ts';
export { ConfigError, type ConfigOverrides, configRows, describeConfig, loadConfig } from './load.ts';
export type { Config, ConfigInput } from './schema.ts';
