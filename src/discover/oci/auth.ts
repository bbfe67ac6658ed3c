// Registry credentials and the distribution token flow
// (https://distribution.github.io/distribution/spec/auth/token/): a 401 names
// a realm, service and scope; a token is asked for there, with the registry's
// Basic credentials or identity token from a Docker config.json when there are
// some, and sent as `Authorization: Bearer` until it expires.
import { readFile, stat } from 'node:fs/promises';
import { DiscoveryError } from '../error.ts';

export interface Challenge {
  /** Lower-cased: `bearer`, `basic`. */
  scheme: string;
  params: Record<string, string>;
}

/**
 * Parses the first challenge of a WWW-Authenticate header (RFC 7235):
 * `Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:o/r:pull"`.
 */
export function parseChallenge(header: string): Challenge | undefined {
  const m = /^\s*([A-Za-z][A-Za-z0-9._~+/-]*)\s*(.*)$/s.exec(header.slice(0, 4096));
  if (m === null) return undefined;
  const params: Record<string, string> = {};
  const rest = m[2]!;
  // auth-param = token "=" ( token / quoted-string ); stops at the next challenge's scheme.
  const param = /\s*([A-Za-z0-9._~+/-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,"]*))\s*(?:,|$)/gy;
  let p: RegExpExecArray | null;
  while (param.lastIndex < rest.length && (p = param.exec(rest)) !== null) {
    const value = p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : p[3]!;
    params[p[1]!.toLowerCase()] = value;
  }
  return { scheme: m[1]!.toLowerCase(), params };
}

export type Credential =
  | { kind: 'basic'; username: string; password: string }
  | { kind: 'identity-token'; username: string; token: string }
  | { kind: 'registry-token'; token: string };

/** A Docker config.json read on demand and again whenever its file changes (rotated Secrets). */
export class DockerConfig {
  readonly #path: string;
  #loaded: { mtimeMs: number; size: number; auths: Map<string, Credential> } | undefined;

  constructor(path: string) {
    this.#path = path;
  }

  async credentialFor(registry: string): Promise<Credential | undefined> {
    let info;
    try {
      info = await stat(this.#path);
    } catch (err) {
      throw new DiscoveryError(
        'REGISTRY_AUTH_FAILED',
        `cannot read registry credentials ${this.#path}: ${(err as Error).message}`,
        err,
      );
    }
    if (
      this.#loaded === undefined ||
      this.#loaded.mtimeMs !== info.mtimeMs ||
      this.#loaded.size !== info.size
    ) {
      if (info.size > 1024 * 1024) {
        throw new DiscoveryError(
          'REGISTRY_AUTH_FAILED',
          `registry credentials ${this.#path} are larger than 1 MiB`,
        );
      }
      const text = await readFile(this.#path, 'utf8');
      this.#loaded = { mtimeMs: info.mtimeMs, size: info.size, auths: parseDockerConfig(text) };
    }
    return this.#loaded.auths.get(registry);
  }
}

/**
 * `auths` of a Docker config.json, keyed by registry host. Keys are written as
 * `ghcr.io`, `https://ghcr.io`, or Docker Hub's `https://index.docker.io/v1/`.
 * Credential helpers (`credsStore`, `credHelpers`) run programs and are not used.
 */
export function parseDockerConfig(text: string): Map<string, Credential> {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new DiscoveryError('REGISTRY_AUTH_FAILED', 'registry credentials are not JSON', err);
  }
  const auths = (doc as { auths?: unknown } | null)?.auths;
  const out = new Map<string, Credential>();
  if (typeof auths !== 'object' || auths === null) return out;
  for (const [key, value] of Object.entries(auths)) {
    if (typeof value !== 'object' || value === null) continue;
    const entry = value as Record<string, unknown>;
    const host = registryHostOf(key);
    const str = (k: string) => (typeof entry[k] === 'string' ? entry[k] : undefined);
    let username = str('username');
    let password = str('password');
    const auth = str('auth');
    if (auth !== undefined && auth !== '') {
      const decoded = Buffer.from(auth, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon === -1) {
        throw new DiscoveryError(
          'REGISTRY_AUTH_FAILED',
          `registry credentials for ${host}: auth is not base64 of user:password`,
        );
      }
      username = decoded.slice(0, colon);
      password = decoded.slice(colon + 1);
    }
    const identityToken = str('identitytoken');
    const registryToken = str('registrytoken');
    if (registryToken !== undefined && registryToken !== '') {
      out.set(host, { kind: 'registry-token', token: registryToken });
    } else if (identityToken !== undefined && identityToken !== '') {
      out.set(host, { kind: 'identity-token', username: username ?? '', token: identityToken });
    } else if (username !== undefined && password !== undefined) {
      out.set(host, { kind: 'basic', username, password });
    }
  }
  return out;
}

function registryHostOf(key: string): string {
  const host = key
    .replace(/^[a-z]+:\/\//i, '')
    .replace(/\/.*$/, '')
    .toLowerCase();
  return host === 'index.docker.io' || host === 'registry-1.docker.io' ? 'docker.io' : host;
}

export function basicHeader(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
}

/** A token endpoint's answer: `token` or `access_token`, `expires_in` seconds (default 60). */
export function parseTokenResponse(
  body: Buffer,
  where: string,
): { token: string; expiresInMs: number } {
  let doc: unknown;
  try {
    doc = JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new DiscoveryError('REGISTRY_AUTH_FAILED', `${where} answered with no JSON token`, err);
  }
  const d = (doc ?? {}) as Record<string, unknown>;
  const token =
    typeof d.token === 'string' && d.token !== ''
      ? d.token
      : typeof d.access_token === 'string'
        ? d.access_token
        : '';
  if (token === '') {
    throw new DiscoveryError('REGISTRY_AUTH_FAILED', `${where} answered with no token`);
  }
  const seconds = typeof d.expires_in === 'number' && d.expires_in > 0 ? d.expires_in : 60;
  return { token, expiresInMs: Math.min(seconds, 3600) * 1000 };
}
