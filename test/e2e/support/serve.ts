// The real `provgate serve` process for end-to-end tests: bin/provgate.js run
// by this Node (the pinned one), in its own process group, on 127.0.0.1 with
// `--port 0`. Its URL is read from the `server.listening` JSON log line; every
// stdout line is kept, parsed, for the tests to inspect. stop() sends SIGTERM to
// the group and SIGKILLs it if it lingers; anything still running when the test
// process exits is killed with its group.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { killGroup } from '../../support/process.ts';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const FIXTURES = join(ROOT, 'test/fixtures');
export const DEFAULT_BUNDLE = join(ROOT, 'policies/bundle.tar.gz');

/** One JSON log line of provgate's stdout (winston JSON). */
export interface LogLine {
  level?: string;
  message?: string;
  event?: string;
  [key: string]: unknown;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface Provgate {
  /** `http://127.0.0.1:<port>` (or https). */
  url: string;
  child: ChildProcess;
  /** Every JSON line written to stdout so far. */
  logs: LogLine[];
  stderr(): string;
  /** Resolves with the first log line (past or future) that matches. */
  waitForLog(match: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  exited: Promise<Exit>;
  /** SIGTERM to the process group; resolves when it has exited 0, rejects if it needed SIGKILL or failed. */
  stop(killAfterMs?: number): Promise<Exit>;
  /** SIGKILL to the process group, if it is still running. */
  kill(): Promise<Exit>;
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) killGroup(child, 'SIGKILL');
});

/** A temporary folder removed by the returned function. */
export function tempDir(prefix: string): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `provgate-e2e-${prefix}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Writes a configuration (JSON is YAML) and returns its path. */
export function writeConfig(dir: string, config: unknown, name = 'provgate.yaml'): string {
  const path = join(dir, name);
  writeFileSync(path, typeof config === 'string' ? config : JSON.stringify(config, null, 2));
  return path;
}

function spawnServe(args: string[]): ChildProcess {
  const child = spawn(process.execPath, ['bin/provgate.js', 'serve', ...args], {
    cwd: ROOT,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  child.once('exit', () => running.delete(child));
  return child;
}

/**
 * Starts `provgate serve [--config FILE] --port 0 ...args` and resolves once it
 * logs `server.listening`; rejects with its output if it exits first.
 */
export function startProvgate(
  options: { config?: string; args?: string[]; timeoutMs?: number } = {},
): Promise<Provgate> {
  const args = [
    ...(options.config === undefined ? [] : ['--config', options.config]),
    '--port',
    '0',
    ...(options.args ?? []),
  ];
  const child = spawnServe(args);
  const logs: LogLine[] = [];
  const waiters: { match: (l: LogLine) => boolean; resolve: (l: LogLine) => void }[] = [];
  let stderr = '';
  let partial = '';
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (chunk: string) => {
    partial += chunk;
    let nl: number;
    while ((nl = partial.indexOf('\n')) !== -1) {
      const text = partial.slice(0, nl).trim();
      partial = partial.slice(nl + 1);
      if (text === '') continue;
      let line: LogLine;
      try {
        line = JSON.parse(text) as LogLine;
      } catch {
        line = { message: text, event: 'unparsed' };
      }
      logs.push(line);
      for (const w of [...waiters]) {
        if (w.match(line)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(line);
        }
      }
    }
  });
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<Exit>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );

  const waitForLog = (match: (l: LogLine) => boolean, timeoutMs = 10_000): Promise<LogLine> => {
    const seen = logs.find(match);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise<LogLine>((resolve, reject) => {
      const timer = setTimeout(() => {
        waiters.splice(waiters.indexOf(waiter), 1);
        reject(new Error(`no matching log line within ${timeoutMs} ms; logs:\n${dump()}`));
      }, timeoutMs);
      const waiter = {
        match,
        resolve: (l: LogLine) => {
          clearTimeout(timer);
          resolve(l);
        },
      };
      waiters.push(waiter);
    });
  };
  const dump = () => `${logs.map((l) => JSON.stringify(l)).join('\n')}\nstderr:\n${stderr}`;

  // A stop that needs SIGKILL, or exits other than 0, is a failure: something
  // (a watcher, a socket, a timer) keeps the process from shutting down cleanly.
  const stop = async (killAfterMs = 5000): Promise<Exit> => {
    if (child.exitCode !== null || child.signalCode !== null) return exited;
    killGroup(child, 'SIGTERM');
    let killed = false;
    const timer = setTimeout(() => {
      killed = true;
      killGroup(child, 'SIGKILL');
    }, killAfterMs);
    const exit = await exited;
    clearTimeout(timer);
    if (killed)
      throw new Error(`provgate did not exit within ${killAfterMs} ms of SIGTERM:\n${dump()}`);
    if (exit.code !== 0)
      throw new Error(`provgate exited ${exit.code ?? exit.signal} on SIGTERM:\n${dump()}`);
    return exit;
  };

  return new Promise<Provgate>((resolve, reject) => {
    const timeoutMs = options.timeoutMs ?? 20_000;
    const timer = setTimeout(() => {
      killGroup(child, 'SIGKILL');
      reject(new Error(`provgate serve did not listen within ${timeoutMs} ms:\n${dump()}`));
    }, timeoutMs);
    void exited.then((e) => {
      clearTimeout(timer);
      reject(
        new Error(`provgate serve exited (${e.code ?? e.signal}) before listening:\n${dump()}`),
      );
    });
    void waitForLog((l) => l.event === 'server.listening', timeoutMs).then((l) => {
      clearTimeout(timer);
      resolve({
        url: String(l.url),
        child,
        logs,
        stderr: () => stderr,
        waitForLog,
        exited,
        stop,
        kill: () => {
          killGroup(child, 'SIGKILL');
          return exited;
        },
      });
    }, reject);
  });
}

/** Runs `provgate serve ...args` expecting it to exit on its own (a refused configuration). */
export function runServe(
  args: string[],
  timeoutMs = 20_000,
): Promise<Exit & { stdout: string; stderr: string }> {
  const child = spawnServe(args);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  return new Promise((resolve) => {
    const timer = setTimeout(() => killGroup(child, 'SIGKILL'), timeoutMs);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** The JSON body of a response, typed by the caller. */
export async function json<T>(res: Response): Promise<T> {
  const text = await res.text();
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new Error(`not JSON (HTTP ${res.status}): ${text.slice(0, 500)}`);
  }
}

/** POSTs JSON and returns the status and the parsed body. */
export async function postJson<T>(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: T }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await json<T>(res) };
}

/** A metric sample's value from Prometheus text, or undefined. */
export function metric(
  text: string,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (.+)$/.exec(line);
    if (m === null || m[1] !== name) continue;
    const got = new Map<string, string>();
    for (const [, k, v] of (m[2] ?? '').matchAll(/([a-zA-Z_]+)="((?:[^"\\]|\\.)*)"/g))
      got.set(k!, v!);
    if (Object.entries(labels).every(([k, v]) => got.get(k) === v)) return Number(m[3]);
  }
  return undefined;
}
