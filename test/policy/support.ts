// Shared assertions for the policy tests.

import assert from 'node:assert/strict';

import { isPolicyError, type PolicyErrorCode } from '../../src/policy/index.ts';

export async function rejectsCode(
  promise: Promise<unknown> | (() => Promise<unknown>),
  code: PolicyErrorCode,
): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(isPolicyError(err), `expected a PolicyError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    return true;
  });
}

export function throwsCode(fn: () => unknown, code: PolicyErrorCode): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(isPolicyError(err), `expected a PolicyError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    return true;
  });
}

/** Resolves once `check` returns true, polling; fails after `timeoutMs`. */
export async function eventually(
  check: () => boolean,
  what: string,
  timeoutMs = 15000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
