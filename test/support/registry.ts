// Real OCI registries and clients for integration tests, on loopback only:
//   - go-containerregistry's in-memory registry, with the OCI 1.1 referrers
//     API on (see startCraneRegistry);
//   - the CNCF distribution registry (v3), which does not (404), so clients
//     fall back to the referrers tag schema;
//   - crane, oras and cosign to populate them, as users do.
// Tools are the project's pinned ones in .tools/bin, installed on first use
// by scripts/tools.sh (a one-time `go install`, cached afterwards).
// Each registry runs in its own process group, is waited for until it
// answers /v2/, and is killed with its group by stop() (and at exit).
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { killGroup, stopGroup } from './process.ts';

const execFileAsync = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TOOLS_SCRIPT = join(ROOT, 'scripts/tools.sh');

export type Tool = 'crane' | 'oras' | 'cosign';

export interface RunningRegistry {
  /** `127.0.0.1:<port>`. */
  host: string;
  kind: 'crane' | 'plain';
  stop(): Promise<void>;
}

const toolPaths = new Map<Tool, Promise<string>>();

/** The pinned tool's path, installed by scripts/tools.sh if it is missing. */
export function toolPath(tool: Tool): Promise<string> {
  let path = toolPaths.get(tool);
  if (path === undefined) {
    path = new Promise<string>((resolve, reject) => {
      execFile(
        'bash',
        [TOOLS_SCRIPT, '--path', tool],
        { timeout: 20 * 60_000, maxBuffer: 16 * 1024 * 1024 },
        (err, stdout, stderr) => {
          if (err !== null) {
            reject(new Error(`scripts/tools.sh ${tool} failed: ${err.message}\n${stderr}`));
            return;
          }
          resolve(stdout.trim().split('\n').pop()!);
        },
      );
    });
    toolPaths.set(tool, path);
  }
  return path;
}

export interface RunOptions {
  env?: Record<string, string>;
  cwd?: string;
  timeoutMs?: number;
}

/**
 * `cosign attest --key <keyFile>` with the SLSA v1 predicate in
 * `<cwd>/predicate.json`, no transparency log, to a loopback registry.
 */
export function cosignAttest(ref: string, keyFile: string, options: RunOptions): Promise<string> {
  return runTool(
    'cosign',
    [
      'attest',
      '--key',
      keyFile,
      '--type',
      'slsaprovenance1',
      '--predicate',
      'predicate.json',
      '--tlog-upload=false',
      '--yes',
      '--allow-insecure-registry',
      '--allow-http-registry',
      ref,
    ],
    options,
  );
}

/** Runs a pinned tool; resolves with stdout, rejects with its stderr. */
export async function runTool(
  tool: Tool,
  args: string[],
  options: RunOptions = {},
): Promise<string> {
  const bin = await toolPath(tool);
  return new Promise((resolve, reject) => {
    execFile(
      bin,
      args,
      {
        cwd: options.cwd,
        timeout: options.timeoutMs ?? 120_000,
        maxBuffer: 16 * 1024 * 1024,
        env: { ...process.env, ...options.env },
      },
      (err, stdout, stderr) => {
        if (err !== null) {
          reject(new Error(`${tool} ${args.join(' ')} failed: ${err.message}\n${stderr}`));
          return;
        }
        resolve(stdout);
      },
    );
  });
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) killGroup(child, 'SIGKILL');
});

/**
 * go-containerregistry's in-memory registry with its referrers API on: a
 * three-line Go wrapper (./referrers-registry), because `crane registry serve`
 * does not switch the API on. Built into .tools/bin on first use.
 */
export async function startCraneRegistry(): Promise<RunningRegistry> {
  const bin = await referrersRegistryPath();
  const child = spawnGroup(bin, ['-address', '127.0.0.1:0']);
  const port = await portFromLog(child, /serving on port ([0-9]+)/, 'referrers registry');
  return ready(child, `127.0.0.1:${port}`, 'crane');
}

let referrersRegistry: Promise<string> | undefined;

