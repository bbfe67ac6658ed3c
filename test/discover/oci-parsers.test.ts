// The pure parts of registry discovery, each fed hostile input: references,
// WWW-Authenticate challenges, Docker config.json, manifests, Retry-After and
// cosign's layer annotations. Property tests: whatever the input, only a
// DiscoveryError ever escapes a parser.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { DiscoveryError, type DiscoveryErrorCode } from '../../src/discover/index.ts';
import { forbiddenAddress } from '../../src/discover/oci/address.ts';
import { parseChallenge, parseDockerConfig } from '../../src/discover/oci/auth.ts';
import { retryAfterMs } from '../../src/discover/oci/client.ts';
import { cosignAttestationDocument } from '../../src/discover/oci/cosign.ts';
import { parseManifest } from '../../src/discover/oci/manifest.ts';
import { normalizeMediaType } from '../../src/discover/oci/media.ts';
import { parseReference } from '../../src/discover/oci/reference.ts';
import { imageManifest, sha256 } from './fake-registry.ts';

const DIGEST = sha256('x');

function throwsCode(fn: () => unknown, code: DiscoveryErrorCode): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof DiscoveryError, String(err));
    assert.equal(err.code, code, err.message);
    return true;
  });
}

/** Only DiscoveryError may escape. */
function onlyCoded(fn: () => unknown): void {
  try {
    fn();
  } catch (err) {
    if (!(err instanceof DiscoveryError)) throw err;
  }
}

describe('parseReference', () => {
  it('splits registry, repository, tag and digest', () => {
    assert.deepEqual(parseReference(`ghcr.io/o/r:v1@${DIGEST}`), {
      registry: 'ghcr.io',
      repository: 'o/r',
      tag: 'v1',
      digest: DIGEST,
    });
    assert.deepEqual(parseReference('127.0.0.1:5000/app'), {
      registry: '127.0.0.1:5000',
      repository: 'app',
    });
  });

  it('normalizes Docker Hub names as the runtime does', () => {
    assert.deepEqual(parseReference('nginx:1.27'), {
      registry: 'docker.io',
      repository: 'library/nginx',
      tag: '1.27',
    });
    assert.equal(parseReference('index.docker.io/o/r').registry, 'docker.io');
    assert.equal(parseReference('o/r').registry, 'docker.io');
  });

  for (const bad of [
    '',
    'ghcr.io/O/r',
    'ghcr.io/o/r:',
    'ghcr.io/o/r@sha256:abc',
    'ghcr.io/o//r',
    'ghcr.io/o/r:-bad',
    'ghc r.io/o/r',
    `ghcr.io/${'a'.repeat(300)}`,
  ]) {
    it(`refuses ${JSON.stringify(bad.slice(0, 40))} (REFERENCE_INVALID)`, () => {
      throwsCode(() => parseReference(bad), 'REFERENCE_INVALID');
    });
  }

  it('throws only coded errors (property)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (s) => onlyCoded(() => parseReference(s))),
    );
  });
});

describe('parseChallenge', () => {
  it('reads a Bearer challenge with quoted parameters', () => {
    assert.deepEqual(
      parseChallenge(
        'Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:o/r:pull"',
      ),
      {
        scheme: 'bearer',
        params: {
          realm: 'https://ghcr.io/token',
          service: 'ghcr.io',
          scope: 'repository:o/r:pull',
        },
      },
    );
  });

  it('reads escaped quotes, bare tokens and stops at a second challenge', () => {
    assert.deepEqual(parseChallenge('Basic realm="a \\"b\\"", charset=UTF-8, Bearer realm="x"'), {
      scheme: 'basic',
      params: { realm: 'a "b"', charset: 'UTF-8' },
    });
  });

  it('never throws and never hangs (property)', () => {
    fc.assert(fc.property(fc.string({ maxLength: 500 }), (s) => void parseChallenge(s)));
  });
});

