// Running provgate: graceful shutdown on SIGTERM, policy hot reload (a bundle
// built by scripts/policy.sh from another Rego policy, then garbage), refusing
// an invalid configuration, and HTTPS whose certificate rotates without a
// restart. Each against the real `provgate serve` process.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { TLSSocket } from 'node:tls';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  DEFAULT_BUNDLE,
  FIXTURES,
  ROOT,
  metric,
  postJson,
  runServe,
  startProvgate,
  tempDir,
  writeConfig,
  type Provgate,
} from './support/serve.ts';

interface Decision {
  allowed: boolean;
  reasons: string[];
  warnings: string[];
  policyRevision: string;
}

let work: ReturnType<typeof tempDir>;
before(() => {
  work = tempDir('ops');
});
after(() => work?.remove());

function run(
  file: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) =>
    execFile(
      file,
      args,
      { cwd: ROOT, env: { ...process.env, ...env }, timeout: 120_000 },
      (err, stdout, stderr) =>
        err === null ? resolve({ stdout, stderr }) : reject(new Error(`${file}: ${stderr}`)),
    ),
  );
}

async function until<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const portOf = (server: Provgate) => Number(new URL(server.url).port);

describe('provgate serve: operations', () => {
  describe('SIGTERM', () => {
    let server: Provgate;
    before(async () => {
      server = await startProvgate();
    });
    // The test sends SIGTERM itself; a second one would end the process at once.
    after(() => server?.kill());

    it('finishes the request in flight, refuses new connections, and exits 0', async () => {
      // An upload whose body is still arriving when SIGTERM comes.
      const pkg = join(FIXTURES, 'npm-attestations/gundam-visor-cli-v1-tag');
      const boundary = 'provgate-e2e-boundary';
      const part = (field: string, file: string, bytes: Buffer) =>
        Buffer.concat([
          Buffer.from(
            `--${boundary}\r\nContent-Disposition: form-data; name="${field}"; filename="${file}"\r\n` +
              'Content-Type: application/octet-stream\r\n\r\n',
          ),
          bytes,
          Buffer.from('\r\n'),
        ]);
      const first = part('artifact', 'gundam-visor-cli-v1-tag.tgz', readFileSync(`${pkg}.tgz`));
      const rest = Buffer.concat([
        part('provenance', 'gundam-visor-cli-v1-tag.tgz.json', readFileSync(`${pkg}.tgz.json`)),
        Buffer.from(`--${boundary}--\r\n`),
      ]);
      const req = http.request(`${server.url}/v1/upload`, {
        method: 'POST',
        headers: {
          'content-type': `multipart/form-data; boundary=${boundary}`,
          'content-length': first.length + rest.length,
        },
      });
      const response = new Promise<{ status: number; connection?: string; body: string }>(
        (resolve, reject) => {
          req.on('response', (res) => {
            let body = '';
            res.setEncoding('utf8');
            res.on('data', (c: string) => (body += c));
            res.on('end', () =>
              resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, body }),
            );
          });
          req.on('error', reject);
        },
      );
      req.write(first);
      // The request has reached the server (it logs nothing yet): wait until it is being read.
      await new Promise((r) => setTimeout(r, 200));

      process.kill(server.child.pid!, 'SIGTERM');
      await server.waitForLog((l) => l.event === 'server.stopping');

      // New connections are refused (the log line comes just before the
      // listening socket closes) while the old one is still served.
      const connect = () =>
        new Promise<string>((resolve) => {
          const socket = net.connect(portOf(server), '127.0.0.1');
          socket.once('connect', () => {
            socket.destroy();
            resolve('connected');
          });
          socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
        });
      await until('new connections to be refused', async () =>
        (await connect()) === 'ECONNREFUSED' ? true : undefined,
      );
      assert.equal(server.child.exitCode, null, 'still running while a request is in flight');

      req.end(rest);
      const { status, connection, body } = await response;
      assert.equal(status, 200, body);
      // Not kept alive: the process must not wait for the client to hang up.
      assert.equal(connection, 'close');
      assert.equal((JSON.parse(body) as Decision).allowed, true);

      const started = Date.now();
      const exit = await server.exited;
      assert.deepEqual(exit, { code: 0, signal: null });
      assert.ok(Date.now() - started < 3000, `exited ${Date.now() - started} ms after the answer`);
      assert.ok(server.logs.some((l) => l.event === 'server.stopped'));
    });
  });

  describe('SIGTERM with a request that outlasts the grace period', () => {
    let server: Provgate;
    before(async () => {
      server = await startProvgate({
        config: writeConfig(work.dir, { server: { shutdownGraceMs: 300 } }, 'grace.yaml'),
      });
    });
    after(() => server?.kill());

    it('closes it when the grace period ends and exits 0', async () => {
      // A request whose body never finishes.
      const req = http.request(`${server.url}/v1/admit`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': 1000 },
      });
      const outcome = new Promise<string>((resolve) => {
        req.on('response', (res) => resolve(`answered ${res.statusCode}`));
        req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
      });
      req.write('{"artifact":');
      await new Promise((r) => setTimeout(r, 200));
      const started = Date.now();
      process.kill(server.child.pid!, 'SIGTERM');
      const exit = await server.exited;
      assert.deepEqual(exit, { code: 0, signal: null });
      assert.ok(Date.now() - started < 3000, `exited after ${Date.now() - started} ms`);
      assert.equal(await outcome, 'ECONNRESET');
    });
  });

  describe('policy hot reload', () => {
    let server: Provgate;
    let bundle: string;
    let replacement: string;
    let replacementRevision: string;
    let initialRevision: string;

    before(async () => {
      const dir = join(work.dir, 'policy');
      mkdirSync(dir);
      bundle = join(dir, 'bundle.tar.gz');
      copyFileSync(DEFAULT_BUNDLE, bundle);

      // A small, different policy: allows names starting with "allowed-", whatever the attestations.
      const src = join(work.dir, 'replacement-src');
      mkdirSync(join(src, 'provgate'), { recursive: true });
      writeFileSync(join(src, '.manifest'), JSON.stringify({ roots: ['provgate'] }));
      writeFileSync(
        join(src, 'provgate/decision.rego'),
        [
          'package provgate',
          '',
          '# METADATA',
          '# entrypoint: true',
          'decision := {"allow": allow, "deny": deny, "warn": ["decided by the replacement policy"]}',
          '',
          'name := object.get(input, ["artifact", "name"], "")',
          '',
          'default allow := false',
          '',
          'allow if startswith(name, "allowed-")',
          '',
          'deny := [] if allow',
          '',
          'deny := [$"the replacement policy only allows names starting with allowed-, not {name}"] if not allow',
          '',
        ].join('\n'),
      );
      replacement = join(work.dir, 'replacement.tar.gz');
      const [, revision] = await Promise.all([
        run('bash', ['scripts/policy.sh', 'build', '--out', replacement], { POLICY_SRC: src }),
        run('bash', ['scripts/policy.sh', 'revision'], { POLICY_SRC: src }),
      ]);
      replacementRevision = revision.stdout.trim();
      server = await startProvgate({
        config: writeConfig(work.dir, { policy: { bundle } }, 'reload.yaml'),
      });
      initialRevision = String(
        (await server.waitForLog((l) => l.event === 'server.listening')).policyRevision,
      );
    });
    after(() => server?.stop());

    const metrics = async () => (await fetch(`${server.url}/metrics`)).text();
    const admit = async (name: string) =>
      (
        await postJson<Decision>(`${server.url}/v1/admit`, {
          artifact: { name, digest: { sha256: 'a'.repeat(64) } },
          attestations: [],
        })
      ).body;
    /** Replaces the bundle file atomically, as a deployment tool would. */
    const replace = (bytes: Buffer) => {
      const next = `${bundle}.next`;
      writeFileSync(next, bytes);
      renameSync(next, bundle);
    };

    it('starts on the copy of the default bundle', async () => {
      assert.match(replacementRevision, /^sha256:[0-9a-f]{64}$/);
      assert.notEqual(initialRevision, replacementRevision);
      assert.equal(
        metric(await metrics(), 'provgate_policy_info', { revision: initialRevision }),
        1,
      );
      const d = await admit('allowed-app');
      assert.equal(d.allowed, false);
      assert.ok(d.reasons.some((r) => r.startsWith('no attestation found for sha256:')));
    });

    it('activates a replaced bundle: /metrics shows its revision and decisions follow it', async () => {
      replace(readFileSync(replacement));
      await until('the new revision in /metrics', async () =>
        metric(await metrics(), 'provgate_policy_info', { revision: replacementRevision }) === 1
          ? true
          : undefined,
      );
      const text = await metrics();
      assert.equal(metric(text, 'provgate_policy_info', { revision: initialRevision }), undefined);
      assert.equal(metric(text, 'provgate_policy_reloads', { outcome: 'ok' }), 1);
      const allowed = await admit('allowed-app');
      assert.equal(allowed.allowed, true, JSON.stringify(allowed));
      assert.equal(allowed.policyRevision, replacementRevision);
      assert.deepEqual(allowed.warnings, ['decided by the replacement policy']);
      const denied = await admit('other-app');
      assert.equal(denied.allowed, false);
      assert.deepEqual(denied.reasons, [
        'the replacement policy only allows names starting with allowed-, not other-app',
      ]);
      await server.waitForLog((l) => l.event === 'policy.reloaded');
    });

    it('keeps the last good revision when the bundle is replaced with garbage, and counts the failure', async () => {
      replace(Buffer.from('this is not a gzip tarball\n'));
      await until('a failed reload in /metrics', async () =>
        metric(await metrics(), 'provgate_policy_reloads', { outcome: 'failed' }) === 1
          ? true
          : undefined,
      );
      const text = await metrics();
      assert.equal(metric(text, 'provgate_policy_info', { revision: replacementRevision }), 1);
      const failed = await server.waitForLog((l) => l.event === 'policy.reload_failed');
      assert.equal(failed.level, 'error');
      assert.ok(String(failed.message).includes(replacementRevision), String(failed.message));
      const d = await admit('allowed-app');
      assert.equal(d.allowed, true);
      assert.equal(d.policyRevision, replacementRevision);
    });
  });

  describe('an invalid configuration', () => {
    it('exits 2 naming the field and why', async () => {
      const config = writeConfig(
        work.dir,
        'endpoints:\n  upload:\n    statusStyle: sometimes\n',
        'invalid.yaml',
      );
      const r = await runServe(['--config', config, '--port', '0']);
      assert.equal(r.code, 2, r.stdout + r.stderr);
      assert.ok(
        r.stderr.includes('/endpoints/upload/statusStyle: must be one of "decision", "http"'),
        r.stderr,
      );
      assert.ok(!r.stdout.includes('server.listening'));
    });

    it('exits 2 naming an unknown field', async () => {
      const config = writeConfig(work.dir, 'server:\n  prot: 8080\n', 'unknown.yaml');
      const r = await runServe(['--config', config, '--port', '0']);
      assert.equal(r.code, 2, r.stdout + r.stderr);
      assert.ok(r.stderr.includes('/server: unknown field "prot"'), r.stderr);
    });

    it('exits 2 naming a configuration file that does not exist', async () => {
      const missing = join(work.dir, 'no-such-config.yaml');
      const r = await runServe(['--config', missing, '--port', '0']);
      assert.equal(r.code, 2, r.stdout + r.stderr);
      assert.ok(r.stderr.includes(missing), r.stderr);
    });

    it('exits 2 naming a trusted root file that does not exist', async () => {
      const missing = join(work.dir, 'no-such-root.json');
      const config = writeConfig(work.dir, { trust: { trustedRoots: [missing] } }, 'missing.yaml');
      const r = await runServe(['--config', config, '--port', '0']);
      assert.equal(r.code, 2, r.stdout + r.stderr);
      assert.ok(r.stderr.includes(missing), r.stderr);
    });
  });

  describe('HTTPS', () => {
    let server: Provgate;
    let certFile: string;
    let keyFile: string;

    /** A self-signed certificate for 127.0.0.1, written to `cert`/`key`. */
    const generate = async (cert: string, key: string, cn: string) => {
      await run('openssl', [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-days',
        '1',
        '-subj',
        `/CN=${cn}`,
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-keyout',
        key,
        '-out',
        cert,
      ]);
    };

    /** The certificate the server presents on a new connection, checked against `ca`. */
    const served = (ca: Buffer) =>
      new Promise<{ fingerprint: string; status: number; body: string }>((resolve, reject) => {
        const req = https.get(`${server.url}/healthz`, { ca, agent: false }, (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (body += c));
          res.on('end', () => {
            const socket = res.socket as TLSSocket;
            resolve({
              fingerprint: socket.getPeerCertificate().fingerprint256,
              status: res.statusCode ?? 0,
              body,
            });
          });
        });
        req.on('error', reject);
      });

    before(async () => {
      const dir = join(work.dir, 'tls');
      mkdirSync(dir);
      certFile = join(dir, 'tls.crt');
      keyFile = join(dir, 'tls.key');
      await generate(certFile, keyFile, 'provgate first');
      server = await startProvgate({
        config: writeConfig(work.dir, { server: { tls: { certFile, keyFile } } }, 'tls.yaml'),
      });
    });
    after(() => server?.stop());

    it('serves HTTPS with the configured certificate', async () => {
      assert.match(server.url, /^https:\/\/127\.0\.0\.1:\d+$/);
      const cert = readFileSync(certFile);
      const r = await served(cert);
      assert.equal(r.status, 200);
      assert.deepEqual(JSON.parse(r.body), { status: 'ok' });
      assert.equal(r.fingerprint, new X509Certificate(cert).fingerprint256);
    });

    it('picks up replaced certificate files without a restart', async () => {
      const dir = join(work.dir, 'tls-next');
      mkdirSync(dir);
      await generate(join(dir, 'tls.crt'), join(dir, 'tls.key'), 'provgate second');
      const cert = readFileSync(join(dir, 'tls.crt'));
      writeFileSync(keyFile, readFileSync(join(dir, 'tls.key')));
      writeFileSync(certFile, cert);
      const expected = new X509Certificate(cert).fingerprint256;
      const r = await until('the new certificate to be served', async () => {
        try {
          const got = await served(cert);
          return got.fingerprint === expected ? got : undefined;
        } catch {
          return undefined; // still the old certificate: not signed by the new "CA"
        }
      });
      assert.equal(r.status, 200);
      await server.waitForLog((l) => l.event === 'tls.reloaded');
    });

    it('picks up certificates rotated again and again by atomic renames, as a mounted Secret is', async () => {
      // kubelet updates a Secret volume by swapping a symlink to a new folder;
      // cert-manager renews long after the first rotation. Each rotation here
      // renames new files over the configured paths: fs.watch sees the first
      // (its inode goes away), only the poll (10 s) sees the next.
      for (const round of ['third', 'fourth']) {
        const dir = join(work.dir, `tls-${round}`);
        mkdirSync(dir);
        await generate(join(dir, 'tls.crt'), join(dir, 'tls.key'), `provgate ${round}`);
        const cert = readFileSync(join(dir, 'tls.crt'));
        renameSync(join(dir, 'tls.key'), keyFile);
        renameSync(join(dir, 'tls.crt'), certFile);
        const expected = new X509Certificate(cert).fingerprint256;
        await until(
          `the ${round} certificate to be served`,
          async () => {
            try {
              return (await served(cert)).fingerprint === expected ? true : undefined;
            } catch {
              return undefined;
            }
          },
          15_000,
        );
      }
    });
  });
});
