// The pinned OPA (installed by scripts/tools.sh, like every other caller) and
// the policy bundle's files, for the policy tests.
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import type { LoadedPolicy } from '@open-policy-agent/opa-wasm';
import tar from 'tar-stream';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const POLICIES = join(ROOT, 'policies');

/** A fresh machine builds OPA from source first: minutes, not seconds. */
export const INSTALL_TIMEOUT_MS = 30 * 60 * 1000;

const execFileAsync = promisify(execFile);

/** Runs a command from the repository root; rejects with its stderr when it fails. */
export async function run(
  file: string,
  args: string[],
  options: { input?: string; timeoutMs?: number } = {},
): Promise<string> {
  const child = execFileAsync(file, args, {
    cwd: ROOT,
    maxBuffer: 64 * 1024 * 1024,
    timeout: options.timeoutMs ?? 120_000,
  });
  if (options.input !== undefined) child.child.stdin?.end(options.input);
  try {
    const { stdout } = await child;
    return stdout;
  } catch (err) {
    const { stderr } = err as { stderr?: string };
    throw new Error(`${file} ${args.join(' ')} failed: ${stderr ?? String(err)}`, {
      cause: err,
    });
  }
}

/** Installs the pinned OPA when it is missing; returns its path. */
export async function installOpa(): Promise<string> {
  const out = await run('bash', [join(ROOT, 'scripts', 'tools.sh'), '--path', 'opa'], {
    timeoutMs: INSTALL_TIMEOUT_MS,
  });
  return out.trim();
}

/** A bundle's files by path, without the leading slash. */
export async function readBundle(gzipped: Uint8Array): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  const extract = tar.extract();
  extract.end(gunzipSync(gzipped));
  for await (const entry of extract) {
    const chunks: Buffer[] = [];
    for await (const chunk of entry) chunks.push(chunk as Buffer);
    files.set(entry.header.name.replace(/^\/+/, ''), Buffer.concat(chunks));
  }
  return files;
}

interface PolicyInternals {
  mem: { buffer: ArrayBuffer };
  wasmInstance: { exports: { builtins(): number; opa_json_dump(addr: number): number } };
}

/** The builtins a compiled policy imports from its host: its `builtins` export (OPA's Wasm ABI). */
export function importedBuiltins(policy: LoadedPolicy): string[] {
  const { mem, wasmInstance } = policy as unknown as PolicyInternals;
  const addr = wasmInstance.exports.opa_json_dump(wasmInstance.exports.builtins());
  const bytes = new Uint8Array(mem.buffer);
  const json = new TextDecoder().decode(bytes.subarray(addr, bytes.indexOf(0, addr)));
  return Object.keys(JSON.parse(json) as Record<string, number>).sort();
}
