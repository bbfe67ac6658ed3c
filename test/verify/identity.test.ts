import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';

import { initializeCA } from '@sigstore/mock';
import fc from 'fast-check';

import { isVerificationError } from '../../src/verify/error.ts';
import {
  checkIdentity,
  compileMatcher,
  extractClaims,
  MAX_MATCHER_PATTERN_LENGTH,
  subjectAlternativeName,
  type CertificateExtensions,
} from '../../src/verify/identity.ts';
import { splitJsonLines } from '../../src/verify/json.ts';
import type { Matcher } from '../../src/verify/verify.types.ts';
import { readExtensions } from '../../src/verify/x509.ts';
import { assertCode } from './support/fixtures.ts';

// Real public bundles, see test/fixtures/SOURCES.md.
// What identity.ts reads of a certificate: its extensions, sliced from the DER.
function certificate(der: Buffer): CertificateExtensions {
  return { extensions: readExtensions(der) };
}

const FIXTURES = new URL('../fixtures/', import.meta.url);

interface Bundle {
  verificationMaterial: {
    certificate?: { rawBytes: string };
    x509CertificateChain?: { certificates: { rawBytes: string }[] };
  };
}

// The leaf certificate of a fixture bundle (.jsonl, npm .tgz.json or a single bundle).
function certificateOf(
  path: string,
  pick = (bundles: Bundle[]) => bundles[0]!,
): CertificateExtensions {
  const text = readFileSync(new URL(path, FIXTURES), 'utf8');
  let bundles: Bundle[];
  if (path.endsWith('.jsonl')) {
    bundles = splitJsonLines(text).map(({ text }) => JSON.parse(text) as Bundle);
  } else if (path.endsWith('.tgz.json')) {
    bundles = (JSON.parse(text) as { attestations: { bundle: Bundle }[] }).attestations.map(
      (a) => a.bundle,
    );
  } else {
    bundles = [JSON.parse(text) as Bundle];
  }
  const material = pick(bundles).verificationMaterial;
  const raw =
    material.certificate?.rawBytes ?? material.x509CertificateChain!.certificates[0]!.rawBytes;
  return certificate(Buffer.from(raw, 'base64'));
}

const SIGSTORE_JS = certificateOf('gh-attestation/sigstore-js-2.1.0-bundle.json');
const REUSABLE = certificateOf('gh-attestation/reusable-workflow-attestation.sigstore.json');
const CUSTOM_ISSUER = certificateOf('gh-attestation/custom-issuer.sigstore.json');
const GENERIC_TAG = certificateOf(
  'slsa-github-generator/generic-v2.1.0/binary-linux-amd64-push-v13.0.30.intoto.jsonl',
);
const NODEJS_BUILDER = certificateOf(
  'npm-attestations/provenance-npm-test-ossf.tgz.json',
  (bundles) => bundles.find((b) => b.verificationMaterial.x509CertificateChain)!,
);
const EMAIL = certificateOf('sigstore-js/tests-bundles/bundleV03-dsse.sigstore');

const GITHUB_ACTIONS = 'https://token.actions.githubusercontent.com';

// Happy-path certificates from a mock Fulcio CA, generated at test time.
const ca = await initializeCA(generateKeyPairSync('ec', { namedCurve: 'P-384' }));
async function issue(
  subjectAltName: string,
  extensions: { oid: string; value: string; legacy?: boolean }[],
): Promise<CertificateExtensions> {
  const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const der = await ca.issueCertificate({
    publicKey: publicKey.export({ type: 'spki', format: 'der' }),
    subjectAltName,
    extensions,
  });
  return certificate(Buffer.from(der.buffer, der.byteOffset, der.byteLength));
}

