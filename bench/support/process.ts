// Servers the benchmarks start: provgate (`provgate serve`, a child process so
// that it has a core of its own, as in production, and its CPU time and peak
// RSS can be read from /proc) and OPA. Each runs in its own process group and
// is stopped by stop(), by stopAll() in a benchmark's finally, and at exit
// even when a benchmark throws.
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { killGroup, stopGroup } from '../../test/support/process.ts';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface Child {
  pid: number;
  /** `http://127.0.0.1:<port>`. */
  url: string;
  port: number;
  /** User + system CPU time so far, in milliseconds. */
  cpuMs(): number;
  /** Resident set now and its peak since the process started (VmRSS, VmHWM), in bytes. */
  memory(): { rss: number; peak: number };
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
const tempDirs = new Set<string>();
process.once('exit', () => {
  for (const child of running) killGroup(child, 'SIGKILL');
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    for (const child of running) killGroup(child, 'SIGKILL');
    process.exit(130);
  });
}

/** Stops every server still running (for a benchmark's finally). */
export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((c) => stopGroup(c, 5000)));
}

/** A free loopback port (the kernel picks it; it is free again when this resolves). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** A temporary directory removed at exit. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `provgate-bench-${prefix}-`));
  tempDirs.add(dir);
  return dir;
}

/**
 * `provgate serve --config <yaml>` on a free loopback port, ready when
 * /readyz answers 200. Its stdout (the decision log, one JSON line per
 * decision) goes to /dev/null; stderr is kept to explain a failed start.
 */
export async function startProvgate(configYaml: string): Promise<Child> {
  const dir = tempDir('serve');
  const config = join(dir, 'provgate.yaml');
  writeFileSync(config, configYaml);
  const port = await freePort();
  const child = spawnGroup(
    process.execPath,
    [join(ROOT, 'bin/provgate.js'), 'serve', '--config', config, '--port', String(port)],
    ['ignore', 'ignore', 'pipe'],
  );
  return ready(child, port, '/readyz', 'provgate');
}

/** The pinned OPA (scripts/tools.sh installs it when missing). */
export async function opaPath(): Promise<string> {
  const out = await new Promise<string>((resolve, reject) =>
    execFile(
      'bash',
      [join(ROOT, 'scripts/tools.sh'), '--path', 'opa'],
      { timeout: 20 * 60_000 },
      (err, stdout, stderr) =>
        err === null ? resolve(stdout) : reject(new Error(`scripts/tools.sh opa: ${stderr}`)),
    ),
  );
  return out.trim().split('\n').pop()!;
}

/** `opa version`'s version line, e.g. "1.22.3". */
export async function opaVersion(): Promise<string> {
  const out = execFileSync(await opaPath(), ['version'], { encoding: 'utf8', timeout: 10_000 });
  return /^Version:\s*(\S+)/m.exec(out)?.[1] ?? 'unknown';
}

/** `opa run --server` with `bundleDir` as a bundle, on a free loopback port. */
export async function startOpa(bundleDir: string): Promise<Child> {
  const opa = await opaPath();
  const port = await freePort();
  const child = spawnGroup(
    opa,
    [
      'run',
      '--server',
      '--skip-version-check',
      '--log-level',
      'error',
      '--addr',
      `127.0.0.1:${port}`,
      '--bundle',
      bundleDir,
    ],
    ['ignore', 'ignore', 'pipe'],
  );
  return ready(child, port, '/health', 'opa');
}

function spawnGroup(
  bin: string,
  args: string[],
  stdio: ['ignore', 'ignore', 'pipe'],
): ChildProcess {
  const child = spawn(bin, args, { cwd: ROOT, detached: true, stdio });
  running.add(child);
  child.once('exit', () => running.delete(child));
  return child;
}

async function ready(
  child: ChildProcess,
  port: number,
  path: string,
  what: string,
): Promise<Child> {
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-8192);
  });
  let exited: string | undefined;
  child.once('exit', (code, signal) => {
    exited = String(code ?? signal);
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (exited !== undefined)
      throw new Error(`${what} exited (${exited}) before it was ready:\n${stderr}`);
    try {
      const res = await fetch(url + path, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (res.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stopGroup(child, 5000);
      throw new Error(`${what} was not ready on ${url}${path} within 60 s:\n${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const pid = child.pid!;
  return {
    pid,
    url,
    port,
    cpuMs: () => cpuMsOf(pid),
    memory: () => memoryOf(pid),
    stop: () => stopGroup(child, 5000),
  };
}

/** Clock ticks per second, the unit of /proc/<pid>/stat times. */
const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** utime + stime of a process, from /proc/<pid>/stat. */
export function cpuMsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which is in parentheses and may hold spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1000) / CLOCK_TICKS;
}

export function memoryOf(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string) =>
    Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: kb('VmRSS') * 1024, peak: kb('VmHWM') * 1024 };
}
