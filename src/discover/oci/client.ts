// Requests to one registry API as the distribution spec describes them
// (https://github.com/opencontainers/distribution-spec/blob/main/spec.md):
// which registries may be contacted and how (TLS, or plain HTTP on loopback
// only), the token flow on a 401, redirects (bounded, credentials kept to the
// registry's own origin), a mirror tried first, and 429/5xx retried a bounded
// number of times, honouring Retry-After, never past the caller's signal.
import http from 'node:http';
import https from 'node:https';
import { DiscoveryError } from '../error.ts';
import { assertHostAllowed, guardedLookup, hostnameOf, isLoopbackHost } from './address.ts';
import {
  basicHeader,
  DockerConfig,
  parseChallenge,
  parseTokenResponse,
  type Challenge,
} from './auth.ts';
import type { ResolvedOptions } from './options.ts';
import type { RepositoryRef } from './reference.ts';
import { Flights } from './cache.ts';
import { send, type HttpResponse } from './transport.ts';

export interface RegistryRequest {
  method: 'GET' | 'HEAD';
  /** Path under `/v2/<repository>/`, e.g. `manifests/v1`, `referrers/sha256:...`. */
  path: string;
  accept?: string[];
  maxBytes: number;
  signal: AbortSignal;
}

export interface ClientStats {
  /** HTTP exchanges made, token requests included. */
  requests: number;
  retries: number;
  tokenFetches: number;
}

