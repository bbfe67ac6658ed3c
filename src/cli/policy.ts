// `provgate policy`: the policy author's loop. build and test run the pinned
// OPA CLI (installed by scripts/tools.sh); eval runs a bundle on an input with
// provgate's own engine, exactly as the server would.
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  createEngine,
  loadBundleFromPath,
  DEFAULT_POLICY_BUNDLE,
  PolicyError,
} from '../policy/index.ts';
import { CLI_EVALUATION_BUDGET_MS } from './check.ts';
import { UsageError, type CommandResult, type Io } from './io.ts';

export const POLICY_USAGE = `usage: provgate policy build [DIR] [--out FILE]     compile Rego to a wasm bundle (opa build -t wasm)
       provgate policy test [DIR]                   opa check --strict and opa test
       provgate policy eval --input FILE [--bundle FILE_OR_DIR] [--params FILE] [--now RFC3339]
                                                    evaluate provgate/decision with provgate's engine

DIR defaults to policies/src. build and test install the pinned OPA into .tools/ when missing.`;

const SCRIPT = fileURLToPath(new URL('../../scripts/policy.sh', import.meta.url));

export async function policyCommand(argv: string[], io: Io): Promise<CommandResult> {
  const [sub, ...rest] = argv;
  switch (sub) {
    case 'build':
    case 'test': {
      const { values, positionals } = parse(rest, sub === 'build' ? ['out'] : []);
      if (values.help === true) throw new UsageError(POLICY_USAGE, 0);
      if (positionals.length > 1)
        throw new UsageError(`give at most one DIR, got ${positionals.length}\n${POLICY_USAGE}`);
      const dir = positionals[0];
      if (dir !== undefined && !isDirectory(dir))
        throw new UsageError(`${dir} is not a directory of Rego files\n${POLICY_USAGE}`);
      const args = [SCRIPT, sub];
      // Another directory builds to ./bundle.tar.gz unless --out says otherwise,
      // never over the default bundle.
      if (sub === 'build') {
        const out =
          typeof values.out === 'string'
            ? values.out
            : dir === undefined
              ? undefined
              : 'bundle.tar.gz';
        if (out !== undefined) args.push('--out', out);
      }
      const env = {
        ...process.env,
        ...(dir === undefined ? {} : { POLICY_SRC: dir, POLICY_COVERAGE: '0' }),
      };
      const r = spawnSync('bash', args, { stdio: 'inherit', env });
      return r.status === 0 ? 0 : r.status === 2 ? 2 : 1;
    }
    case 'eval':
      return evalCommand(rest, io);
    case '--help':
    case '-h':
      throw new UsageError(POLICY_USAGE, 0);
    default:
      throw new UsageError(`unknown policy command ${JSON.stringify(sub ?? '')}\n${POLICY_USAGE}`);
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

const OPTIONS = {
  out: { type: 'string' },
  input: { type: 'string' },
  bundle: { type: 'string' },
  params: { type: 'string' },
  now: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

function parse(argv: string[], allowed: (keyof typeof OPTIONS)[]) {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true });
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\n${POLICY_USAGE}`);
  }
  const extra = Object.keys(parsed.values).filter(
    (k) => k !== 'help' && !allowed.includes(k as keyof typeof OPTIONS),
  );
  if (extra.length > 0) throw new UsageError(`unexpected --${extra.join(', --')}\n${POLICY_USAGE}`);
  return parsed;
}

async function evalCommand(argv: string[], io: Io): Promise<CommandResult> {
  const { values } = parse(argv, ['input', 'bundle', 'params', 'now']);
  if (values.help === true) throw new UsageError(POLICY_USAGE, 0);
  if (typeof values.input !== 'string')
    throw new UsageError(`--input is required\n${POLICY_USAGE}`);
  const readJson = (path: string): unknown => {
    try {
      return JSON.parse(readFileSync(path, 'utf8'));
    } catch (err) {
      throw new UsageError(`cannot read ${path} as JSON: ${(err as Error).message}`);
    }
  };
  const input = readJson(values.input);
  const params = typeof values.params === 'string' ? readJson(values.params) : {};
  const now = typeof values.now === 'string' ? new Date(values.now) : new Date();
  if (Number.isNaN(now.getTime())) throw new UsageError('--now must be an RFC 3339 time');
  let engine;
  try {
    engine = createEngine(
      await loadBundleFromPath(
        typeof values.bundle === 'string' ? values.bundle : DEFAULT_POLICY_BUNDLE,
        { params },
      ),
      { limits: { timeBudgetMs: CLI_EVALUATION_BUDGET_MS } },
    );
  } catch (err) {
    if (err instanceof PolicyError)
      throw new UsageError(`cannot load the policy: ${err.code}: ${err.message}`);
    throw err;
  }
  const decision = engine.evaluate(input, { nowNs: BigInt(now.getTime()) * 1_000_000n });
  io.stdout(JSON.stringify(decision, null, 2));
  return decision.allow ? 0 : 1;
}