describe('parseDockerConfig', () => {
  it('reads auth, username/password, identity and registry tokens per host', () => {
    const auths = parseDockerConfig(
      JSON.stringify({
        auths: {
          'https://index.docker.io/v1/': { auth: Buffer.from('hub:pw').toString('base64') },
          'ghcr.io': { username: 'u', password: 'p:with:colons' },
          'https://registry.example.com': { identitytoken: 'refresh' },
          'token.example.com': { registrytoken: 'bearer' },
        },
        credsStore: 'desktop',
      }),
    );
    assert.deepEqual(auths.get('docker.io'), { kind: 'basic', username: 'hub', password: 'pw' });
    assert.deepEqual(auths.get('ghcr.io'), {
      kind: 'basic',
      username: 'u',
      password: 'p:with:colons',
    });
    assert.deepEqual(auths.get('registry.example.com'), {
      kind: 'identity-token',
      username: '',
      token: 'refresh',
    });
    assert.deepEqual(auths.get('token.example.com'), { kind: 'registry-token', token: 'bearer' });
  });

  it('refuses a file that is not JSON, or an auth that is not user:password (REGISTRY_AUTH_FAILED)', () => {
    throwsCode(() => parseDockerConfig('{'), 'REGISTRY_AUTH_FAILED');
    throwsCode(
      () => parseDockerConfig(JSON.stringify({ auths: { x: { auth: 'bm9jb2xvbg==' } } })),
      'REGISTRY_AUTH_FAILED',
    );
  });

  it('throws only coded errors (property)', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), (v) =>
        onlyCoded(() => parseDockerConfig(JSON.stringify({ auths: v }))),
      ),
    );
  });
});

describe('parseManifest', () => {
  const OCI = 'application/vnd.oci.image.manifest.v1+json';

  it('decodes an image manifest with subject, layers and annotations', () => {
    const m = parseManifest(
      Buffer.from(
        imageManifest({
          artifactType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
          layers: [{ mediaType: 'x/y', digest: DIGEST, size: 1, annotations: { a: 'b' } }],
          subject: { mediaType: OCI, digest: DIGEST, size: 1 },
        }),
      ),
      OCI,
      'm',
    );
    assert.equal(m.kind, 'image');
    assert.equal(m.kind === 'image' && m.subject?.digest, DIGEST);
    assert.deepEqual(m.kind === 'image' && m.layers[0]!.annotations, { a: 'b' });
  });

  it('takes the type from the body when the server does not say', () => {
    const m = parseManifest(Buffer.from(imageManifest()), 'application/json', 'm');
    assert.equal(m.mediaType, OCI);
  });

  for (const [name, body, code] of [
    ['not JSON', '{', 'MANIFEST_INVALID'],
    ['an array', '[]', 'MANIFEST_INVALID'],
    ['schema version 1', imageManifest({ schemaVersion: 1 }), 'MANIFEST_INVALID'],
    [
      'a bad digest',
      imageManifest({ layers: [{ mediaType: 'a', digest: 'md5:00', size: 1 }] }),
      'MANIFEST_INVALID',
    ],
    [
      'a negative size',
      imageManifest({ layers: [{ mediaType: 'a', digest: DIGEST, size: -1 }] }),
      'MANIFEST_INVALID',
    ],
    ['a non-string annotation', imageManifest({ annotations: { a: 1 } }), 'MANIFEST_INVALID'],
    [
      'another declared type',
      imageManifest({ mediaType: 'application/vnd.oci.image.index.v1+json' }),
      'MEDIA_TYPE_UNSUPPORTED',
    ],
  ] as const) {
    it(`refuses ${name} (${code})`, () => {
      throwsCode(() => parseManifest(Buffer.from(body), OCI, 'm'), code);
    });
  }

  it('throws only coded errors (property)', () => {
    fc.assert(
      fc.property(
        fc.jsonValue({ maxDepth: 5 }),
        fc.constantFrom(OCI, 'application/vnd.oci.image.index.v1+json', '', 'text/html'),
        (v, type) => onlyCoded(() => parseManifest(Buffer.from(JSON.stringify(v)), type, 'm')),
      ),
    );
  });
});

describe('normalizeMediaType', () => {
  it('keeps the version parameter and drops spacing, case and charset', () => {
    assert.equal(
      normalizeMediaType('Application/vnd.dev.sigstore.bundle+json; version=0.3; charset=utf-8'),
      'application/vnd.dev.sigstore.bundle+json;version=0.3',
    );
  });
});

describe('retryAfterMs', () => {
  const at = (value: string | undefined) =>
    retryAfterMs(
      {
        status: 429,
        headers: value === undefined ? {} : { 'retry-after': value },
        body: Buffer.alloc(0),
      },
      Date.parse('2026-01-01T00:00:00Z'),
    );
  it('reads seconds and HTTP dates, and ignores nonsense', () => {
    assert.equal(at('7'), 7000);
    assert.equal(at('Thu, 01 Jan 2026 00:00:05 GMT'), 5000);
    assert.equal(at('Wed, 31 Dec 2025 00:00:00 GMT'), 0);
    assert.equal(at('soon'), undefined);
    assert.equal(at(undefined), undefined);
  });
});

