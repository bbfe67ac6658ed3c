// OpenAPI 3.1 description of every endpoint (served at /openapi.json). Its
// schemas are JSON Schema 2020-12; a test validates real responses against them.

const error = {
  type: 'object',
  required: ['error'],
  additionalProperties: false,
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      additionalProperties: false,
      properties: { code: { type: 'string' }, message: { type: 'string' } },
    },
  },
};

const decision = {
  type: 'object',
  required: [
    'allowed',
    'decisionId',
    'mode',
    'reasons',
    'warnings',
    'attestations',
    'policyRevision',
  ],
  additionalProperties: false,
  properties: {
    allowed: {
      type: 'boolean',
      description:
        'What the caller should do (in warn and audit mode, true even when the policy denied).',
    },
    decisionId: { type: 'string' },
    mode: { enum: ['enforce', 'warn', 'audit'] },
    reasons: {
      type: 'array',
      items: { type: 'string' },
      description: 'Why it was denied; empty when allowed.',
    },
    warnings: { type: 'array', items: { type: 'string' } },
    attestations: {
      type: 'array',
      items: {
        type: 'object',
        required: ['artifact', 'source', 'verified'],
        additionalProperties: false,
        properties: {
          artifact: { type: 'string' },
          source: { type: 'string' },
          verified: { type: 'boolean' },
          predicateType: { type: 'string' },
          error: {
            type: 'object',
            required: ['code', 'message'],
            additionalProperties: false,
            properties: { code: { type: 'string' }, message: { type: 'string' } },
          },
        },
      },
    },
    policyRevision: { type: 'string' },
  },
};

const artifact = {
  type: 'object',
  required: ['name', 'digest'],
  properties: {
    name: { type: 'string', description: 'Package URL, image repository or file name.' },
    version: { type: 'string' },
    uri: { type: 'string' },
    digest: {
      type: 'object',
      minProperties: 1,
      additionalProperties: false,
      properties: {
        sha256: { type: 'string', pattern: '^[0-9a-fA-F]{64}$' },
        sha512: { type: 'string', pattern: '^[0-9a-fA-F]{128}$' },
      },
    },
  },
};

const admitRequest = {
  type: 'object',
  required: ['artifact', 'attestations'],
  properties: {
    artifact: { $ref: '#/components/schemas/Artifact' },
    attestations: {
      type: 'array',
      description: 'Sigstore bundles, npm attestations documents or DSSE envelopes.',
      items: { type: 'object' },
    },
    context: { type: 'object', description: 'Free-form facts for the policy.' },
  },
};

const admissionReview = {
  type: 'object',
  required: ['apiVersion', 'kind'],
  properties: {
    apiVersion: { const: 'admission.k8s.io/v1' },
    kind: { const: 'AdmissionReview' },
    request: { type: 'object' },
    response: {
      type: 'object',
      required: ['uid', 'allowed'],
      properties: {
        uid: { type: 'string' },
        allowed: { type: 'boolean' },
        status: {
          type: 'object',
          properties: { code: { type: 'integer' }, message: { type: 'string' } },
        },
        warnings: { type: 'array', items: { type: 'string' } },
        auditAnnotations: { type: 'object', additionalProperties: { type: 'string' } },
        patchType: { const: 'JSONPatch' },
        patch: { type: 'string' },
      },
    },
  },
};

const json = (schema: string) => ({
  'application/json': { schema: { $ref: `#/components/schemas/${schema}` } },
});
const errors = {
  '400': { description: 'Malformed request', content: json('Error') },
  '401': { description: 'Missing or rejected credentials', content: json('Error') },
  '404': { description: 'Endpoint disabled', content: json('Error') },
  '413': { description: 'Body or artifact too large', content: json('Error') },
  '415': { description: 'Unsupported content type', content: json('Error') },
};

export const OPENAPI = {
  openapi: '3.1.0',
  info: {
    title: 'provgate',
    version: '0.1.0',
    description:
      'Admission gate: verifies artifact provenance and decides with Rego policies compiled to WebAssembly.',
  },
  paths: {
    '/v1/admit': {
      post: {
        summary: 'Decide on one artifact and the attestations sent with it',
        requestBody: { required: true, content: json('AdmitRequest') },
        responses: {
          '200': { description: 'A decision (allowed true or false)', content: json('Decision') },
          ...errors,
        },
      },
    },
    '/v1/upload': {
      post: {
        summary: "A package repository's upload hook",
        description:
          'JSON as /v1/admit, or multipart/form-data with `artifact` (streamed and hashed) and `provenance`/`attestations` files, optional `name`, `version`, `context` fields. Bearer token or client certificate as configured. With statusStyle http a denial is 403.',
        requestBody: {
          required: true,
          content: {
            ...json('AdmitRequest'),
            'multipart/form-data': {
              schema: {
                type: 'object',
                required: ['artifact'],
                properties: {
                  artifact: { type: 'string', format: 'binary' },
                  provenance: { type: 'string', format: 'binary' },
                  attestations: { type: 'string', format: 'binary' },
                  name: { type: 'string' },
                  version: { type: 'string' },
                  context: { type: 'string', description: 'JSON object' },
                },
              },
            },
          },
        },
        responses: {
          '200': { description: 'A decision', content: json('Decision') },
          '403': { description: 'Denied (statusStyle http)', content: json('Decision') },
          ...errors,
        },
      },
    },
    '/v1/k8s/validate': {
      post: {
        summary: 'Kubernetes validating admission webhook (AdmissionReview admission.k8s.io/v1)',
        requestBody: { required: true, content: json('AdmissionReview') },
        responses: {
          '200': { description: 'AdmissionReview with response', content: json('AdmissionReview') },
          ...errors,
        },
      },
    },
    '/healthz': {
      get: {
        summary: 'The process is alive',
        responses: { '200': { description: 'ok', content: json('Health') } },
      },
    },
    '/readyz': {
      get: {
        summary: 'Trust material and policy are loaded',
        responses: {
          '200': { description: 'ready', content: json('Ready') },
          '503': { description: 'not ready', content: json('Ready') },
        },
      },
    },
    '/metrics': {
      get: {
        summary: 'Prometheus metrics',
        responses: {
          '200': { description: 'text exposition format', content: { 'text/plain': {} } },
        },
      },
    },
    '/openapi.json': {
      get: {
        summary: 'This document',
        responses: { '200': { description: 'OpenAPI 3.1', content: { 'application/json': {} } } },
      },
    },
  },
  components: {
    schemas: {
      Error: error,
      Decision: decision,
      Artifact: artifact,
      AdmitRequest: admitRequest,
      AdmissionReview: admissionReview,
      Health: { type: 'object', required: ['status'], properties: { status: { const: 'ok' } } },
      Ready: {
        type: 'object',
        required: ['ready', 'reasons'],
        properties: {
          ready: { type: 'boolean' },
          reasons: { type: 'array', items: { type: 'string' } },
        },
      },
    },
  },
} as const;
