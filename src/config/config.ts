// provgate's configuration: one YAML file, parsed safely, validated against
// schema.json (which ships with the project and documents every field), with
// defaults filled in. An invalid file is refused naming the field and why.
import { readFileSync } from 'node:fs';
import { Ajv2020, type ErrorObject } from 'ajv/dist/2020.js';
import { parseDocument } from 'yaml';
import { ConfigError } from './error.ts';
import schema from './schema.json' with { type: 'json' };

export type Mode = 'enforce' | 'warn' | 'audit';

export interface Config {
  server: {
    host: string;
    port: number;
    tls?: { certFile: string; keyFile: string; clientCaFile?: string };
    deadlineMs: number;
    headersTimeoutMs: number;
    keepAliveTimeoutMs: number;
    shutdownGraceMs: number;
  };
  limits: {
    bodyBytes: number;
    jsonDepth: number;
    attestationsPerRequest: number;
    uploadBytes: number;
  };
  trust: {
    trustedRoots: string[];
    includeEmbedded: boolean;
    keys: { keyId: string; path: string }[];
    npmKeys?: string[];
  };
  policy: {
    bundle?: string;
    params: Record<string, unknown>;
    signingKeys: {
      keyId: string;
      path: string;
      algorithm:
        | 'ES256'
        | 'ES384'
        | 'ES512'
        | 'RS256'
        | 'RS384'
        | 'RS512'
        | 'PS256'
        | 'PS384'
        | 'PS512'
        | 'EdDSA';
    }[];
    watch: boolean;
    evaluationBudgetMs: number;
  };
  cache: { maxEntries: number; ttlSeconds: number };
  decisionLog: { enabled: boolean; input: 'full' | 'digest' | 'none'; mask: string[] };
  endpoints: {
    admit: { enabled: boolean; mode: Mode };
    upload: {
      enabled: boolean;
      mode: Mode;
      statusStyle: 'decision' | 'http';
      tokens: string[];
      tokensFile?: string;
      requireClientCertificate: boolean;
    };
    kubernetes: {
      enabled: boolean;
      mode: Mode;
      exemptNamespaces: string[];
      namespaceModes: Record<string, Mode>;
      attestationStore?: string;
      mutate: boolean;
    };
  };
  discovery: {
    registry: {
      enabled: boolean;
      allowedRegistries: string[];
      insecureRegistries: string[];
      dockerConfig?: string;
      registries: Record<string, { caFile?: string; mirror?: string }>;
      requestTimeoutMs: number;
      retries: number;
      tagTtlSeconds: number;
      referrersTtlSeconds: number;
    };
  };
  verification: { workers: number };
  logging: { level: 'error' | 'warn' | 'info' | 'debug' };
}

export const CONFIG_SCHEMA: object = schema;

const MAX_CONFIG_BYTES = 1024 * 1024;

const ajv = new Ajv2020({
  allErrors: true,
  useDefaults: true,
  strict: true,
  allowUnionTypes: true,
});
const validate = ajv.compile<Config>(schema);

/** Parses and validates configuration text (YAML or JSON). Pure: no file access. */
export function parseConfig(text: string, source = 'configuration'): Config {
  if (Buffer.byteLength(text, 'utf8') > MAX_CONFIG_BYTES) {
    throw new ConfigError('CONFIG_INVALID', `${source} is larger than ${MAX_CONFIG_BYTES} bytes`);
  }
  // The core schema: plain YAML 1.2 data; aliases bounded (a "billion laughs"
  // file is refused); duplicate keys, unknown tags and any warning are errors.
  const parsed = parseDocument(text, {
    schema: 'core',
    uniqueKeys: true,
    prettyErrors: true,
  });
  const problem = parsed.errors[0] ?? parsed.warnings[0];
  if (problem !== undefined) {
    throw new ConfigError(
      'CONFIG_INVALID',
      `${source} is not valid YAML: ${problem.message.split('\n')[0]}`,
      problem,
    );
  }
  let doc: unknown;
  try {
    doc = parsed.toJS({ maxAliasCount: 100 });
  } catch (err) {
    throw new ConfigError(
      'CONFIG_INVALID',
      `${source} is not valid YAML: ${(err as Error).message}`,
      err,
    );
  }
  assertPlainData(doc, source, '');
  return validateConfig(doc ?? {}, source);
}

/** Validates an already-parsed configuration object and fills in defaults (on a copy). */
export function validateConfig(doc: unknown, source = 'configuration'): Config {
  const copy: unknown = structuredClone(doc);
  if (!validate(copy)) {
    const errors = (validate.errors ?? []).map(describeError);
    throw new ConfigError('CONFIG_INVALID', `${source} is invalid:\n  ${errors.join('\n  ')}`);
  }
  return copy;
}

/** Reads and validates the configuration file; no path gives the defaults. */
export function loadConfig(path?: string): Config {
  if (path === undefined) return parseConfig('', 'defaults');
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(
      'CONFIG_UNREADABLE',
      `cannot read ${path}: ${(err as Error).message}`,
      err,
    );
  }
  return parseConfig(text, path);
}

// Only what JSON can say: a tag that built a Buffer, Date or Map is refused.
function assertPlainData(value: unknown, source: string, path: string): void {
  if (value === null || ['string', 'number', 'boolean'].includes(typeof value)) return;
  if (Array.isArray(value)) {
    value.forEach((v, i) => assertPlainData(v, source, `${path}/${i}`));
    return;
  }
  if (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    for (const [k, v] of Object.entries(value)) assertPlainData(v, source, `${path}/${k}`);
    return;
  }
  throw new ConfigError(
    'CONFIG_INVALID',
    `${source} is not valid YAML: ${path || '(top level)'} is not plain data`,
  );
}

function describeError(e: ErrorObject): string {
  const at = e.instancePath === '' ? '(top level)' : e.instancePath;
  switch (e.keyword) {
    case 'additionalProperties':
      return `${at}: unknown field ${JSON.stringify((e.params as { additionalProperty: string }).additionalProperty)}`;
    case 'enum':
      return `${at}: must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
    default:
      return `${at}: ${e.message ?? 'is invalid'}`;
  }
}
