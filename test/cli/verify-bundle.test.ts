// The CLI as a user (or the sigstore-conformance harness) runs it: a real
// process, real files, exit codes and the one-line reason on stderr.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const F = join(ROOT, 'test/fixtures');
const GH = 'https://token.actions.githubusercontent.com';

function provgate(...args: string[]) {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin/provgate.js'), ...args], {
    encoding: 'utf8',
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function sha(alg: 'sha256' | 'sha512', path: string): string {
  return `${alg}:${createHash(alg).update(readFileSync(path)).digest('hex')}`;
}

describe('provgate verify-bundle', () => {
  const tgz = join(F, 'gh-attestation/sigstore-js-2.1.0.tgz');
  const bundle = join(F, 'gh-attestation/sigstore-js-2.1.0-bundle.json');
  const identity = [
    '--certificate-identity',
    'https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main',
    '--certificate-oidc-issuer',
    GH,
  ];

  describe('when the bundle verifies', () => {
    it('exits 0 for a file path', () => {
      const r = provgate('verify-bundle', '--bundle', bundle, ...identity, tgz);
      assert.equal(r.status, 0, r.stderr);
    });
    it('exits 0 for a digest', () => {
      const r = provgate('verify-bundle', '--bundle', bundle, ...identity, sha('sha512', tgz));
      assert.equal(r.status, 0, r.stderr);
    });
    it('exits 0 with --key and --trusted-root', () => {
      const dir = join(F, 'sigstore-js/client-fixtures');
      const r = provgate(
        'verify-bundle',
        '--bundle',
        join(dir, 'valid.v1.dsse.withPublicKey.sigstore.json'),
        '--key',
        join(dir, 'publicKey.key-1.pem'),
        '--trusted-root',
        join(dir, 'trusted_root.test-subset.json'),
        join(dir, 'artifact.txt'),
      );
      assert.equal(r.status, 0, r.stderr);
    });
    it('exits 0 for every generic-v2.1.0 bundle given the subject digest', () => {
      for (const name of ['workflow_dispatch', 'push-v13.0.30', 'push-v14', 'push-v14.2']) {
        const r = provgate(
          'verify-bundle',
          '--bundle',
          join(F, `slsa-github-generator/generic-v2.1.0/binary-linux-amd64-${name}.intoto.jsonl`),
          '--certificate-identity',
          'https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_generic_slsa3.yml@refs/tags/v2.1.0',
          '--certificate-oidc-issuer',
          GH,
          'sha256:376e7e01348585b6e6643bc6663146b9d525d9b41228bf180eaeb4d4a3706caa',
        );
        assert.equal(r.status, 0, `${name}: ${r.stderr}`);
      }
    });
  });

  describe('when verification fails', () => {
    it('exits 1 with the coded reason on one line for another identity', () => {
      const r = provgate(
        'verify-bundle',
        '--bundle',
        bundle,
        '--certificate-identity',
        'https://github.com/a/b/.github/workflows/x.yml@refs/heads/main',
        '--certificate-oidc-issuer',
        GH,
        tgz,
      );
      assert.equal(r.status, 1);
      assert.match(r.stderr.trim(), /^verification failed: IDENTITY_MISMATCH: [^\n]+$/);
    });
    it('exits 1 for an artifact the bundle does not cover', () => {
      const r = provgate(
        'verify-bundle',
        '--bundle',
        bundle,
        ...identity,
        `sha512:${'00'.repeat(64)}`,
      );
      assert.equal(r.status, 1);
      assert.match(r.stderr, /SUBJECT_DIGEST_MISMATCH/);
    });
    it('exits 1 for a tampered bundle', () => {
      const dir = mkdtempSync(join(tmpdir(), 'provgate-'));
      const doc = JSON.parse(readFileSync(bundle, 'utf8')) as { dsseEnvelope: { payload: string } };
      const payload = Buffer.from(doc.dsseEnvelope.payload, 'base64')
        .toString('utf8')
        .replace('sigstore-js', 'sigstore-jz');
      doc.dsseEnvelope.payload = Buffer.from(payload).toString('base64');
      writeFileSync(join(dir, 'b.json'), JSON.stringify(doc));
      const r = provgate('verify-bundle', '--bundle', join(dir, 'b.json'), ...identity, tgz);
      assert.equal(r.status, 1);
      assert.match(r.stderr, /SIGNATURE_INVALID/);
    });
    it('exits 1 for a bundle that is not JSON', () => {
      const dir = mkdtempSync(join(tmpdir(), 'provgate-'));
      writeFileSync(join(dir, 'b.json'), '{"mediaType": ');
      const r = provgate('verify-bundle', '--bundle', join(dir, 'b.json'), ...identity, tgz);
      assert.equal(r.status, 1);
      assert.match(r.stderr, /MALFORMED_JSON/);
    });
  });

  describe('when the invocation is wrong', () => {
    it('exits 2 without an identity or key', () => {
      assert.equal(provgate('verify-bundle', '--bundle', bundle, tgz).status, 2);
    });
    it('exits 2 for a malformed digest', () => {
      const r = provgate('verify-bundle', '--bundle', bundle, ...identity, 'sha256:abc');
      assert.equal(r.status, 2);
      assert.match(r.stderr, /not a digest/);
    });
    it('exits 2 for a missing trusted root file', () => {
      assert.equal(
        provgate(
          'verify-bundle',
          '--bundle',
          bundle,
          ...identity,
          '--trusted-root',
          '/nonexistent',
          tgz,
        ).status,
        2,
      );
    });
    it('exits 2 for an unknown command', () => {
      assert.equal(provgate('verify-everything').status, 2);
    });
  });
});

describe('provgate verify', () => {
  it('prints the verified facts as JSON', () => {
    const name = join(F, 'npm-attestations/gundam-visor-cli-v1-tag.tgz');
    const r = provgate('verify', name, '--bundle', `${name}.json`, '--format', 'json');
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout) as {
      verified: boolean;
      attestations: { provenance?: { sourceRepositoryUri?: string } }[];
    };
    assert.equal(out.verified, true);
    assert.equal(out.attestations.length, 2);
    assert.ok(
      out.attestations.some(
        (a) =>
          a.provenance?.sourceRepositoryUri === 'https://github.com/ramonpetgrave64/gundam-visor',
      ),
    );
  });
  it('exits 1 and names the attestation that failed', () => {
    const name = join(F, 'npm-attestations/gundam-visor-cli-v1-tag-invalidsigprov.tgz');
    const r = provgate('verify', name, '--bundle', `${name}.json`);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /SIGNATURE_INVALID: attestations\[1\]/);
  });
  it('matches identities with an anchored regular expression only', () => {
    const tgz = join(F, 'gh-attestation/sigstore-js-2.1.0.tgz');
    const bundle = join(F, 'gh-attestation/sigstore-js-2.1.0-bundle.json');
    const ok = provgate(
      'verify',
      tgz,
      '--bundle',
      bundle,
      '--certificate-identity-regexp',
      String.raw`https://github\.com/sigstore/sigstore-js/.*`,
    );
    assert.equal(ok.status, 0, ok.stderr);
    const substring = provgate(
      'verify',
      tgz,
      '--bundle',
      bundle,
      '--certificate-identity-regexp',
      'sigstore-js',
    );
    assert.equal(substring.status, 1);
    assert.match(substring.stderr, /IDENTITY_MISMATCH/);
  });
});