export interface RegistryClient {
  /**
   * One request, after auth, redirects and retries. Returns 2xx and 404
   * answers; any other status is thrown as a coded error naming the registry.
   */
  request(target: RepositoryRef, req: RegistryRequest): Promise<HttpResponse>;
  readonly stats: ClientStats;
  /** Closes idle keep-alive connections (shutdown). */
  close(): void;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const RETRIED = new Set([429, 500, 502, 503, 504]);

export function createRegistryClient(options: ResolvedOptions): RegistryClient {
  const stats: ClientStats = { requests: 0, retries: 0, tokenFetches: 0 };
  // Requests that meet the same challenge at once share one token fetch.
  const tokenFlights = new Flights();
  const agents = new Map<string, http.Agent>();
  const tokens = new Map<string, { header: string; expires: number }>();
  // How each registry asked to be authenticated, so later requests send the token at once.
  const challenges = new Map<string, Challenge>();
  const dockerConfig =
    options.dockerConfigPath === undefined ? undefined : new DockerConfig(options.dockerConfigPath);

  function agentFor(host: string, secure: boolean): http.Agent {
    const key = `${secure ? 'https' : 'http'}://${host}`;
    let agent = agents.get(key);
    if (agent === undefined) {
      // Docker Hub's settings are named by its reference host, not its API host.
      const settings = options.registries.get(host === 'registry-1.docker.io' ? 'docker.io' : host);
      const ca = settings?.ca;
      const common = { keepAlive: true, maxSockets: 16, lookup: guardedLookup(!secure) };
      agent = secure
        ? new https.Agent({ ...common, ...(ca === undefined ? {} : { ca }) })
        : new http.Agent(common);
      agents.set(key, agent);
    }
    return agent;
  }

  /** The API origin of a registry host: Docker Hub's API lives at registry-1.docker.io. */
  function originOf(host: string): URL {
    const secure = !options.insecure.has(host);
    const apiHost = host === 'docker.io' ? 'registry-1.docker.io' : host;
    return new URL(`${secure ? 'https' : 'http'}://${apiHost}`);
  }

  function checkAllowed(registry: string): void {
    if (options.allowed !== undefined && !options.allowed.has(registry)) {
      throw new DiscoveryError(
        'REGISTRY_NOT_ALLOWED',
        `registry ${registry} is not in the allowed registries`,
      );
    }
    assertHostAllowed(hostnameOf(registry), `registry ${registry}`);
  }

  async function request(target: RepositoryRef, req: RegistryRequest): Promise<HttpResponse> {
    checkAllowed(target.registry);
    const mirror = options.registries.get(target.registry)?.mirror?.toLowerCase();
    if (mirror !== undefined) {
      try {
        const res = await withRetries(mirror, target.repository, req);
        if (res.status !== 404) return res;
      } catch (err) {
        // The registry itself is the fallback for a failing mirror, unless time is up.
        req.signal.throwIfAborted();
        if (!(err instanceof DiscoveryError)) throw err;
      }
    }
    return withRetries(target.registry, target.repository, req);
  }

  async function withRetries(
    host: string,
    repository: string,
    req: RegistryRequest,
  ): Promise<HttpResponse> {
    const { max, backoffMs, maxWaitMs } = options.retries;
    for (let attempt = 0; ; attempt++) {
      const res = await exchange(host, repository, req);
      if (res.status >= 200 && res.status < 300) return res;
      if (res.status === 404) return res;
      if (!RETRIED.has(res.status) || attempt >= max) throw statusError(host, req, res, attempt);
      const wait = retryAfterMs(res, options.now()) ?? backoffMs * 2 ** attempt;
      if (wait > maxWaitMs) throw statusError(host, req, res, attempt, wait);
      stats.retries++;
      await options.sleep(wait, req.signal);
    }
  }

  async function exchange(
    host: string,
    repository: string,
    req: RegistryRequest,
  ): Promise<HttpResponse> {
    const origin = originOf(host);
    const scope = `repository:${repository}:pull`;
    let url = new URL(`/v2/${repository}/${req.path}`, origin);
    let authorization = await cachedAuthorization(host, scope);
    let challenged = false;
    for (let hops = 0; ;) {
      const headers: Record<string, string> = { 'user-agent': options.userAgent };
      if (req.accept !== undefined) headers.accept = req.accept.join(', ');
      // Credentials go to the registry's own origin only, never to a redirect target.
      if (authorization !== undefined && url.origin === origin.origin) {
        headers.authorization = authorization;
      }
      stats.requests++;
      const res = await send({
        url,
        method: req.method,
        headers,
        signal: req.signal,
        maxBytes: req.maxBytes,
        timeoutMs: options.timeouts.requestMs,
        agent: agentFor(url.host, url.protocol === 'https:'),
      });
      const location = res.headers.location;
      if (REDIRECTS.has(res.status) && typeof location === 'string') {
        if (++hops > options.limits.redirects) {
          throw new DiscoveryError(
            'TOO_MANY_REDIRECTS',
            `registry ${host} redirected more than ${options.limits.redirects} times for ${req.path}`,
          );
        }
        url = redirectTarget(host, url, location);
        continue;
      }
      if (res.status === 401 && !challenged && url.origin === origin.origin) {
        challenged = true;
        const header = res.headers['www-authenticate'];
        const challenge = typeof header === 'string' ? parseChallenge(header) : undefined;
        if (challenge === undefined) {
          throw new DiscoveryError(
            'REGISTRY_AUTH_FAILED',
            `registry ${host} answered 401 without a usable WWW-Authenticate challenge`,
          );
        }
        challenges.set(host, challenge);
        authorization = await tokenFlights.run(
          `${host}|${scope}|${challenge.scheme}`,
          req.signal,
          (signal) => authorize(host, origin, challenge, scope, signal),
        );
        continue;
      }
      return res;
    }
  }

  function redirectTarget(host: string, from: URL, location: string): URL {
    let next: URL;
    try {
      next = new URL(location, from);
    } catch (err) {
      throw new DiscoveryError(
        'REGISTRY_ERROR',
        `registry ${host} redirected to an invalid URL`,
        err,
      );
    }
    const plainAllowed = options.insecure.has(next.host) || isInsecureLoopbackSameHost(from, next);
    if (next.protocol !== 'https:' && !(next.protocol === 'http:' && plainAllowed)) {
      throw new DiscoveryError(
        'ADDRESS_NOT_ALLOWED',
        `registry ${host} redirected to ${next.protocol}//${next.host}, which is not HTTPS`,
      );
    }
    return next;
  }

  // A plain-HTTP loopback registry may redirect to another port on its own host.
  function isInsecureLoopbackSameHost(from: URL, next: URL): boolean {
    return (
      from.protocol === 'http:' &&
      from.hostname === next.hostname &&
      isLoopbackHost(next.hostname.replace(/^\[|\]$/g, ''))
    );
  }

  async function cachedAuthorization(host: string, scope: string): Promise<string | undefined> {
    const challenge = challenges.get(host);
    if (challenge === undefined) return undefined;
    if (challenge.scheme === 'basic') {
      const cred = await credentialFor(host);
      return cred?.kind === 'basic' ? basicHeader(cred.username, cred.password) : undefined;
    }
    const cached = tokens.get(`${host}|${scope}`);
    return cached !== undefined && cached.expires > options.now() ? cached.header : undefined;
  }

  async function credentialFor(host: string) {
    return dockerConfig === undefined ? undefined : dockerConfig.credentialFor(host);
  }

  async function authorize(
    host: string,
    origin: URL,
    challenge: Challenge,
    scope: string,
    signal: AbortSignal,
  ): Promise<string> {
    const cred = await credentialFor(host);
    if (challenge.scheme === 'basic') {
      if (cred?.kind !== 'basic') {
        throw new DiscoveryError(
          'REGISTRY_AUTH_FAILED',
          `registry ${host} asks for a username and password, and none is configured for it`,
        );
      }
      return basicHeader(cred.username, cred.password);
    }
    if (challenge.scheme !== 'bearer') {
      throw new DiscoveryError(
        'REGISTRY_AUTH_FAILED',
        `registry ${host} asks for ${challenge.scheme} authentication, which is not supported`,
      );
    }
    if (cred?.kind === 'registry-token') return `Bearer ${cred.token}`;
    const realm = realmOf(host, origin, challenge);
    const service = challenge.params.service;
    // The scope the registry names wins; ours is the pull scope of the repository.
    const wanted = challenge.params.scope ?? scope;
    const headers: Record<string, string> = { 'user-agent': options.userAgent };
    let method: 'GET' | 'POST' = 'GET';
    let body: string | undefined;
    if (cred?.kind === 'identity-token') {
      // An identity token is an OAuth2 refresh token (Docker's `docker login` with a token).
      method = 'POST';
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: cred.token,
        client_id: 'provgate',
        ...(service === undefined ? {} : { service }),
        scope: wanted,
      }).toString();
    } else {
      if (service !== undefined) realm.searchParams.set('service', service);
      realm.searchParams.set('scope', wanted);
      if (cred?.kind === 'basic') headers.authorization = basicHeader(cred.username, cred.password);
    }
    stats.requests++;
    stats.tokenFetches++;
    const res = await send({
      url: realm,
      method,
      headers,
      ...(body === undefined ? {} : { body }),
      signal,
      maxBytes: options.limits.tokenBytes,
      timeoutMs: options.timeouts.requestMs,
      agent: agentFor(realm.host, realm.protocol === 'https:'),
    });
    if (res.status === 429) {
      throw new DiscoveryError(
        'REGISTRY_RATE_LIMITED',
        `registry ${host} token service ${realm.host} answered 429 rate-limited`,
      );
    }
    if (res.status !== 200) {
      throw new DiscoveryError(
        'REGISTRY_AUTH_FAILED',
        `registry ${host} token service ${realm.host} answered ${res.status}${cred === undefined ? ' (no credentials configured)' : ''}`,
      );
    }
    const { token, expiresInMs } = parseTokenResponse(res.body, `token service ${realm.host}`);
    const header = `Bearer ${token}`;
    // Refresh a little early so a token does not expire in flight.
    tokens.set(`${host}|${scope}`, {
      header,
      expires: options.now() + Math.max(0, expiresInMs - 5_000),
    });
    return header;
  }

  function realmOf(host: string, origin: URL, challenge: Challenge): URL {
    let realm: URL;
    try {
      realm = new URL(challenge.params.realm ?? '');
    } catch (err) {
      throw new DiscoveryError(
        'REGISTRY_AUTH_FAILED',
        `registry ${host} names no valid token realm`,
        err,
      );
    }
    // Plain HTTP to a token service only where the registry itself is a loopback HTTP one.
    const plainOk =
      origin.protocol === 'http:' && isLoopbackHost(realm.hostname.replace(/^\[|\]$/g, ''));
    if (realm.protocol !== 'https:' && !(realm.protocol === 'http:' && plainOk)) {
      throw new DiscoveryError(
        'REGISTRY_AUTH_FAILED',
        `registry ${host} names token realm ${realm.protocol}//${realm.host}, which is not HTTPS`,
      );
    }
    return realm;
  }

  return {
    request,
    stats,
    close() {
      for (const agent of agents.values()) agent.destroy();
      agents.clear();
    },
  };
}

