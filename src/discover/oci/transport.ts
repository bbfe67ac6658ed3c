// One HTTP exchange with a registry, bounded: the body is streamed and counted
// (a Content-Length is not trusted), the caller's signal and a per-request
// timeout both end it, and every failure becomes a DiscoveryError that names
// the host and the cause. No redirects, retries or auth here (client.ts).
//
// Built on node:http rather than fetch: the connect-time address check needs
// a `lookup` hook and a per-registry CA needs its own agent, which fetch only
// offers through undici's dispatcher API (undici is not a dependency).
import http, { type IncomingHttpHeaders } from 'node:http';
import https from 'node:https';
import { DiscoveryError } from '../error.ts';
import { assertHostAllowed } from './address.ts';

export interface HttpRequest {
  url: URL;
  method: 'GET' | 'HEAD' | 'POST';
  headers: Record<string, string>;
  body?: string;
  /** The caller's signal (the deadline). */
  signal: AbortSignal;
  /** Bytes of a 2xx body at most; more is RESPONSE_TOO_LARGE. */
  maxBytes: number;
  timeoutMs: number;
  agent: http.Agent;
}

export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  /** The whole body of a 2xx answer; at most ERROR_BODY_BYTES of any other (truncated). */
  body: Buffer;
}

/** Enough of an error body for a message; the rest is dropped, never buffered. */
const ERROR_BODY_BYTES = 8 * 1024;

export function send(req: HttpRequest): Promise<HttpResponse> {
  const { url, signal } = req;
  const host = url.host;
  assertHostAllowed(url.hostname.replace(/^\[|\]$/g, ''), `connection to ${host}`);
  signal.throwIfAborted();
  return new Promise<HttpResponse>((resolve, reject) => {
    let settled = false;
    const finish = (err: Error | undefined, res?: HttpResponse) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      if (err === undefined) resolve(res!);
      else reject(err);
    };
    const onAbort = () => {
      const reason = signal.reason as unknown;
      const err =
        reason instanceof DiscoveryError
          ? reason
          : new DiscoveryError(
              'DISCOVERY_TIMEOUT',
              `request to ${host} abandoned: ${reason instanceof Error ? reason.message : 'aborted'}`,
              reason,
            );
      finish(err);
      request.destroy();
    };
    const timer = setTimeout(() => {
      finish(
        new DiscoveryError(
          'DISCOVERY_TIMEOUT',
          `registry ${host} did not answer within ${req.timeoutMs} ms`,
        ),
      );
      request.destroy();
    }, req.timeoutMs);
    timer.unref();

    const transport = url.protocol === 'http:' ? http : https;
    const request = transport.request(url, {
      method: req.method,
      headers: req.headers,
      agent: req.agent,
    });
    request.on('error', (err) => finish(connectionError(host, err)));
    request.on('response', (res) => {
      const status = res.statusCode ?? 0;
      const ok = status >= 200 && status < 300;
      const limit = ok ? req.maxBytes : ERROR_BODY_BYTES;
      const declared = Number(res.headers['content-length']);
      if (ok && req.method !== 'HEAD' && Number.isFinite(declared) && declared > limit) {
        finish(tooLarge(host, url, limit));
        res.destroy();
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        if (settled) return;
        size += chunk.length;
        if (size > limit) {
          if (ok) {
            finish(tooLarge(host, url, limit));
            res.destroy();
            return;
          }
          // An error body is only read for its message.
          chunks.push(chunk.subarray(0, chunk.length - (size - limit)));
          finish(undefined, { status, headers: res.headers, body: Buffer.concat(chunks) });
          res.destroy();
          return;
        }
        chunks.push(chunk);
      });
      res.on('end', () =>
        finish(undefined, { status, headers: res.headers, body: Buffer.concat(chunks) }),
      );
      res.on('error', (err) => finish(connectionError(host, err)));
      res.on('close', () => {
        if (!res.complete) {
          finish(
            new DiscoveryError(
              'REGISTRY_UNREACHABLE',
              `registry ${host} closed the connection in the middle of a response`,
            ),
          );
        }
      });
    });
    if (signal.aborted) {
      onAbort();
      return;
    }
    signal.addEventListener('abort', onAbort, { once: true });
    request.end(req.body);
  });
}

function tooLarge(host: string, url: URL, limit: number): DiscoveryError {
  return new DiscoveryError(
    'RESPONSE_TOO_LARGE',
    `registry ${host} sent more than ${limit} bytes for ${url.pathname}`,
  );
}

const CAUSES: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'name resolution failed',
  ETIMEDOUT: 'connection timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  EPIPE: 'connection closed',
  HPE_INVALID_CONSTANT: 'not an HTTP server',
  EPROTO: 'TLS handshake failed',
};

function connectionError(host: string, err: unknown): DiscoveryError {
  if (err instanceof DiscoveryError) return err;
  const e = err as NodeJS.ErrnoException;
  const code = e.code ?? '';
  const cause =
    CAUSES[code] ??
    (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|ERR_SSL/.test(code)
      ? `TLS certificate not trusted (${code})`
      : (e.message ?? String(err)));
  return new DiscoveryError('REGISTRY_UNREACHABLE', `registry ${host} unreachable: ${cause}`, err);
}