/** Builds ./referrers-registry (pinned by its go.mod/go.sum) when the binary is missing or older than its source. */
function referrersRegistryPath(): Promise<string> {
  referrersRegistry ??= (async () => {
    const src = join(ROOT, 'test/support/referrers-registry');
    const out = join(ROOT, '.tools/bin/referrers-registry');
    const built = await stat(out).then(
      (s) => s.mtimeMs,
      () => 0,
    );
    const sources = await Promise.all(
      ['main.go', 'go.mod', 'go.sum'].map((f) => stat(join(src, f)).then((s) => s.mtimeMs)),
    );
    if (built > Math.max(...sources)) return out;
    const go = process.env.GO ?? (await findGo());
    await new Promise<void>((resolve, reject) =>
      execFile(
        go,
        ['build', '-trimpath', '-mod=readonly', '-o', out, '.'],
        {
          cwd: src,
          timeout: 10 * 60_000,
          env: { ...process.env, GOTOOLCHAIN: 'local', CGO_ENABLED: '0' },
        },
        (err, _stdout, stderr) =>
          err === null
            ? resolve()
            : reject(new Error(`building ${src} failed: ${err.message}\n${stderr}`)),
      ),
    );
    return out;
  })();
  return referrersRegistry;
}

async function findGo(): Promise<string> {
  for (const candidate of ['go', '/usr/local/go/bin/go']) {
    const ok = await new Promise<boolean>((resolve) =>
      execFile(candidate, ['version'], (err) => resolve(err === null)),
    );
    if (ok) return candidate;
  }
  throw new Error('Go is needed to build the test registry: install Go or set GO=/path/to/go');
}

/**
 * A registry without the referrers API (404 on /referrers/), so clients fall
 * back to the referrers tag schema: the same go-containerregistry registry with
 * the API off. (The CNCF distribution registry would do too, but building it
 * costs minutes on a fresh machine for no extra coverage of provgate.)
 */
export async function startRegistryWithoutReferrers(): Promise<RunningRegistry> {
  const bin = await referrersRegistryPath();
  const child = spawnGroup(bin, ['-address', '127.0.0.1:0', '-referrers=false']);
  const port = await portFromLog(child, /serving on port ([0-9]+)/, 'registry without referrers');
  return ready(child, `127.0.0.1:${port}`, 'plain');
}

function spawnGroup(bin: string, args: string[]): ChildProcess {
  // detached: its own process group, so stop() ends it and anything it started.
  const child = spawn(bin, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  child.once('exit', () => running.delete(child));
  return child;
}

function portFromLog(child: ChildProcess, pattern: RegExp, what: string): Promise<number> {
  return new Promise((resolve, reject) => {
    let log = '';
    const timer = setTimeout(() => {
      killGroup(child, 'SIGKILL');
      reject(new Error(`${what} did not report its port within 15 s:\n${log}`));
    }, 15_000);
    let found = false;
    // The pipes are drained for the registry's whole life (a full pipe would
    // block it), but only read until the port shows up.
    const onData = (chunk: Buffer) => {
      if (found) return;
      log += chunk.toString('utf8');
      const m = pattern.exec(log);
      if (m !== null) {
        found = true;
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited (${code ?? signal}) before serving:\n${log}`));
    });
  });
}

async function ready(
  child: ChildProcess,
  host: string,
  kind: RunningRegistry['kind'],
): Promise<RunningRegistry> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      const res = await fetch(`http://${host}/v2/`, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (res.status === 200 || res.status === 401) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      killGroup(child, 'SIGKILL');
      throw new Error(`${kind} registry on ${host} did not answer /v2/ within 15 s`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { host, kind, stop: () => stopGroup(child) };
}

/**
 * Pushes a one-layer image (`crane append` on an empty OCI base) whose layer
 * holds one file with `content`; resolves with the manifest digest.
 */
export async function pushImage(ref: string, content: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'provgate-image-'));
  try {
    await writeFile(join(dir, 'hello.txt'), content);
    const layer = join(dir, 'layer.tar');
    await execFileAsync('tar', ['-cf', layer, '-C', dir, 'hello.txt']);
    const out = await runTool('crane', [
      'append',
      '--insecure',
      '--oci-empty-base',
      '-f',
      layer,
      '-t',
      ref,
    ]);
    return digestOf(out);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The `sha256:...` digest in a tool's output (`host/repo@sha256:...`). */
export function digestOf(output: string): string {
  const m = /sha256:[a-f0-9]{64}/.exec(output);
  if (m === null) throw new Error(`no digest in ${JSON.stringify(output)}`);
  return m[0];
}
