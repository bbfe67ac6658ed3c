// Verification results by content: (attestation document digest, artifact
// digests, trust revision). Bounded (LRU) with a TTL; failures are never
// stored, so a transient or fixed problem is re-checked next time; identical
// work in flight is done once and shared.

export interface CacheStats {
  hits: number;
  misses: number;
  collapsed: number;
  size: number;
}

export interface CacheOptions {
  maxEntries: number;
  ttlMs: number;
  /** Injected clock, in milliseconds. */
  now: () => number;
}

export class VerificationCache<V> {
  readonly #entries = new Map<string, { value: V; expires: number }>();
  readonly #inFlight = new Map<string, Promise<V>>();
  readonly #options: CacheOptions;
  readonly stats: CacheStats = { hits: 0, misses: 0, collapsed: 0, size: 0 };

  constructor(options: CacheOptions) {
    this.#options = options;
  }

  /**
   * The cached value for `key`, or the result of `compute` (shared with any
   * identical call in flight). `compute`'s value is cached only if `cacheable`
   * says so; a rejection is never cached.
   */
  async get(key: string, compute: () => Promise<V>, cacheable: (v: V) => boolean): Promise<V> {
    const hit = this.#entries.get(key);
    if (hit !== undefined) {
      if (hit.expires > this.#options.now()) {
        // Refresh recency: Map iteration order is insertion order.
        this.#entries.delete(key);
        this.#entries.set(key, hit);
        this.stats.hits++;
        return hit.value;
      }
      this.#entries.delete(key);
    }
    const pending = this.#inFlight.get(key);
    if (pending !== undefined) {
      this.stats.collapsed++;
      return pending;
    }
    this.stats.misses++;
    const work = compute().then(
      (value) => {
        this.#inFlight.delete(key);
        if (this.#options.maxEntries > 0 && cacheable(value)) this.#store(key, value);
        return value;
      },
      (err: unknown) => {
        this.#inFlight.delete(key);
        throw err;
      },
    );
    this.#inFlight.set(key, work);
    return work;
  }

  clear(): void {
    this.#entries.clear();
    this.stats.size = 0;
  }

  #store(key: string, value: V): void {
    this.#entries.set(key, { value, expires: this.#options.now() + this.#options.ttlMs });
    while (this.#entries.size > this.#options.maxEntries) {
      const oldest = this.#entries.keys().next().value as string;
      this.#entries.delete(oldest);
    }
    this.stats.size = this.#entries.size;
  }
}