/** Retry-After as delta-seconds or an HTTP-date (RFC 9110 10.2.3), in milliseconds. */
export function retryAfterMs(res: HttpResponse, now: number): number | undefined {
  const value = res.headers['retry-after'];
  if (typeof value !== 'string') return undefined;
  if (/^\s*[0-9]{1,9}\s*$/.test(value)) return Number(value) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

function statusError(
  host: string,
  req: RegistryRequest,
  res: HttpResponse,
  retries: number,
  wait?: number,
): DiscoveryError {
  const detail = errorDetail(res.body);
  const after = retries > 0 ? ` (after ${retries} ${retries === 1 ? 'retry' : 'retries'})` : '';
  const tooLong =
    wait === undefined ? '' : `; it asks to wait ${Math.ceil(wait / 1000)} s, longer than allowed`;
  if (res.status === 429) {
    return new DiscoveryError(
      'REGISTRY_RATE_LIMITED',
      `${host} answered 429 rate-limited${after}${tooLong}`,
    );
  }
  if (res.status === 401 || res.status === 403) {
    return new DiscoveryError(
      'REGISTRY_AUTH_FAILED',
      `${host} answered ${res.status} ${res.status === 401 ? 'unauthorized' : 'forbidden'} for ${req.path}${detail}`,
    );
  }
  return new DiscoveryError(
    'REGISTRY_ERROR',
    `${host} answered ${res.status} for ${req.path}${detail}${after}${tooLong}`,
  );
}

/** The first error of a distribution-spec error body, for the message. */
function errorDetail(body: Buffer): string {
  try {
    const doc = JSON.parse(body.toString('utf8')) as {
      errors?: { code?: unknown; message?: unknown }[];
    };
    const first = doc.errors?.[0];
    const code = typeof first?.code === 'string' ? first.code : '';
    const message = typeof first?.message === 'string' ? first.message : '';
    const text = [code, message].filter((s) => s !== '').join(': ');
    return text === '' ? '' : ` (${text.slice(0, 200)})`;
  } catch {
    return '';
  }
}
