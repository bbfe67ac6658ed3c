// Test support: the real OPA CLI, installed by the project's own script when
// missing, compiles Rego fixtures into wasm bundles at test time, and `opa
// eval` gives OPA's own answers to compare the wasm target with.

import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import tar from 'tar-stream';
import { gunzipSync, gzipSync } from 'node:zlib';

const run = promisify(execFile);

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
const OPA_VERSION = 'v1.22.3';
const OPA_PATH = join(REPO_ROOT, '.tools', 'bin', 'opa');

let opaPromise: Promise<string> | undefined;

/**
 * The pinned opa binary. scripts/tools.sh installs it when missing or of
 * another version (and serializes parallel callers); without that script,
 * `go install` the pinned version.
 */
export function opaBinary(): Promise<string> {
  opaPromise ??= (async () => {
    const script = join(REPO_ROOT, 'scripts', 'tools.sh');
    if (existsSync(script)) {
      const { stdout } = await run('bash', [script, '--path', 'opa'], {
        cwd: REPO_ROOT,
        maxBuffer: 1 << 20,
      });
      return stdout.trim() || OPA_PATH;
    }
    if (!existsSync(OPA_PATH)) {
      await run('go', ['install', `github.com/open-policy-agent/opa@${OPA_VERSION}`], {
        env: { ...process.env, GOBIN: join(REPO_ROOT, '.tools', 'bin') },
        maxBuffer: 1 << 20,
      });
    }
    return OPA_PATH;
  })();
  return opaPromise;
}

export async function opa(args: readonly string[], cwd?: string): Promise<string> {
  const bin = await opaBinary();
  try {
    const { stdout } = await run(bin, args, {
      maxBuffer: 64 << 20,
      ...(cwd === undefined ? {} : { cwd }),
    });
    return stdout;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`opa ${args.join(' ')} failed: ${e.stderr ?? e.message}`, { cause: err });
  }
}

const tempDirs: string[] = [];
after(async () => {
  await Promise.all(tempDirs.map((d) => rm(d, { recursive: true, force: true })));
});

/** A fresh temporary directory, removed when the test file ends. */
export async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'provgate-policy-'));
  tempDirs.push(dir);
  return dir;
}

export interface BuildOptions {
  readonly entrypoints?: readonly string[];
  readonly revision?: string;
  /** PEM private key file: builds in bundle mode (-b) and signs. */
  readonly signingKey?: string;
  readonly signingAlg?: string;
  readonly claims?: Record<string, unknown>;
}

/** `opa build -t wasm` of a Rego directory; returns the bundle's bytes. */
export async function buildBundle(regoDir: string, options: BuildOptions = {}): Promise<Buffer> {
  const out = join(await tempDir(), 'bundle.tar.gz');
  const args = ['build', '-t', 'wasm', '-o', out];
  for (const e of options.entrypoints ?? ['provgate/decision']) args.push('-e', e);
  if (options.revision !== undefined) args.push('-r', options.revision);
  if (options.signingKey !== undefined) {
    args.push(
      '-b',
      '--signing-key',
      options.signingKey,
      '--signing-alg',
      options.signingAlg ?? 'RS256',
    );
    if (options.claims !== undefined) {
      const claimsFile = join(await tempDir(), 'claims.json');
      await writeFile(claimsFile, JSON.stringify(options.claims));
      args.push('--claims-file', claimsFile);
    }
  }
  // Built from inside the directory, so bundle paths are relative to it.
  args.push('.');
  await opa(args, regoDir);
  return readFile(out);
}

export function fixture(name: string): string {
  return join(FIXTURES, name);
}

/** The value of `query` according to OPA's evaluator (undefined when it is undefined). */
export async function opaEval(regoDir: string, query: string, input?: unknown): Promise<unknown> {
  const args = ['eval', '-f', 'json', '-d', regoDir];
  if (input !== undefined) {
    const inputFile = join(await tempDir(), 'input.json');
    await writeFile(inputFile, JSON.stringify(input));
    args.push('-i', inputFile);
  }
  args.push(query);
  const out = JSON.parse(await opa(args)) as {
    result?: { expressions: { value: unknown }[] }[];
  };
  return out.result?.[0]?.expressions[0]?.value;
}

/** The files of a .tar.gz bundle, by path without the leading slash. */
export async function untar(bytes: Uint8Array): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  const extract = tar.extract();
  extract.end(gunzipSync(bytes));
  for await (const entry of extract) {
    const chunks: Buffer[] = [];
    for await (const chunk of entry) chunks.push(chunk as Buffer);
    files.set(entry.header.name.replace(/^\//, ''), Buffer.concat(chunks));
  }
  return files;
}

export interface TarEntry {
  readonly name: string;
  readonly content?: string | Buffer;
  readonly type?: 'file' | 'directory' | 'symlink' | 'link' | 'fifo';
  readonly linkname?: string;
}

/** A .tar.gz holding exactly these entries, in order (for hostile archives). */
export async function tarGz(entries: readonly TarEntry[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const done = (async () => {
    for await (const chunk of pack) chunks.push(chunk as Buffer);
  })();
  for (const e of entries) {
    const type = e.type ?? 'file';
    const content = Buffer.from(type === 'file' ? (e.content ?? '') : '');
    await new Promise<void>((resolve, reject) => {
      pack.entry(
        {
          name: e.name,
          type,
          ...(e.linkname === undefined ? {} : { linkname: e.linkname }),
          size: content.byteLength,
        },
        content,
        (err) => (err ? reject(err) : resolve()),
      );
    });
  }
  pack.finalize();
  await done;
  return gzipSync(Buffer.concat(chunks));
}

/** A .tar.gz of a file map (paths written with OPA's leading slash). */
export function tarGzFiles(files: ReadonlyMap<string, Uint8Array>): Promise<Buffer> {
  return tarGz(
    [...files].map(([name, content]) => ({ name: `/${name}`, content: Buffer.from(content) })),
  );
}
