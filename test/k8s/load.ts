import { readFileSync } from 'node:fs';
import assert from 'node:assert/strict';
import { AdmissionError, type AdmissionErrorCode } from '../../src/k8s/index.ts';

const DIR = new URL('./fixtures/', import.meta.url);

export type JsonObject = Record<string, unknown>;

/** A fresh parsed copy of a fixture, safe to change in a test. */
export function loadReview(name: string): JsonObject {
  return JSON.parse(readFileSync(new URL(name, DIR), 'utf8')) as JsonObject;
}

/** Marks a property to delete in `edit`. */
export const REMOVE: unique symbol = Symbol('remove');

/** The value at a dotted path (`request.object.spec.containers.0`). */
export function read(doc: unknown, path: string): unknown {
  let at: unknown = doc;
  for (const key of path.split('.')) {
    assert.ok(typeof at === 'object' && at !== null, `no ${path} in the fixture`);
    at = (at as JsonObject)[key];
  }
  return at;
}

/** Sets (or with REMOVE deletes) the value at a dotted path of a fixture copy. */
export function edit(doc: unknown, path: string, value: unknown): void {
  const keys = path.split('.');
  const last = keys.pop() ?? '';
  const parent = keys.length === 0 ? doc : read(doc, keys.join('.'));
  assert.ok(typeof parent === 'object' && parent !== null, `no parent for ${path} in the fixture`);
  if (value === REMOVE) delete (parent as JsonObject)[last];
  else (parent as JsonObject)[last] = value;
}

/** Asserts that `fn` throws an AdmissionError with `code` whose message mentions each fragment. */
export function assertAdmissionError(
  fn: () => unknown,
  code: AdmissionErrorCode,
  ...fragments: string[]
): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof AdmissionError, `expected AdmissionError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    for (const f of fragments) {
      assert.ok(err.message.includes(f), `"${err.message}" should name ${f}`);
    }
    return true;
  });
}
