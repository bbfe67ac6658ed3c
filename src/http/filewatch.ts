// Notices when files change: fs.watch for promptness, and a poll that compares
// contents as a backstop, because fs.watch misses changes that replace a file
// (Kubernetes updates mounted Secrets by swapping a symlink).
import { createHash } from 'node:crypto';
import { readFileSync, watch, type FSWatcher } from 'node:fs';

export interface FileWatch {
  close(): void;
}

export function watchFiles(paths: string[], onChange: () => void, pollMs = 10_000): FileWatch {
  const digest = () => {
    const h = createHash('sha256');
    for (const p of paths) {
      try {
        h.update(readFileSync(p));
      } catch {
        h.update('missing');
      }
      h.update('\0');
    }
    return h.digest('hex');
  };
  let last = digest();
  let timer: NodeJS.Timeout | undefined;
  const compare = () => {
    const now = digest();
    if (now !== last) {
      last = now;
      onChange();
    }
  };
  // fs.watch fires several events per write: settle, then compare once.
  const check = () => {
    clearTimeout(timer);
    timer = setTimeout(compare, 200);
  };
  const watchers: FSWatcher[] = [];
  for (const p of paths) {
    try {
      watchers.push(watch(p, check));
    } catch {
      // Not watchable: the poll still notices.
    }
  }
  const poll = setInterval(compare, pollMs);
  poll.unref();
  return {
    close() {
      clearTimeout(timer);
      clearInterval(poll);
      for (const w of watchers) w.close();
    },
  };
}
