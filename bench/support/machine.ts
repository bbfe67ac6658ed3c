// What a reader needs to judge the figures: the machine and how busy it was.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadavg, totalmem } from 'node:os';

export interface MachineFacts {
  nproc: string;
  cpuModel: string;
  memory: string;
  kernel: string;
  node: string;
}

export function machineFacts(): MachineFacts {
  const cpuinfo = readText('/proc/cpuinfo');
  const model = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? 'unknown';
  const flags = /^flags\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.split(/\s+/) ?? [];
  const sha = flags.includes('sha_ni') ? ', SHA-NI' : ', no SHA-NI';
  return {
    nproc: run('nproc') ?? 'unknown',
    cpuModel: model + sha,
    memory: `${(totalmem() / 2 ** 30).toFixed(1)} GiB`,
    kernel: run('uname', ['-sr']) ?? 'unknown',
    node: process.version,
  };
}

/** "1.23, 2.34, 3.45" (1, 5, 15 minutes). */
export function loadAverage(): string {
  return loadavg()
    .map((x) => x.toFixed(2))
    .join(', ');
}

/** One line for the top of a benchmark's section. */
export function sectionPreamble(): string {
  const m = machineFacts();
  return `Started ${new Date().toISOString()}; load average ${loadAverage()}; ${m.nproc} CPUs (${m.cpuModel}); Node ${m.node}.`;
}

function run(cmd: string, args: string[] = []): string | undefined {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', timeout: 5000 }).trim();
  } catch {
    return undefined;
  }
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}
