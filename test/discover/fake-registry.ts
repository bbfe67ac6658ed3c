// A scriptable registry on loopback (node:http) for faults no real registry
// produces on demand: each test sets `handle` and reads `requests`.
import { createHash } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';

export type Handler = (req: IncomingMessage, res: ServerResponse) => void;

export interface FakeRegistry {
  /** `127.0.0.1:<port>`. */
  host: string;
  handle: Handler;
  /** `METHOD path` of every request, in order. */
  requests: string[];
  close(): Promise<void>;
}

export async function startFakeRegistry(tls?: {
  key: string;
  cert: string;
}): Promise<FakeRegistry> {
  const fake: FakeRegistry = {
    host: '',
    handle: (_req, res) => {
      res.statusCode = 404;
      res.end();
    },
    requests: [],
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  const listener = (req: IncomingMessage, res: ServerResponse) => {
    fake.requests.push(`${req.method} ${req.url}`);
    fake.handle(req, res);
  };
  const server =
    tls === undefined ? http.createServer(listener) : https.createServer(tls, listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  fake.host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return fake;
}

export function sha256(body: string | Buffer): string {
  return `sha256:${createHash('sha256').update(body).digest('hex')}`;
}

/** Serves `body` with a media type and its digest, as a registry serves a manifest. */
export function sendManifest(
  req: IncomingMessage,
  res: ServerResponse,
  body: string,
  mediaType = 'application/vnd.oci.image.manifest.v1+json',
): void {
  res.setHeader('content-type', mediaType);
  res.setHeader('docker-content-digest', sha256(body));
  res.setHeader('content-length', Buffer.byteLength(body));
  res.end(req.method === 'HEAD' ? undefined : body);
}

export function imageManifest(extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: {
      mediaType: 'application/vnd.oci.image.config.v1+json',
      digest: sha256('{}'),
      size: 2,
    },
    layers: [],
    ...extra,
  });
}

/** An address nothing listens on: a port just released. */
export async function closedPort(): Promise<string> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `127.0.0.1:${port}`;
}
