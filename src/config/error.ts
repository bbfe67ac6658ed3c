import { BaseError } from '../error.ts';

export type ConfigErrorCode = 'CONFIG_INVALID' | 'CONFIG_UNREADABLE';

/** A configuration that cannot be used: refused at start-up, naming the field and the reason. */
export class ConfigError extends BaseError<ConfigErrorCode> {}
