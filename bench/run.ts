// npm run bench [-- --quick] [verify|policy|http|registry ...]
// Runs the benchmarks one after another, each in a process of its own, prints
// their Markdown as it comes and writes bench/RESULTS.md: the command, the
// date, the machine, the load average at the start (and at the start of each
// benchmark), and every table. --quick (or BENCH_QUICK=1) is a smoke run that
// only proves the scripts work.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadAverage, machineFacts, sectionPreamble } from './support/machine.ts';
import { QUICK } from './support/options.ts';
import { ROOT } from './support/process.ts';

const ALL = ['verify', 'workers', 'policy', 'http', 'registry'] as const;
type Name = (typeof ALL)[number];
const RESULTS = join(ROOT, 'bench/RESULTS.md');
/** Each benchmark stops itself well before this; it is the backstop. */
const TIMEOUT_MS = (QUICK ? 5 : 20) * 60_000;

function selected(): Name[] {
  const names = process.argv.slice(2).filter((a) => !a.startsWith('--'));
  for (const n of names) {
    if (!(ALL as readonly string[]).includes(n)) {
      throw new Error(`unknown benchmark ${n} (known: ${ALL.join(', ')})`);
    }
  }
  return names.length === 0 ? [...ALL] : (names as Name[]);
}

/** Runs bench/<name>.bench.ts; resolves with its stdout (Markdown), echoed as it comes. */
function runBench(name: Name): Promise<{ markdown: string; ok: boolean; seconds: number }> {
  const t0 = performance.now();
  const env: NodeJS.ProcessEnv = { ...process.env, ...(QUICK ? { BENCH_QUICK: '1' } : {}) };
  // The verification benchmark predates --quick: fewer runs is its quick mode.
  if ((name === 'verify' || name === 'workers') && QUICK) env.BENCH_RUNS = '200';
  const child = spawn(process.execPath, [join(ROOT, `bench/${name}.bench.ts`)], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let markdown = '';
  child.stdout.on('data', (chunk: Buffer) => {
    markdown += chunk.toString('utf8');
    process.stdout.write(chunk);
  });
  const timer = setTimeout(() => {
    process.stderr.write(`[bench] ${name} ran past ${TIMEOUT_MS / 60_000} min: stopping it\n`);
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
  }, TIMEOUT_MS);
  return new Promise((resolve) => {
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      const seconds = (performance.now() - t0) / 1000;
      const ok = code === 0;
      if (!ok) markdown += `\n**${name} failed (${code ?? signal}); see its stderr.**\n`;
      resolve({ markdown, ok, seconds });
    });
  });
}

async function main(): Promise<number> {
  const names = selected();
  const m = machineFacts();
  const started = new Date();
  const args = process.argv.slice(2);
  const busy = Number(loadAverage().split(',')[0]) > Number(m.nproc) / 4;
  const header = [
    '# provgate benchmark results',
    '',
    `- Command: \`npm run bench${args.length > 0 ? ` -- ${args.join(' ')}` : ''}\` (\`node bench/run.ts${args.length > 0 ? ` ${args.join(' ')}` : ''}\`)`,
    `- Date: ${started.toISOString()}`,
    `- Machine: ${m.nproc} CPUs (\`nproc\`), ${m.cpuModel}, ${m.memory} RAM, ${m.kernel}`,
    `- Node: ${m.node}`,
    `- Load average at start (1, 5, 15 min): ${loadAverage()}`,
    ...(busy
      ? [
          '',
          '> The machine was not idle at the start: throughput and tail latencies are lower bounds. CPU time per request (from /proc) is the figure load disturbs least.',
        ]
      : []),
    ...(QUICK ? ['', '> Quick run (--quick): short runs that only prove the scripts work.'] : []),
    '',
    'Each benchmark runs in a process of its own; every server it starts (provgate, OPA, the registry) listens on 127.0.0.1 and is stopped at its end.',
    '',
  ].join('\n');
  process.stdout.write(header + '\n');
  const sections: string[] = [];
  let failed = 0;
  for (const name of names) {
    process.stderr.write(`[bench] ${name}\n`);
    let prefix = '';
    if (name === 'verify') {
      prefix = `## Verification (\`npm run bench:verify\`)\n\n${sectionPreamble()}\n\n`;
      process.stdout.write(prefix);
    }
    if (name === 'workers') {
      prefix = `## Verification off the event loop? (\`npm run bench:workers\`)\n\n${sectionPreamble()}\n\n`;
      process.stdout.write(prefix);
    }
    const r = await runBench(name);
    if (!r.ok) failed++;
    // A table right after a line of text needs a blank line to render everywhere.
    const markdown = r.markdown.trimEnd().replace(/^([^|\n].*)\n\|/gm, '$1\n\n|');
    sections.push(`${prefix}${markdown}\n\n_${name}: ${r.seconds.toFixed(0)} s._\n`);
    // Written after every benchmark, so a later failure keeps what was measured.
    writeFileSync(RESULTS, `${header}\n${sections.join('\n')}`);
  }
  const total = (Date.now() - started.getTime()) / 1000;
  writeFileSync(RESULTS, `${header}\n${sections.join('\n')}\nTotal: ${total.toFixed(0)} s.\n`);
  process.stderr.write(`[bench] wrote ${RESULTS} (${total.toFixed(0)} s)\n`);
  return failed === 0 ? 0 : 1;
}

process.exitCode = await main();
