// Signed bundles, built and signed by the real `opa build --signing-key` with
// keys generated at test time.

import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';

import { loadBundle, type LoadOptions, type SigningAlgorithm } from '../../src/policy/index.ts';
import { buildBundle, fixture, tarGzFiles, tempDir, untar } from './opa.ts';
import { rejectsCode } from './support.ts';

interface TestKey {
  readonly privatePath: string;
  readonly publicPem: string;
}

async function generateKey(kind: 'ec' | 'rsa' | 'ed25519'): Promise<TestKey> {
  const { privateKey, publicKey } =
    kind === 'ec'
      ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
      : kind === 'rsa'
        ? generateKeyPairSync('rsa', { modulusLength: 2048 })
        : generateKeyPairSync('ed25519');
  const privatePath = join(await tempDir(), `${kind}.pem`);
  await writeFile(privatePath, privateKey.export({ type: 'pkcs8', format: 'pem' }));
  return { privatePath, publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString() };
}

const keys = (keyId: string, key: TestKey, algorithm: SigningAlgorithm): LoadOptions => ({
  verification: { keys: { [keyId]: { key: key.publicPem, algorithm } } },
});

describe('signed bundles', () => {
  let ec: TestKey;
  let rsa: TestKey;
  let ed: TestKey;
  let other: TestKey;
  let signed: Buffer; // ES256, key id "default" (OPA's default kid)
  let unsigned: Buffer;

  before(async () => {
    [ec, rsa, ed, other] = await Promise.all([
      generateKey('ec'),
      generateKey('rsa'),
      generateKey('ed25519'),
      generateKey('ec'),
    ]);
    signed = await buildBundle(fixture('params'), {
      revision: 'signed-1',
      signingKey: ec.privatePath,
      signingAlg: 'ES256',
    });
    unsigned = await buildBundle(fixture('params'), { revision: 'plain' });
  });

  describe('when signed with ES256 and the key is configured', () => {
    it('loads and reports the verified signature', async () => {
      const bundle = await loadBundle(
        { kind: 'archive', bytes: signed },
        keys('default', ec, 'ES256'),
      );
      assert.equal(bundle.revision, 'signed-1');
      assert.equal(bundle.signature?.keyId, 'default');
      assert.equal(bundle.signature?.algorithm, 'ES256');
      assert.deepEqual(bundle.signature?.files, [
        '.manifest',
        'data.json',
        'policy.rego',
        'policy.wasm',
      ]);
    });
  });

  describe('when signed with RS256, the key id in the deprecated payload claim', () => {
    it('loads', async () => {
      const bytes = await buildBundle(fixture('params'), {
        signingKey: rsa.privatePath,
        signingAlg: 'RS256',
        claims: { keyid: 'rsa-key', iss: 'ci' },
      });
      const bundle = await loadBundle({ kind: 'archive', bytes }, keys('rsa-key', rsa, 'RS256'));
      assert.equal(bundle.signature?.keyId, 'rsa-key');
      assert.equal(bundle.signature?.issuer, 'ci');
    });
  });

  describe('when signed with EdDSA', () => {
    it('loads', async () => {
      const bytes = await buildBundle(fixture('params'), {
        signingKey: ed.privatePath,
        signingAlg: 'EdDSA',
      });
      const bundle = await loadBundle({ kind: 'archive', bytes }, keys('default', ed, 'EdDSA'));
      assert.equal(bundle.signature?.algorithm, 'EdDSA');
    });
  });

  describe('when data.json is rewritten without changing its meaning', () => {
    it('still verifies (OPA hashes JSON files in a canonical form)', async () => {
      const files = await untar(signed);
      const data = JSON.parse(files.get('data.json')?.toString() ?? '') as Record<string, unknown>;
      // reversed key order, indentation
      const reordered = Object.fromEntries(Object.entries(data).reverse());
      files.set('data.json', Buffer.from(JSON.stringify(reordered, null, 2)));
      const bundle = await loadBundle({ kind: 'files', files }, keys('default', ec, 'ES256'));
      assert.equal(bundle.revision, 'signed-1');
    });
  });

  describe('when data.json holds strings, numbers and keys Go encodes in its own way', () => {
    it('verifies: the canonical hash matches OPA byte for byte', async () => {
      const dir = join(await tempDir(), 'tricky');
      await mkdir(dir);
      await writeFile(
        join(dir, 'policy.rego'),
        await readFile(join(fixture('params'), 'policy.rego')),
      );
      // Raw text on purpose: number spellings and escapes survive only in the source.
      const data = String.raw`{
        "provgate": {"params": {
          "html": "<a href='x'>&</a>", "separators": "\u2028\u2029",
          "controls": "\u0000\u0007\b\f\n\r\t\u001f\u007f",
          "quotes": "\"\\/", "accents": "é", "astral": "😀", "lone": "\ud800",
          "numbers": [1.50, 1e3, 1E-7, -0, 0.000, 12345678901234567890123, -1.5e+300],
          "keys": {"b": 1, "a": 2, "B": 3, "é": 4, "😀": 5, "\uffff": 6, "": 7, "a b": 8},
          "empty": {}, "list": [[], {}, null, true, false]
        }},
        "other": {"dup": 1, "dup": 2}
      }`;
      await writeFile(join(dir, 'data.json'), data);
      await writeFile(join(dir, '.manifest'), '{"roots": [""]}');
      const bytes = await buildBundle(dir, { signingKey: ec.privatePath, signingAlg: 'ES256' });
      const bundle = await loadBundle({ kind: 'archive', bytes }, keys('default', ec, 'ES256'));
      assert.ok(bundle.signature?.files.includes('data.json'));
    });
  });

  describe('when a key is configured and the bundle is unsigned', () => {
    it('throws SIGNATURE_MISSING', async () => {
      await rejectsCode(
        loadBundle({ kind: 'archive', bytes: unsigned }, keys('default', ec, 'ES256')),
        'SIGNATURE_MISSING',
      );
    });
  });

  describe('when the bundle is signed but no key is configured', () => {
    it('throws SIGNATURE_KEY_NOT_CONFIGURED', async () => {
      await rejectsCode(
        loadBundle({ kind: 'archive', bytes: signed }),
        'SIGNATURE_KEY_NOT_CONFIGURED',
      );
    });
  });

  describe('when a signed file was altered', () => {
    it('throws SIGNATURE_FILE_DIGEST_MISMATCH', async () => {
      const files = await untar(signed);
      files.set(
        'data.json',
        Buffer.from('{"provgate": {"params": {"allowed_sources": ["github.com/evil/x"]}}}'),
      );
      await rejectsCode(
        loadBundle(
          { kind: 'archive', bytes: await tarGzFiles(files) },
          keys('default', ec, 'ES256'),
        ),
        'SIGNATURE_FILE_DIGEST_MISMATCH',
      );
    });
  });

  describe('when the wasm module was altered', () => {
    it('throws SIGNATURE_FILE_DIGEST_MISMATCH', async () => {
      const files = await untar(signed);
      const wasm = files.get('policy.wasm') ?? Buffer.alloc(0);
      files.set('policy.wasm', Buffer.concat([wasm, Buffer.from([0])]));
      await rejectsCode(
        loadBundle({ kind: 'files', files }, keys('default', ec, 'ES256')),
        'SIGNATURE_FILE_DIGEST_MISMATCH',
      );
    });
  });

  describe('when a file was added', () => {
    it('throws SIGNATURE_FILE_UNLISTED', async () => {
      const files = await untar(signed);
      files.set('extra.rego', Buffer.from('package extra'));
      await rejectsCode(
        loadBundle({ kind: 'files', files }, keys('default', ec, 'ES256')),
        'SIGNATURE_FILE_UNLISTED',
      );
    });
  });

  describe('when a signed file was removed', () => {
    it('throws SIGNATURE_FILE_MISSING', async () => {
      const files = await untar(signed);
      files.delete('policy.rego');
      await rejectsCode(
        loadBundle({ kind: 'files', files }, keys('default', ec, 'ES256')),
        'SIGNATURE_FILE_MISSING',
      );
    });
  });

  describe('when the configured key is not the signing key', () => {
    it('throws SIGNATURE_INVALID', async () => {
      await rejectsCode(
        loadBundle({ kind: 'archive', bytes: signed }, keys('default', other, 'ES256')),
        'SIGNATURE_INVALID',
      );
    });
  });

  describe('when the key is configured for another algorithm than the token claims', () => {
    it('throws SIGNATURE_INVALID (the configured algorithm rules)', async () => {
      await rejectsCode(
        loadBundle({ kind: 'archive', bytes: signed }, keys('default', rsa, 'RS256')),
        'SIGNATURE_INVALID',
      );
    });
  });

  describe('when the signature names a key id that is not configured', () => {
    it('throws SIGNATURE_KEY_UNKNOWN', async () => {
      await rejectsCode(
        loadBundle({ kind: 'archive', bytes: signed }, keys('another', ec, 'ES256')),
        'SIGNATURE_KEY_UNKNOWN',
      );
    });
  });

  describe('when the signature scope is not the configured scope', () => {
    it('throws SIGNATURE_SCOPE_MISMATCH', async () => {
      const bytes = await buildBundle(fixture('params'), {
        signingKey: ec.privatePath,
        signingAlg: 'ES256',
        claims: { keyid: 'default', scope: 'staging' },
      });
      await rejectsCode(
        loadBundle(
          { kind: 'archive', bytes },
          {
            verification: {
              keys: { default: { key: ec.publicPem, algorithm: 'ES256' } },
              scope: 'production',
            },
          },
        ),
        'SIGNATURE_SCOPE_MISMATCH',
      );
    });
  });

  describe('when .signatures.json is malformed', () => {
    const cases: [string, string][] = [
      ['not JSON', '{'],
      ['without signatures', '{}'],
      ['with two signatures', '{"signatures": ["a.b.c", "d.e.f"]}'],
      ['with an unknown plugin', '{"signatures": ["a.b.c"], "plugin": "custom"}'],
      ['with a token that is not a JWS', '{"signatures": ["nope"]}'],
    ];
    for (const [what, content] of cases) {
      it(`throws SIGNATURE_MALFORMED (${what})`, async () => {
        const files = await untar(signed);
        files.set('.signatures.json', Buffer.from(content));
        await rejectsCode(
          loadBundle({ kind: 'files', files }, keys('default', ec, 'ES256')),
          'SIGNATURE_MALFORMED',
        );
      });
    }
  });
});
