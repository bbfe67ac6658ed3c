export { CONFIG_SCHEMA, loadConfig, parseConfig, validateConfig } from './config.ts';
export type { Config, Mode } from './config.ts';
export { ConfigError } from './error.ts';
export type { ConfigErrorCode } from './error.ts';