// Broken certificates are built by hand: only the structure CertificateExtensions
// reads for extensions, unsigned (these tests exercise parsing, not trust).
//   Certificate ::= SEQUENCE { tbsCertificate SEQUENCE { ..., [3] { SEQUENCE OF Extension } } }
function der(tag: number, ...parts: Uint8Array[]): Buffer<ArrayBuffer> {
  const body = Buffer.concat(parts);
  const length =
    body.length < 0x80
      ? [body.length]
      : body.length < 0x100
        ? [0x81, body.length]
        : [0x82, body.length >> 8, body.length & 0xff];
  return Buffer.concat([Buffer.from([tag, ...length]), body]);
}

function oid(dotted: string): Buffer<ArrayBuffer> {
  const [first, second, ...rest] = dotted.split('.').map(Number);
  const bytes = [first! * 40 + second!];
  for (const arc of rest) {
    const digits = [arc & 0x7f];
    for (let v = arc >>> 7; v > 0; v >>>= 7) digits.unshift((v & 0x7f) | 0x80);
    bytes.push(...digits);
  }
  return der(0x06, Uint8Array.from(bytes));
}

const utf8String = (s: string): Buffer<ArrayBuffer> => der(0x0c, Buffer.from(s, 'utf8'));
const extension = (id: string, value: Uint8Array): Buffer => der(0x30, oid(id), der(0x04, value));
const san = (...names: Buffer[]): Buffer => extension('2.5.29.17', der(0x30, ...names));
const uriName = (uri: string): Buffer => der(0x86, Buffer.from(uri, 'latin1'));
const emailName = (email: string): Buffer => der(0x81, Buffer.from(email, 'latin1'));
const otherName = (type: string, value: Buffer): Buffer => der(0xa0, oid(type), der(0xa0, value));

function handBuilt(...extensions: Buffer[]): CertificateExtensions {
  return certificate(der(0x30, der(0x30, der(0xa3, der(0x30, ...extensions)))));
}

const FULCIO = '1.3.6.1.4.1.57264.1';
const USERNAME_OID = `${FULCIO}.7`;

