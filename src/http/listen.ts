// The listening socket: HTTP or HTTPS, TLS files re-read when they change (so
// certificates rotate without a restart), bounded header and keep-alive
// timeouts, and a graceful stop: stop accepting, let in-flight requests
// finish within the grace period, then close what is left.
import { readFileSync } from 'node:fs';
import { watchFiles, type FileWatch } from './filewatch.ts';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { RequestListener } from 'node:http';
import type { Config } from '../config/index.ts';

export interface Listening {
  url: string;
  port: number;
  close(graceMs?: number): Promise<void>;
}

export interface ListenOptions {
  onTlsReload?: (ok: boolean, error?: Error) => void;
}

export async function listen(
  handler: RequestListener,
  config: Config,
  options: ListenOptions = {},
): Promise<Listening> {
  const s = config.server;
  const tls = s.tls;
  let fileWatch: FileWatch | undefined;
  // Once closing, every response says `Connection: close`: a kept-alive
  // connection would otherwise hold the process (and take new requests) until
  // its keep-alive timeout, long after the last in-flight request was answered.
  let closing = false;
  const inFlight = new Set<http.ServerResponse>();
  const serve: RequestListener = (req, res) => {
    inFlight.add(res);
    res.once('close', () => {
      inFlight.delete(res);
      if (closing) setImmediate(() => server.closeIdleConnections());
    });
    if (closing) res.setHeader('connection', 'close');
    handler(req, res);
  };
  let server: http.Server;
  if (tls === undefined) {
    server = http.createServer(serve);
  } else {
    const read = () => ({
      cert: readFileSync(tls.certFile),
      key: readFileSync(tls.keyFile),
      ...(tls.clientCaFile === undefined
        ? {}
        : { ca: readFileSync(tls.clientCaFile), requestCert: true, rejectUnauthorized: false }),
    });
    const secure = https.createServer({ ...read(), minVersion: 'TLSv1.2' }, serve);
    fileWatch = watchFiles(
      [tls.certFile, tls.keyFile, ...(tls.clientCaFile === undefined ? [] : [tls.clientCaFile])],
      () => {
        try {
          secure.setSecureContext(read());
          options.onTlsReload?.(true);
        } catch (err) {
          // Keep serving with the old certificate; say so.
          options.onTlsReload?.(false, err as Error);
        }
      },
    );
    server = secure;
  }
  server.headersTimeout = s.headersTimeoutMs;
  server.requestTimeout = s.deadlineMs + 5000;
  server.keepAliveTimeout = s.keepAliveTimeoutMs;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(s.port, s.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `${tls === undefined ? 'http' : 'https'}://${host}:${address.port}`,
    port: address.port,
    close(graceMs = s.shutdownGraceMs) {
      closing = true;
      for (const res of inFlight) if (!res.headersSent) res.setHeader('connection', 'close');
      fileWatch?.close();
      return new Promise<void>((resolve) => {
        const force = setTimeout(() => server.closeAllConnections(), graceMs);
        server.close(() => {
          clearTimeout(force);
          resolve();
        });
        server.closeIdleConnections();
      });
    },
  };
}
