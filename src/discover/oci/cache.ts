// What discovery remembers: content addressed by digest forever (until
// evicted: bounded by entries and bytes, least recently used first), tag
// resolutions and referrer lists for a short TTL. Failures are never stored.
// Identical fetches in flight are done once: the shared work gets its own
// abort signal, aborted only when every caller waiting on it has given up,
// so one request's deadline never cuts short another's fetch.

export interface LruOptions {
  maxEntries: number;
  maxBytes: number;
  now: () => number;
}

interface Entry<V> {
  value: V;
  size: number;
  expires: number;
}

export class Lru<V> {
  readonly #entries = new Map<string, Entry<V>>();
  readonly #options: LruOptions;
  #bytes = 0;

  constructor(options: LruOptions) {
    this.#options = options;
  }

  get size(): number {
    return this.#entries.size;
  }

  get bytes(): number {
    return this.#bytes;
  }

  get(key: string): V | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expires <= this.#options.now()) {
      this.#delete(key, entry);
      return undefined;
    }
    // Map iteration order is insertion order: re-inserting marks it most recent.
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    return entry.value;
  }

  /** Stores `value` (of `size` bytes) for `ttlMs`, or forever when ttlMs is undefined. */
  set(key: string, value: V, size: number, ttlMs?: number): void {
    if (size > this.#options.maxBytes || this.#options.maxEntries <= 0) return;
    const old = this.#entries.get(key);
    if (old !== undefined) this.#delete(key, old);
    const expires = ttlMs === undefined ? Infinity : this.#options.now() + ttlMs;
    this.#entries.set(key, { value, size, expires });
    this.#bytes += size;
    for (const [k, e] of this.#entries) {
      if (this.#entries.size <= this.#options.maxEntries && this.#bytes <= this.#options.maxBytes)
        break;
      this.#delete(k, e);
    }
  }

  #delete(key: string, entry: Entry<V>): void {
    this.#entries.delete(key);
    this.#bytes -= entry.size;
  }
}

interface Flight<V> {
  promise: Promise<V>;
  controller: AbortController;
  waiting: number;
}

export class Flights {
  readonly #flights = new Map<string, Flight<unknown>>();
  collapsed = 0;

  /** Runs `work` once per key at a time; each caller waits only as long as its own signal allows. */
  run<V>(key: string, signal: AbortSignal, work: (signal: AbortSignal) => Promise<V>): Promise<V> {
    signal.throwIfAborted();
    let flight = this.#flights.get(key) as Flight<V> | undefined;
    if (flight === undefined) {
      const controller = new AbortController();
      const promise = work(controller.signal).finally(() => {
        if (this.#flights.get(key) === flight) this.#flights.delete(key);
      });
      flight = { promise, controller, waiting: 0 };
      this.#flights.set(key, flight);
    } else {
      this.collapsed++;
    }
    const joined = flight;
    joined.waiting++;
    return new Promise<V>((resolve, reject) => {
      const onAbort = () => {
        joined.waiting--;
        if (joined.waiting === 0) {
          // Nobody wants the result any more: stop the work and forget it.
          joined.controller.abort(signal.reason);
          if (this.#flights.get(key) === joined) this.#flights.delete(key);
        }
        reject(signal.reason as Error);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      joined.promise.then(
        (value) => {
          signal.removeEventListener('abort', onAbort);
          if (!signal.aborted) resolve(value);
        },
        (err: unknown) => {
          signal.removeEventListener('abort', onAbort);
          if (!signal.aborted) reject(err instanceof Error ? err : new Error(String(err)));
        },
      );
    });
  }
}
