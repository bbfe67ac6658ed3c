// A small pool of instances of one bundle. An instance is synchronous and
// non-reentrant: one evaluation at a time each. An instance that threw is
// discarded (its heap may be inconsistent after an abort mid-evaluation) and
// a fresh one is created on demand, without reloading the bundle.

import type { LoadedBundle } from './bundle.ts';
import { PolicyError } from './error.ts';
import { instantiate, type MemoryLimits, type PolicyInstance } from './wasm.ts';

export interface PoolCounters {
  instancesCreated: number;
  instancesDiscarded: number;
}

export class InstancePool {
  readonly #bundle: LoadedBundle;
  readonly #memory: MemoryLimits;
  readonly #size: number;
  readonly #counters: PoolCounters;
  readonly #idle: PolicyInstance[] = [];
  #live = 0;

  constructor(bundle: LoadedBundle, memory: MemoryLimits, size: number, counters: PoolCounters) {
    this.#bundle = bundle;
    this.#memory = memory;
    this.#size = Math.max(1, Math.floor(size));
    this.#counters = counters;
  }

  /** Creates the first instance now, so a bundle whose data does not fit fails at activation. */
  warm(): void {
    this.release(this.acquire());
  }

  acquire(): PolicyInstance {
    const idle = this.#idle.pop();
    if (idle !== undefined) return idle;
    if (this.#live >= this.#size) {
      throw new PolicyError('INSTANCE_FAILED', `all ${this.#size} policy instances are in use`);
    }
    const instance = instantiate(this.#bundle.module, this.#bundle.data, this.#memory);
    this.#live++;
    this.#counters.instancesCreated++;
    return instance;
  }

  release(instance: PolicyInstance): void {
    this.#idle.push(instance);
  }

  discard(_instance: PolicyInstance): void {
    this.#live--;
    this.#counters.instancesDiscarded++;
  }
}
