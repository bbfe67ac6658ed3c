// Child processes started in their own process group (spawn with detached),
// so that stopping one also stops anything it started. Shared by the test
// registries, the e2e server harness and the benchmarks.
import type { ChildProcess } from 'node:child_process';

/** Sends `signal` to the child's whole process group; nothing if it has exited. */
export function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

/** SIGTERM to the group, SIGKILL after `graceMs`; resolves when the child has exited. */
export async function stopGroup(child: ChildProcess, graceMs = 3000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  killGroup(child, 'SIGTERM');
  const timer = setTimeout(() => killGroup(child, 'SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}