describe('identity', () => {
  describe('#extractClaims', () => {
    describe('when the certificate is the real sigstore-js release certificate', () => {
      it('returns every claim', () => {
        assert.deepEqual(extractClaims(SIGSTORE_JS), {
          issuer: GITHUB_ACTIONS,
          githubWorkflowTrigger: 'push',
          githubWorkflowSha: '26d16513386ffaa790b1c32f927544f1322e4194',
          githubWorkflowName: 'Release',
          githubWorkflowRepository: 'sigstore/sigstore-js',
          githubWorkflowRef: 'refs/heads/main',
          buildSignerUri:
            'https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main',
          buildSignerDigest: '26d16513386ffaa790b1c32f927544f1322e4194',
          runnerEnvironment: 'github-hosted',
          sourceRepositoryUri: 'https://github.com/sigstore/sigstore-js',
          sourceRepositoryDigest: '26d16513386ffaa790b1c32f927544f1322e4194',
          sourceRepositoryRef: 'refs/heads/main',
          sourceRepositoryIdentifier: '495574555',
          sourceRepositoryOwnerUri: 'https://github.com/sigstore',
          sourceRepositoryOwnerIdentifier: '71096353',
          buildConfigUri:
            'https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main',
          buildConfigDigest: '26d16513386ffaa790b1c32f927544f1322e4194',
          buildTrigger: 'push',
          runInvocationUri:
            'https://github.com/sigstore/sigstore-js/actions/runs/6014488666/attempts/1',
          sourceRepositoryVisibilityAtSigning: 'public',
        });
      });
    });

    describe('when the certificate was signed by a reusable workflow', () => {
      it('returns the reusable workflow as build signer and the caller as source', () => {
        const claims = extractClaims(REUSABLE);
        assert.equal(
          claims.buildSignerUri,
          'https://github.com/github/artifact-attestations-workflows/.github/workflows/attest.yml@09b495c3f12c7881b3cc17209a327792065c1a1d',
        );
        assert.equal(claims.buildSignerDigest, '09b495c3f12c7881b3cc17209a327792065c1a1d');
        assert.equal(claims.sourceRepositoryUri, 'https://github.com/malancas/attest-demo');
        assert.equal(
          claims.buildConfigUri,
          'https://github.com/malancas/attest-demo/.github/workflows/shared.yml@refs/heads/main',
        );
        assert.equal(claims.buildTrigger, 'workflow_dispatch');
        assert.equal(claims.sourceRepositoryOwnerIdentifier, '16248153');
      });
    });

    describe('when the certificate has a custom issuer', () => {
      it('returns that issuer', () => {
        const claims = extractClaims(CUSTOM_ISSUER);
        assert.equal(claims.issuer, 'https://token.actions.githubusercontent.com/hammer-time');
        assert.equal(claims.sourceRepositoryUri, 'https://github.com/too-legit/attest');
      });
    });

    describe('when the certificate was signed by slsa-github-generator', () => {
      it('returns the generator as build signer and the tag as ref', () => {
        const claims = extractClaims(GENERIC_TAG);
        assert.equal(
          claims.buildSignerUri,
          'https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_generic_slsa3.yml@refs/tags/v2.1.0',
        );
        assert.equal(claims.buildSignerDigest, 'f7dd8c54c2067bafc12ca7a55595d5ee9b75204a');
        assert.equal(claims.sourceRepositoryRef, 'refs/tags/v13.0.30');
        assert.equal(claims.sourceRepositoryDigest, '4d329c75e7ec1725f7c9ce917a8799d408d06be3');
        assert.equal(
          claims.githubWorkflowName,
          '.github/workflows/verifier-e2e.all.workflow_dispatch.main.all.slsa3.yml',
        );
      });

      it('returns the BYOB delegator as build signer', () => {
        const claims = extractClaims(NODEJS_BUILDER);
        assert.equal(
          claims.buildSignerUri,
          'https://github.com/slsa-framework/slsa-github-generator/.github/workflows/delegator_lowperms-generic_slsa3.yml@refs/tags/v1.6.0',
        );
        assert.equal(claims.sourceRepositoryVisibilityAtSigning, undefined);
      });
    });

    describe('when the certificate is for an email identity', () => {
      it('returns only the issuer', () => {
        assert.deepEqual(extractClaims(EMAIL), { issuer: 'https://github.com/login/oauth' });
      });
    });

    describe('when the certificate has only the v1 issuer extension', () => {
      it('returns it as issuer', async () => {
        const cert = await issue('https://example.com/ci', [
          { oid: `${FULCIO}.1`, value: 'https://issuer.example', legacy: true },
        ]);
        assert.deepEqual(extractClaims(cert), { issuer: 'https://issuer.example' });
      });
    });

    describe('when the certificate has claims outside GitHub (.23 deployment environment)', () => {
      it('returns them', async () => {
        const cert = await issue('https://gitlab.com/o/r//.gitlab-ci.yml@refs/heads/main', [
          { oid: `${FULCIO}.8`, value: 'https://gitlab.com' },
          { oid: `${FULCIO}.23`, value: 'production' },
          { oid: `${FULCIO}.22`, value: '' },
          { oid: `${FULCIO}.4`, value: 'ünïcødé', legacy: true },
        ]);
        assert.deepEqual(extractClaims(cert), {
          issuer: 'https://gitlab.com',
          deploymentEnvironment: 'production',
          sourceRepositoryVisibilityAtSigning: '',
          githubWorkflowName: 'ünïcødé',
        });
      });
    });

    describe('when a v2 extension is not DER (a raw string)', () => {
      it('throws CERTIFICATE_INVALID', async () => {
        const cert = await issue('https://example.com/ci', [
          { oid: `${FULCIO}.9`, value: 'https://example.com/workflow', legacy: true },
        ]);
        assertCode(() => extractClaims(cert), 'CERTIFICATE_INVALID');
      });
    });

    describe('when an extension value is malformed', () => {
      const builder = `${FULCIO}.9`;
      const cases: [string, Buffer][] = [
        [
          'a PrintableString instead of UTF8String',
          extension(builder, der(0x13, Buffer.from('x'))),
        ],
        [
          'trailing bytes after the UTF8String',
          extension(builder, Buffer.concat([utf8String('x'), Buffer.from([0])])),
        ],
        ['a truncated UTF8String', extension(builder, Buffer.from([0x0c, 0x05, 0x61]))],
        ['a non-minimal length', extension(builder, Buffer.from([0x0c, 0x81, 0x01, 0x61]))],
        ['an indefinite length', extension(builder, Buffer.from([0x0c, 0x80, 0x61, 0x00, 0x00]))],
        ['a five-byte length', extension(builder, Buffer.from([0x0c, 0x85, 1, 0, 0, 0, 0]))],
        ['a high tag number', extension(builder, Buffer.from([0x1f, 0x81, 0x01, 0x00]))],
        ['an empty value', extension(builder, Buffer.alloc(0))],
        ['invalid UTF-8 in a UTF8String', extension(builder, der(0x0c, Buffer.from([0xc0, 0xaf])))],
        [
          'invalid UTF-8 in a raw v1 value',
          extension(`${FULCIO}.5`, Buffer.from([0x6f, 0xff, 0x72])),
        ],
        ['an issuer v2 that is not DER', extension(`${FULCIO}.8`, Buffer.from('https://issuer'))],
      ];
      for (const [what, ext] of cases) {
        it(`throws CERTIFICATE_INVALID for ${what}`, () => {
          assertCode(() => extractClaims(handBuilt(ext)), 'CERTIFICATE_INVALID');
        });
      }

      it('reads the well-formed equivalent', () => {
        assert.deepEqual(extractClaims(handBuilt(extension(builder, utf8String('x')))), {
          buildSignerUri: 'x',
        });
      });
    });

    describe('when the certificate repeats an extension', () => {
      it('throws CERTIFICATE_INVALID when its extensions are read', () => {
        const build = () =>
          handBuilt(
            extension(`${FULCIO}.12`, utf8String('https://github.com/good/repo')),
            extension(`${FULCIO}.12`, utf8String('https://github.com/evil/repo')),
          );
        assertCode(() => extractClaims(build()), 'CERTIFICATE_INVALID');
      });
    });

    describe('when the v1 and v2 issuers disagree', () => {
      it('throws CERTIFICATE_INVALID', () => {
        const cert = handBuilt(
          extension(`${FULCIO}.1`, Buffer.from(GITHUB_ACTIONS)),
          extension(`${FULCIO}.8`, utf8String('https://evil.example')),
        );
        assertCode(() => extractClaims(cert), 'CERTIFICATE_INVALID');
      });
    });

    describe('when an extension is not SEQUENCE { OID, OCTET STRING }', () => {
      it('throws CERTIFICATE_INVALID', () => {
        assertCode(
          () => extractClaims(handBuilt(der(0x30, oid(`${FULCIO}.9`), utf8String('x')))),
          'CERTIFICATE_INVALID',
        );
        assertCode(
          () => extractClaims(handBuilt(der(0x30, oid(`${FULCIO}.9`)))),
          'CERTIFICATE_INVALID',
        );
        assertCode(
          () =>
            extractClaims(
              handBuilt(der(0x30, der(0x02, Buffer.from([1])), der(0x04, utf8String('x')))),
            ),
          'CERTIFICATE_INVALID',
        );
      });
    });

    describe('for arbitrary extension bytes', () => {
      it('returns or throws CERTIFICATE_INVALID', () => {
        fc.assert(
          fc.property(
            fc.integer({ min: 1, max: 23 }),
            fc.uint8Array({ maxLength: 40 }),
            (arc, bytes) => {
              try {
                extractClaims(handBuilt(extension(`${FULCIO}.${arc}`, bytes)));
              } catch (err) {
                if (!isVerificationError(err)) throw err;
                assert.equal(err.code, 'CERTIFICATE_INVALID');
              }
            },
          ),
        );
      });
    });
  });

  describe('#subjectAlternativeName', () => {
    describe('when the SAN is a workflow URI', () => {
      it('returns it', () => {
        assert.equal(
          subjectAlternativeName(SIGSTORE_JS),
          'https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main',
        );
        assert.equal(
          subjectAlternativeName(REUSABLE),
          'https://github.com/github/artifact-attestations-workflows/.github/workflows/attest.yml@09b495c3f12c7881b3cc17209a327792065c1a1d',
        );
        assert.equal(
          subjectAlternativeName(CUSTOM_ISSUER),
          'https://github.com/too-legit/attest/.github/workflows/integration.yml@refs/heads/main',
        );
      });
    });

    describe('when the SAN is an email', () => {
      it('returns it', () => {
        assert.equal(subjectAlternativeName(EMAIL), 'brian@dehamer.com');
        assert.equal(
          subjectAlternativeName(handBuilt(san(emailName('a@example.com')))),
          'a@example.com',
        );
      });
    });

    describe('when the SAN is a Fulcio username otherName', () => {
      it('returns the username', () => {
        assert.equal(
          subjectAlternativeName(handBuilt(san(otherName(USERNAME_OID, utf8String('alice'))))),
          'alice',
        );
      });
    });

    describe('when the SAN also has names that are not identities', () => {
      it('ignores them', () => {
        const cert = handBuilt(
          san(
            der(0x82, Buffer.from('example.com')),
            otherName('1.2.3.4', utf8String('x')),
            uriName('https://a'),
          ),
        );
        assert.equal(subjectAlternativeName(cert), 'https://a');
      });
    });

    describe('when the SAN is missing or unusable', () => {
      // Built inside each test: reading the extensions may itself throw (two SAN extensions).
      const cases: [string, () => CertificateExtensions][] = [
        ['no SAN extension', () => handBuilt(extension(`${FULCIO}.8`, utf8String(GITHUB_ACTIONS)))],
        ['an empty SAN', () => handBuilt(san())],
        ['only a DNS name', () => handBuilt(san(der(0x82, Buffer.from('example.com'))))],
        ['two identities', () => handBuilt(san(uriName('https://a'), emailName('b@example.com')))],
        ['two URIs', () => handBuilt(san(uriName('https://a'), uriName('https://b')))],
        ['an empty URI', () => handBuilt(san(uriName('')))],
        ['a control character', () => handBuilt(san(uriName('https://a\nb')))],
        [
          'a non-ASCII email',
          () => handBuilt(san(der(0x81, Buffer.from('é@example.com', 'utf8')))),
        ],
        [
          'a username that is not a UTF8String',
          () => handBuilt(san(otherName(USERNAME_OID, der(0x16, Buffer.from('a'))))),
        ],
        [
          'an otherName without a type-id',
          () => handBuilt(san(der(0xa0, der(0xa0, utf8String('a'))))),
        ],
        [
          'an otherName with trailing data',
          () =>
            handBuilt(
              san(der(0xa0, oid(USERNAME_OID), der(0xa0, utf8String('a')), utf8String('b'))),
            ),
        ],
        [
          'a SAN that is not a SEQUENCE',
          () => handBuilt(extension('2.5.29.17', uriName('https://a'))),
        ],
        [
          'a truncated GeneralName',
          () => handBuilt(extension('2.5.29.17', Buffer.from([0x30, 0x03, 0x86, 0x05, 0x61]))),
        ],
        [
          'two SAN extensions',
          () => handBuilt(san(uriName('https://a')), san(uriName('https://b'))),
        ],
      ];
      for (const [what, build] of cases) {
        it(`throws CERTIFICATE_INVALID for ${what}`, () => {
          assertCode(() => subjectAlternativeName(build()), 'CERTIFICATE_INVALID');
        });
      }
    });

    describe('when the certificate was issued by the mock CA', () => {
      it('returns the URI', async () => {
        assert.equal(
          subjectAlternativeName(await issue('https://example.com/ci@refs/heads/main', [])),
          'https://example.com/ci@refs/heads/main',
        );
      });
    });

    describe('for arbitrary SAN bytes', () => {
      it('returns or throws CERTIFICATE_INVALID', () => {
        fc.assert(
          fc.property(fc.uint8Array({ maxLength: 40 }), (bytes) => {
            try {
              subjectAlternativeName(handBuilt(extension('2.5.29.17', bytes)));
            } catch (err) {
              if (!isVerificationError(err)) throw err;
              assert.equal(err.code, 'CERTIFICATE_INVALID');
            }
          }),
        );
      });
    });
  });

  describe('#compileMatcher', () => {
    describe('when the matcher is exact', () => {
      it('matches only the same string', () => {
        const matches = compileMatcher({ exact: 'refs/heads/main' });
        assert.equal(matches('refs/heads/main'), true);
        assert.equal(matches('refs/heads/main2'), false);
        assert.equal(matches('REFS/HEADS/MAIN'), false);
        assert.equal(matches(undefined), false);
        assert.equal(compileMatcher({ exact: '' })(''), true);
        assert.equal(compileMatcher({ exact: '' })(undefined), false);
      });

      it('treats regex syntax literally', () => {
        assert.equal(compileMatcher({ exact: 'a.*' })('abc'), false);
        assert.equal(compileMatcher({ exact: 'a.*' })('a.*'), true);
      });
    });

    describe('when the matcher is a regex', () => {
      it('anchors it to the whole value', () => {
        const matches = compileMatcher({ regex: 'foo' });
        assert.equal(matches('foo'), true);
        assert.equal(matches('xfoox'), false);
        assert.equal(matches('foox'), false);
        assert.equal(matches('xfoo'), false);
      });

      it('keeps an alternation inside the anchors', () => {
        const matches = compileMatcher({ regex: 'a|b' });
        assert.equal(matches('a'), true);
        assert.equal(matches('b'), true);
        assert.equal(matches('ab'), false);
        assert.equal(matches('xa'), false);
        assert.equal(matches('bx'), false);
      });

      it('matches a real workflow identity', () => {
        const matches = compileMatcher({
          regex: String.raw`https://github\.com/slsa-framework/slsa-github-generator/\.github/workflows/generator_generic_slsa3\.yml@refs/tags/v[0-9]+\.[0-9]+\.[0-9]+`,
        });
        assert.equal(matches(subjectAlternativeName(GENERIC_TAG)), true);
        assert.equal(matches(`${subjectAlternativeName(GENERIC_TAG)}-evil`), false);
      });

      it('allows a fixed repetition of a repeating group', () => {
        assert.equal(compileMatcher({ regex: String.raw`v([0-9]+\.){2}[0-9]+` })('v13.0.30'), true);
      });

      it('uses Unicode semantics', () => {
        assert.equal(compileMatcher({ regex: '.' })('𝄞'), true);
        assert.equal(compileMatcher({ regex: String.raw`\p{L}+` })('ünïcødé'), true);
      });

      it('never matches undefined', () => {
        assert.equal(compileMatcher({ regex: '.*' })(undefined), false);
        assert.equal(compileMatcher({ regex: '.*' })(''), true);
      });
    });

    describe('when the matcher is invalid', () => {
      const cases: [string, unknown][] = [
        ['an escape from the anchoring group', { regex: 'a)|(b' }],
        ['a closing group at the start', { regex: ')|(.*' }],
        ['an unterminated class', { regex: '[a-z' }],
        ['a trailing backslash', { regex: 'abc\\' }],
        ['a lone brace (u flag)', { regex: 'a{' }],
        ['an invalid escape (u flag)', { regex: '\\q' }],
        ['a pattern over the length bound', { regex: 'a'.repeat(MAX_MATCHER_PATTERN_LENGTH + 1) }],
        ['nested repetition (a+)+', { regex: '(a+)+' }],
        ['nested repetition (x*)*y', { regex: '(x*)*y' }],
        ['nested repetition in a non-capturing group', { regex: '(?:[a-z]+/)*end' }],
        ['nested repetition with braces', { regex: '(a{1,5}){2,}' }],
        ['nested repetition two levels up', { regex: '((a+)b)+' }],
        ['both exact and regex', { exact: 'a', regex: 'a' }],
        ['neither exact nor regex', {}],
        ['another key', { glob: '*' }],
        ['a numeric exact', { exact: 1 }],
        ['a regex object', { regex: /a/ }],
        ['a string', 'a'],
        ['null', null],
      ];
      for (const [what, matcher] of cases) {
        it(`throws INVALID_MATCHER for ${what}`, () => {
          assertCode(() => compileMatcher(matcher as Matcher), 'INVALID_MATCHER');
        });
      }

      it('accepts a pattern at the length bound', () => {
        assert.equal(
          compileMatcher({ regex: 'a'.repeat(MAX_MATCHER_PATTERN_LENGTH) })(
            'a'.repeat(MAX_MATCHER_PATTERN_LENGTH),
          ),
          true,
        );
      });
    });

    describe('for arbitrary patterns', () => {
      it('compiles or throws INVALID_MATCHER, and never matches an unanchored superstring', () => {
        fc.assert(
          fc.property(
            fc.string({ maxLength: 30 }),
            fc.string({ maxLength: 10 }),
            (regex, value) => {
              let matches: (value: string | undefined) => boolean;
              try {
                matches = compileMatcher({ regex });
              } catch (err) {
                if (!isVerificationError(err)) throw err;
                assert.equal(err.code, 'INVALID_MATCHER');
                return;
              }
              const whole = new RegExp(`^(?:${regex})$`, 'u');
              assert.equal(matches(value), whole.test(value));
            },
          ),
        );
      });
    });
  });

  describe('#checkIdentity', () => {
    const signer = (cert: CertificateExtensions) => {
      const claims = extractClaims(cert);
      return {
        subjectAlternativeName: subjectAlternativeName(cert),
        issuer: claims.issuer,
        claims,
      };
    };
    const sigstoreJs = signer(SIGSTORE_JS);

    describe('when the sigstore-js signer meets the policy', () => {
      it('returns', () => {
        checkIdentity(sigstoreJs, {
          subjectAlternativeName: {
            regex: String.raw`https://github\.com/sigstore/sigstore-js/\.github/workflows/release\.yml@refs/heads/main`,
          },
          issuer: { exact: GITHUB_ACTIONS },
          claims: {
            sourceRepositoryUri: { exact: 'https://github.com/sigstore/sigstore-js' },
            sourceRepositoryOwnerUri: { exact: 'https://github.com/sigstore' },
            runnerEnvironment: { exact: 'github-hosted' },
            sourceRepositoryRef: { regex: 'refs/heads/.+' },
          },
        });
      });

      it('returns for an empty policy', () => {
        checkIdentity(sigstoreJs, {});
        checkIdentity(sigstoreJs, { claims: {} });
      });
    });

    describe('when the repository is another one', () => {
      it('throws CLAIM_MISMATCH', () => {
        assertCode(
          () =>
            checkIdentity(sigstoreJs, {
              claims: { sourceRepositoryUri: { exact: 'https://github.com/sigstore/fakerepo' } },
            }),
          'CLAIM_MISMATCH',
        );
      });
    });

    describe('when the owner is another one', () => {
      it('throws CLAIM_MISMATCH', () => {
        assertCode(
          () =>
            checkIdentity(sigstoreJs, {
              claims: { sourceRepositoryOwnerUri: { exact: 'https://github.com/fakeowner' } },
            }),
          'CLAIM_MISMATCH',
        );
      });
    });

    describe('when the policy requires a claim the certificate lacks', () => {
      it('throws CLAIM_MISMATCH', () => {
        assertCode(
          () => checkIdentity(sigstoreJs, { claims: { deploymentEnvironment: { regex: '.*' } } }),
          'CLAIM_MISMATCH',
        );
      });
    });

    describe('when the SAN differs', () => {
      it('throws IDENTITY_MISMATCH', () => {
        assertCode(
          () =>
            checkIdentity(sigstoreJs, {
              subjectAlternativeName: { regex: 'https://github\\.com/sigstore/' },
            }),
          'IDENTITY_MISMATCH',
        );
      });
    });

    describe('when the reusable workflow is the expected signer', () => {
      it('returns', () => {
        checkIdentity(signer(REUSABLE), {
          claims: {
            buildSignerUri: {
              regex: String.raw`https://github\.com/github/artifact-attestations-workflows/\.github/workflows/attest\.yml@[0-9a-f]{40}`,
            },
            sourceRepositoryUri: { exact: 'https://github.com/malancas/attest-demo' },
          },
        });
      });

      it('throws CLAIM_MISMATCH for signer workflow foo/bar', () => {
        assertCode(
          () =>
            checkIdentity(signer(REUSABLE), {
              claims: {
                buildSignerUri: {
                  regex: String.raw`https://github\.com/foo/bar/\.github/workflows/attest\.yml@.*`,
                },
              },
            }),
          'CLAIM_MISMATCH',
        );
      });
    });

    describe('when the issuer is the custom hammer-time issuer', () => {
      it('returns when that issuer is expected', () => {
        checkIdentity(signer(CUSTOM_ISSUER), {
          issuer: { exact: `${GITHUB_ACTIONS}/hammer-time` },
        });
      });

      it('throws ISSUER_MISMATCH for the default issuer', () => {
        assertCode(
          () => checkIdentity(signer(CUSTOM_ISSUER), { issuer: { exact: GITHUB_ACTIONS } }),
          'ISSUER_MISMATCH',
        );
      });
    });

    describe('when the signer carries no issuer', () => {
      it('throws ISSUER_MISMATCH', () => {
        assertCode(
          () =>
            checkIdentity({ subjectAlternativeName: 'x', claims: {} }, { issuer: { regex: '.*' } }),
          'ISSUER_MISMATCH',
        );
      });

      it('falls back on the issuer claim', () => {
        checkIdentity(
          { subjectAlternativeName: 'x', claims: { issuer: GITHUB_ACTIONS } },
          { issuer: { exact: GITHUB_ACTIONS } },
        );
      });
    });

    describe('when the policy is invalid', () => {
      it('throws INVALID_MATCHER before any mismatch', () => {
        assertCode(
          () =>
            checkIdentity(sigstoreJs, {
              subjectAlternativeName: { exact: 'someone else' },
              claims: { buildTrigger: { regex: '(' } },
            }),
          'INVALID_MATCHER',
        );
      });

      it('throws INVALID_MATCHER for an unknown claim', () => {
        const policy = { claims: { sourceRepository: { exact: 'x' } } } as unknown as Parameters<
          typeof checkIdentity
        >[1];
        assertCode(() => checkIdentity(sigstoreJs, policy), 'INVALID_MATCHER');
      });

      it('throws INVALID_MATCHER for claims that are not an object', () => {
        const policy = { claims: [] } as unknown as Parameters<typeof checkIdentity>[1];
        assertCode(() => checkIdentity(sigstoreJs, policy), 'INVALID_MATCHER');
      });

      it('throws INVALID_MATCHER for an invalid SAN matcher', () => {
        assertCode(
          () => checkIdentity(sigstoreJs, { subjectAlternativeName: { regex: 'a)|(b' } }),
          'INVALID_MATCHER',
        );
      });
    });

    describe('when claims come from a generated certificate', () => {
      it('checks each claim', async () => {
        const cert = await issue('https://gitlab.com/o/r//.gitlab-ci.yml@refs/heads/main', [
          { oid: `${FULCIO}.8`, value: 'https://gitlab.com' },
          { oid: `${FULCIO}.23`, value: 'production' },
        ]);
        const gitlab = signer(cert);
        checkIdentity(gitlab, {
          issuer: { exact: 'https://gitlab.com' },
          claims: { deploymentEnvironment: { exact: 'production' } },
        });
        assertCode(
          () => checkIdentity(gitlab, { claims: { deploymentEnvironment: { exact: 'staging' } } }),
          'CLAIM_MISMATCH',
        );
      });
    });
  });
});
