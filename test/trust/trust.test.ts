import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  buildTrustMaterial,
  loadTrustMaterial,
  parseTrustedRootFile,
  TrustError,
} from '../../src/trust/index.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const fixture = (p: string) => join(ROOT, 'test/fixtures', p);

function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

function assertTrustError(fn: () => unknown, code: TrustError['code']): void {
  assert.throws(fn, (err: unknown) => err instanceof TrustError && err.code === code);
}

describe('trust', () => {
  describe('embedded material', () => {
    // Changing an embedded trust file must be a deliberate, reviewed change:
    // update PROVENANCE.md and these digests together.
    it('pins the digests recorded in PROVENANCE.md', () => {
      const provenance = readFileSync(join(ROOT, 'src/trust/embedded/PROVENANCE.md'), 'utf8');
      for (const file of ['public-good.trusted_root.json', 'npm-registry-keys.json']) {
        const digest = sha256(join(ROOT, 'src/trust/embedded', file));
        assert.ok(
          provenance.includes(`\`${digest}\``),
          `${file} digest ${digest} is not in PROVENANCE.md`,
        );
      }
    });

    it('loads the public-good root and npm keys with no configuration', () => {
      const t = loadTrustMaterial();
      assert.deepEqual(
        t.tlogs.map((l) => l.baseUrl),
        ['https://rekor.sigstore.dev', 'https://log2025-1.rekor.sigstore.dev'],
      );
      assert.equal(t.certificateAuthorities.length, 2);
      assert.equal(t.timestampAuthorities.length, 1);
      assert.ok(
        t.keys.some(
          (k) =>
            k.keyId === 'SHA256:DhQ8wR5APBvFHLF/+Tc+AYvPOdTpcIDqOhxsBHRwC7U' &&
            k.usage === 'npm:attestations',
        ),
      );
    });
  });

  describe('#loadTrustMaterial', () => {
    it('replaces the embedded root with custom roots, and can trust both', () => {
      const custom = loadTrustMaterial({
        trustedRootFiles: [fixture('sigstore-js/verify-fixtures/trust.trustedRootJSON.json')],
      });
      assert.ok(custom.tlogs.some((l) => l.baseUrl === 'https://tlog.sigstore.dev'));
      assert.ok(!custom.tlogs.some((l) => l.baseUrl === 'https://rekor.sigstore.dev'));
      const both = loadTrustMaterial({
        trustedRootFiles: [fixture('sigstore-js/verify-fixtures/trust.trustedRootJSON.json')],
        includeEmbedded: true,
      });
      assert.ok(both.tlogs.some((l) => l.baseUrl === 'https://rekor.sigstore.dev'));
      assert.notEqual(custom.revision, both.revision);
    });

    it('reads a trusted root in JSON Lines form', () => {
      const roots = parseTrustedRootFile(fixture('gh-attestation/trusted_root.json'));
      assert.equal(roots.length, 1);
      const dir = mkdtempSync(join(tmpdir(), 'provgate-'));
      const two = join(dir, 'roots.jsonl');
      const line = readFileSync(fixture('gh-attestation/trusted_root.json'), 'utf8').trim();
      writeFileSync(
        two,
        `${line}\n\n${JSON.stringify(JSON.parse(readFileSync(fixture('sigstore-js/tuf-seeds/trusted_root.json'), 'utf8')))}\n`,
      );
      assert.equal(parseTrustedRootFile(two).length, 2);
    });

    it('throws TRUST_MATERIAL_UNREADABLE for a missing file', () => {
      assertTrustError(
        () => loadTrustMaterial({ trustedRootFiles: ['/nonexistent/root.json'] }),
        'TRUST_MATERIAL_UNREADABLE',
      );
    });

    it('throws TRUST_MATERIAL_INVALID for a file that is not JSON', () => {
      const dir = mkdtempSync(join(tmpdir(), 'provgate-'));
      writeFileSync(join(dir, 'root.json'), 'not json\nat all');
      assertTrustError(
        () => loadTrustMaterial({ trustedRootFiles: [join(dir, 'root.json')] }),
        'TRUST_MATERIAL_INVALID',
      );
    });
  });

  describe('#buildTrustMaterial', () => {
    const good = JSON.parse(
      readFileSync(fixture('sigstore-js/tuf-seeds/trusted_root.json'), 'utf8'),
    ) as Record<string, unknown>;

    it('throws TRUST_MATERIAL_INVALID for another media type', () => {
      assertTrustError(
        () => buildTrustMaterial({ trustedRoots: [{ ...good, mediaType: 'application/json' }] }),
        'TRUST_MATERIAL_INVALID',
      );
    });

    it('throws TRUST_MATERIAL_INVALID for a key that is not DER', () => {
      const tlogs = [
        {
          baseUrl: 'https://x',
          publicKey: { rawBytes: 'AAAA', keyDetails: 'PKIX_ECDSA_P256_SHA_256' },
        },
      ];
      assertTrustError(
        () => buildTrustMaterial({ trustedRoots: [{ ...good, tlogs }] }),
        'TRUST_MATERIAL_INVALID',
      );
    });

    it('throws TRUST_MATERIAL_INVALID for a certificate chain that is not one path', () => {
      // The Fulcio intermediate beside the TSA's root: neither issued the other.
      const cas = good.certificateAuthorities as { certChain: { certificates: unknown[] } }[];
      const tsas = good.timestampAuthorities as { certChain: { certificates: unknown[] } }[];
      const mixed = {
        ...cas[1],
        certChain: {
          certificates: [cas[1]!.certChain.certificates[0], tsas[0]!.certChain.certificates[1]],
        },
      };
      assertTrustError(
        () => buildTrustMaterial({ trustedRoots: [{ ...good, certificateAuthorities: [mixed] }] }),
        'TRUST_MATERIAL_INVALID',
      );
    });

    it('orders a root-first chain issuing certificate first', () => {
      const root: unknown = JSON.parse(
        readFileSync(fixture('sigstore-js/client-fixtures/trusted_root.test-subset.json'), 'utf8'),
      );
      const [ca] = buildTrustMaterial({ trustedRoots: [root] }).certificateAuthorities;
      assert.ok(ca!.chain[0]!.subject.toString('latin1').includes('sigstore-intermediate'));
      assert.ok(ca!.chain[0]!.issuer.equals(ca!.chain[1]!.subject));
    });

    it('gives the same revision for the same inputs and another for other inputs', () => {
      assert.equal(
        buildTrustMaterial({ trustedRoots: [good] }).revision,
        buildTrustMaterial({ trustedRoots: [good] }).revision,
      );
      assert.notEqual(
        buildTrustMaterial({ trustedRoots: [good] }).revision,
        buildTrustMaterial({ trustedRoots: [] }).revision,
      );
    });
  });
});
