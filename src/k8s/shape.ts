// Reading known paths of decoded JSON without trusting it. Only own properties
// are read, so keys such as `constructor` or `__proto__` in attacker JSON are
// plain data, and nothing here recurses into user data.

import { AdmissionError } from './error.ts';

export type JsonObject = Readonly<Record<string, unknown>>;

export function isObject(x: unknown): x is JsonObject {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** `obj[key]` if it is the object's own property, else undefined. */
export function own(obj: JsonObject, key: string): unknown {
  return Object.hasOwn(obj, key) ? obj[key] : undefined;
}

export function invalid(path: string, reason: string): AdmissionError {
  return new AdmissionError('ADMISSION_REVIEW_INVALID', `${path} ${reason}`);
}

/** A required object at `path`. */
export function objectAt(obj: JsonObject, key: string, path: string): JsonObject {
  const v = own(obj, key);
  if (!isObject(v)) throw invalid(path, 'must be an object');
  return v;
}

/** A required non-empty string of at most `max` characters. */
export function stringAt(obj: JsonObject, key: string, path: string, max: number): string {
  const v = own(obj, key);
  if (typeof v !== 'string' || v === '') throw invalid(path, 'must be a non-empty string');
  if (v.length > max) throw invalid(path, `must be at most ${max} characters`);
  return v;
}

/**
 * An optional string: absent, null and '' give undefined (Go's omitempty and
 * an explicit zero value mean the same).
 */
export function optionalStringAt(
  obj: JsonObject,
  key: string,
  path: string,
  max: number,
): string | undefined {
  const v = own(obj, key);
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') throw invalid(path, 'must be a string');
  if (v.length > max) throw invalid(path, `must be at most ${max} characters`);
  return v;
}

/** An optional array: absent and null give an empty array. */
export function optionalArrayAt(obj: JsonObject, key: string, path: string): readonly unknown[] {
  const v = own(obj, key);
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw invalid(path, 'must be an array');
  return v;
}
