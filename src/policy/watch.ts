// The hot-reload edge: watches the bundle path and asks the engine to reload
// when it changes. fs.watch gives prompt notice but can miss events (network
// filesystems, a ConfigMap's symlink swap), so a slow poll backs it up; both
// feed one debounced reload. A change is judged by a digest of the bytes read,
// so an unchanged bundle is not recompiled. The engine keeps the last good
// bundle serving when a candidate fails; this module logs and the engine counts.

import { createHash } from 'node:crypto';
import { statSync, watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';

import { fileSetDigest, loadBundle, type BundleSource, type LoadOptions } from './bundle.ts';
import type { PolicyEngine, ReloadOutcome } from './engine.ts';
import { describeThrown, isPolicyError } from './error.ts';
import { readBundleSource } from './load.ts';

export interface PolicyLogEvent {
  readonly level: 'info' | 'error';
  readonly event: 'policy.reloaded' | 'policy.reload_failed' | 'policy.watch_error';
  readonly message: string;
  readonly path: string;
  readonly revision?: string;
  readonly digest?: string;
  readonly code?: string;
}

export interface WatchOptions {
  /** How candidate bundles are loaded (limits, params, verification keys): as for the first one. */
  readonly load?: LoadOptions;
  /** Quiet period after the last change before reloading. Default 250 ms. */
  readonly debounceMs?: number;
  /** Poll interval as a backstop to fs.watch; 0 disables polling. Default 5000 ms. */
  readonly pollIntervalMs?: number;
  readonly logger?: (event: PolicyLogEvent) => void;
}

export interface BundleWatcher {
  /** Checks the path now (bypassing the debounce). */
  check(): Promise<ReloadOutcome>;
  close(): void;
}

export function watchBundle(
  engine: PolicyEngine,
  path: string,
  options: WatchOptions = {},
): BundleWatcher {
  const log = options.logger ?? (() => undefined);
  const debounceMs = options.debounceMs ?? 250;
  const pollIntervalMs = options.pollIntervalMs ?? 5000;
  let lastSourceDigest: string | undefined;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  const watchers: FSWatcher[] = [];

  const check = (): Promise<ReloadOutcome> =>
    engine
      .reload(async () => {
        const source = await readBundleSource(path, options.load?.limits);
        const digest = sourceDigest(source);
        // Same bytes as last time: unchanged. A bad bundle is reported once, not on every poll.
        if (digest === lastSourceDigest) return engine.bundle;
        lastSourceDigest = digest;
        return loadBundle(source, options.load);
      })
      .then((outcome) => {
        report(outcome);
        return outcome;
      });

  const report = (outcome: ReloadOutcome): void => {
    switch (outcome.status) {
      case 'activated':
        log({
          level: 'info',
          event: 'policy.reloaded',
          message: `policy bundle revision ${JSON.stringify(outcome.revision)} is active (was ${JSON.stringify(outcome.previousRevision)})`,
          path,
          revision: outcome.revision,
          digest: outcome.digest,
        });
        break;
      case 'failed':
        log({
          level: 'error',
          event: 'policy.reload_failed',
          message: `policy bundle not activated, revision ${JSON.stringify(engine.revision)} keeps serving: ${outcome.error.message}`,
          path,
          code: outcome.error.code,
          revision: engine.revision,
        });
        break;
      case 'unchanged':
        break;
    }
  };

  const schedule = (): void => {
    if (closed) return;
    if (timer !== undefined) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      void check();
    }, debounceMs);
    timer.unref();
  };

  const onWatchError = (err: unknown): void => {
    log({
      level: 'error',
      event: 'policy.watch_error',
      message: `cannot watch the policy bundle: ${describeThrown(err)}`,
      path,
      ...(isPolicyError(err) ? { code: err.code } : {}),
    });
  };

  // The parent directory sees a file replaced by rename; a directory bundle is also watched recursively.
  const name = basename(path);
  tryWatch(dirname(path), false, (_event, file) => {
    if (file === null || file === name) schedule();
  });
  if (isDirectory(path)) tryWatch(path, true, () => schedule());

  function tryWatch(
    target: string,
    recursive: boolean,
    listener: (event: string, file: string | null) => void,
  ): void {
    try {
      const w = watch(target, { persistent: false, recursive }, listener);
      w.on('error', onWatchError);
      watchers.push(w);
    } catch (err) {
      onWatchError(err); // polling still covers the path
    }
  }

  const poll = pollIntervalMs > 0 ? setInterval(schedule, pollIntervalMs) : undefined;
  poll?.unref();

  return {
    check,
    close(): void {
      closed = true;
      if (timer !== undefined) clearTimeout(timer);
      if (poll !== undefined) clearInterval(poll);
      for (const w of watchers) w.close();
    },
  };
}

function sourceDigest(source: BundleSource): string {
  if (source.kind === 'files') return fileSetDigest(source.files);
  return `sha256:${createHash('sha256').update(source.bytes).digest('hex')}`;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
