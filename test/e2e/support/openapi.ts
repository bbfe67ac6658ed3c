// Checks real responses against the OpenAPI document the server itself serves
// at /openapi.json.
import assert from 'node:assert/strict';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { json } from './serve.ts';

export type SchemaCheck = (schema: string, body: unknown) => void;

/** Fetches `<url>/openapi.json`; the returned function asserts that a body matches a component schema. */
export async function servedSchemas(url: string): Promise<SchemaCheck> {
  const doc = await json<Record<string, unknown>>(await fetch(`${url}/openapi.json`));
  const ajv = new Ajv2020({ strict: false });
  ajv.addSchema({ ...doc, $id: 'openapi' });
  return (schema, body) => {
    const validate = ajv.getSchema(`openapi#/components/schemas/${schema}`);
    assert.ok(validate, `/openapi.json has no schema ${schema}`);
    assert.ok(
      validate(body),
      `response does not match ${schema}: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(body)}`,
    );
  };
}