describe('forbiddenAddress', () => {
  for (const ip of [
    '169.254.169.254',
    '169.254.0.1',
    'fe80::1',
    'fd00:ec2::254',
    '100.100.100.200',
    '::ffff:169.254.169.254',
    '::ffff:a9fe:a9fe',
    '0.0.0.0',
    '::',
  ]) {
    it(`refuses ${ip}`, () => assert.ok(forbiddenAddress(ip) !== undefined));
  }
  for (const ip of [
    '127.0.0.1',
    '10.0.0.1',
    '192.168.1.1',
    '140.82.112.33',
    '::1',
    '2001:db8::1',
  ]) {
    it(`allows ${ip}`, () => assert.equal(forbiddenAddress(ip), undefined));
  }
});

describe('cosignAttestationDocument', () => {
  const envelope = Buffer.from(
    JSON.stringify({
      payloadType: 'application/vnd.in-toto+json',
      payload: 'e30=',
      signatures: [{ keyid: '', sig: 'AA==' }],
    }),
  );

  it('hands on a key-signed envelope as it is', () => {
    assert.equal(
      cosignAttestationDocument(envelope, { 'dev.cosignproject.cosign/signature': '' }),
      envelope,
    );
  });

  it('builds a v0.1 bundle from the certificate, chain and Rekor bundle annotations', () => {
    const body = Buffer.from(JSON.stringify({ kind: 'intoto', apiVersion: '0.0.2' })).toString(
      'base64',
    );
    const doc = JSON.parse(
      Buffer.from(
        cosignAttestationDocument(envelope, {
          'dev.sigstore.cosign/certificate':
            '-----BEGIN CERTIFICATE-----\nQUJD\n-----END CERTIFICATE-----\n',
          'dev.sigstore.cosign/chain':
            '-----BEGIN CERTIFICATE-----\nREVG\n-----END CERTIFICATE-----\n-----BEGIN CERTIFICATE-----\nR0hJ\n-----END CERTIFICATE-----',
          'dev.sigstore.cosign/bundle': JSON.stringify({
            SignedEntryTimestamp: 'c2V0',
            Payload: { body, integratedTime: 1700000000, logIndex: 42, logID: 'c0d23d6a' },
          }),
          'dev.sigstore.cosign/rfc3161timestamp': JSON.stringify({
            SignedRFC3161Timestamp: 'dHNh',
          }),
        }),
      ).toString(),
    ) as Record<string, unknown>;
    assert.deepEqual(doc, {
      mediaType: 'application/vnd.dev.sigstore.bundle+json;version=0.1',
      verificationMaterial: {
        x509CertificateChain: {
          certificates: [{ rawBytes: 'QUJD' }, { rawBytes: 'REVG' }, { rawBytes: 'R0hJ' }],
        },
        tlogEntries: [
          {
            logIndex: '42',
            logId: { keyId: Buffer.from('c0d23d6a', 'hex').toString('base64') },
            kindVersion: { kind: 'intoto', version: '0.0.2' },
            integratedTime: '1700000000',
            inclusionPromise: { signedEntryTimestamp: 'c2V0' },
            canonicalizedBody: body,
          },
        ],
        timestampVerificationData: { rfc3161Timestamps: [{ signedTimestamp: 'dHNh' }] },
      },
      dsseEnvelope: JSON.parse(envelope.toString()) as unknown,
    });
  });

  it('leaves out a Rekor bundle annotation it cannot read (the verifier then reports TLOG_MISSING)', () => {
    const doc = JSON.parse(
      Buffer.from(
        cosignAttestationDocument(envelope, {
          'dev.sigstore.cosign/certificate':
            '-----BEGIN CERTIFICATE-----\nQUJD\n-----END CERTIFICATE-----',
          'dev.sigstore.cosign/bundle': '{"Payload": 1}',
        }),
      ).toString(),
    ) as { verificationMaterial: { tlogEntries: unknown[] } };
    assert.deepEqual(doc.verificationMaterial.tlogEntries, []);
  });

  it('never throws (property)', () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 200 }),
        fc.dictionary(
          fc.constantFrom(
            'dev.sigstore.cosign/certificate',
            'dev.sigstore.cosign/chain',
            'dev.sigstore.cosign/bundle',
            'dev.sigstore.cosign/rfc3161timestamp',
          ),
          fc.oneof(fc.string({ maxLength: 200 }), fc.json({ maxDepth: 3 })),
        ),
        (env, annotations) => void cosignAttestationDocument(Buffer.from(env), annotations),
      ),
    );
  });
});
