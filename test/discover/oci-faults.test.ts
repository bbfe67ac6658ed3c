// Registry discovery against a scripted registry on loopback: the faults a
// real registry shows only now and then (down, slow, rate-limited, lying
// about sizes and types, redirecting in circles, a tag moving), auth, mirrors,
// caching, and the addresses that must never be contacted.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, beforeEach, describe, it } from 'node:test';
import {
  createOciDiscovery,
  DiscoveryError,
  type DiscoveryErrorCode,
  type OciDiscoveryOptions,
} from '../../src/discover/index.ts';
import { guardedLookup } from '../../src/discover/oci/address.ts';
import {
  closedPort,
  imageManifest,
  sendManifest,
  sha256,
  startFakeRegistry,
  type FakeRegistry,
} from './fake-registry.ts';

const SUBJECT = sha256('the image');
const HEX = SUBJECT.slice('sha256:'.length);
const BUNDLE_TYPE = 'application/vnd.dev.sigstore.bundle.v0.3+json';
const BUNDLE = JSON.stringify({ mediaType: BUNDLE_TYPE, note: 'not verified here' });

async function rejectsWith(p: Promise<unknown>, code: DiscoveryErrorCode): Promise<DiscoveryError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof DiscoveryError, `expected a DiscoveryError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    return err;
  }
  assert.fail(`expected ${code}, but it resolved`);
}

const never = () => new AbortController().signal;

/** A referrer manifest for SUBJECT with one bundle layer. */
function referrer(bundle = BUNDLE): string {
  return imageManifest({
    artifactType: BUNDLE_TYPE,
    config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: sha256('{}'), size: 2 },
    layers: [{ mediaType: BUNDLE_TYPE, digest: sha256(bundle), size: Buffer.byteLength(bundle) }],
    subject: {
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      digest: SUBJECT,
      size: 100,
    },
  });
}

function referrersIndex(manifests: string[]): string {
  return JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: manifests.map((m) => ({
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      digest: sha256(m),
      size: Buffer.byteLength(m),
      artifactType: BUNDLE_TYPE,
    })),
  });
}

/** Serves SUBJECT's referrers API with `manifests` and their blobs. */
function servesReferrers(fake: FakeRegistry, manifests: string[], blobs: string[]) {
  const index = referrersIndex(manifests);
  fake.handle = (req, res) => {
    const url = req.url ?? '';
    if (url === `/v2/app/referrers/${SUBJECT}`) {
      sendManifest(req, res, index, 'application/vnd.oci.image.index.v1+json');
      return;
    }
    for (const m of manifests)
      if (url === `/v2/app/manifests/${sha256(m)}`) {
        sendManifest(req, res, m);
        return;
      }
    for (const b of blobs) {
      if (url === `/v2/app/blobs/${sha256(b)}`) {
        res.setHeader('content-type', 'application/octet-stream');
        {
          res.end(b);
          return;
        }
      }
    }
    res.statusCode = 404;
    res.end();
  };
}

describe('OCI discovery (scripted registry)', () => {
  let fake: FakeRegistry;
  const artifact = () => ({ name: `${fake.host}/app`, digests: { sha256: HEX } });
  const discovery = (options: OciDiscoveryOptions = {}) =>
    createOciDiscovery({
      insecureRegistries: [fake.host],
      retries: { backoffMs: 1 },
      ...options,
    });

  before(async () => {
    fake = await startFakeRegistry();
  });
  after(() => fake.close());
  beforeEach(() => {
    fake.requests.length = 0;
  });

  describe('#discover', () => {
    it('returns the bundles attached through the referrers API, naming where each came from', async () => {
      const m = referrer();
      servesReferrers(fake, [m], [BUNDLE]);
      const found = await discovery().discover(artifact(), never());
      assert.equal(found.length, 1);
      assert.equal(Buffer.from(found[0]!.bytes).toString(), BUNDLE);
      assert.equal(found[0]!.source, `${fake.host}/app referrer ${sha256(m)}`);
    });

    it('skips referrers of other artifact types and ones whose subject is another digest', async () => {
      const sbom = imageManifest({
        artifactType: 'application/spdx+json',
        subject: {
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          digest: SUBJECT,
          size: 1,
        },
      });
      const elsewhere = imageManifest({
        artifactType: BUNDLE_TYPE,
        layers: [{ mediaType: BUNDLE_TYPE, digest: sha256(BUNDLE), size: BUNDLE.length }],
        subject: {
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          digest: sha256('other'),
          size: 1,
        },
      });
      const index = JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.index.v1+json',
        manifests: [
          {
            mediaType: 'application/vnd.oci.image.manifest.v1+json',
            digest: sha256(sbom),
            size: sbom.length,
            artifactType: 'application/spdx+json',
          },
          {
            mediaType: 'application/vnd.oci.image.manifest.v1+json',
            digest: sha256(elsewhere),
            size: elsewhere.length,
            artifactType: BUNDLE_TYPE,
          },
        ],
      });
      fake.handle = (req, res) => {
        if (req.url === `/v2/app/referrers/${SUBJECT}`) {
          sendManifest(req, res, index, 'application/vnd.oci.image.index.v1+json');
          return;
        }
        if (req.url === `/v2/app/manifests/${sha256(elsewhere)}`) {
          sendManifest(req, res, elsewhere);
          return;
        }
        res.statusCode = 404;
        res.end();
      };
      const err = await rejectsWith(discovery().discover(artifact(), never()), 'NO_ATTESTATIONS');
      assert.match(err.message, new RegExp(`no attestations attached to ${SUBJECT}`));
      assert.ok(
        !fake.requests.includes(`GET /v2/app/manifests/${sha256(sbom)}`),
        'the SBOM is never fetched',
      );
    });

    it('follows referrers pages on the same registry', async () => {
      const first = referrer();
      const secondBundle = JSON.stringify({ mediaType: BUNDLE_TYPE, page: 2 });
      const second = referrer(secondBundle);
      const blobs = [BUNDLE, secondBundle];
      fake.handle = (req, res) => {
        const url = req.url ?? '';
        if (url === `/v2/app/referrers/${SUBJECT}`) {
          res.setHeader('link', `</v2/app/referrers/${SUBJECT}?n=1&last=x>; rel="next"`);
          {
            sendManifest(
              req,
              res,
              referrersIndex([first]),
              'application/vnd.oci.image.index.v1+json',
            );
            return;
          }
        }
        if (url === `/v2/app/referrers/${SUBJECT}?n=1&last=x`) {
          {
            sendManifest(
              req,
              res,
              referrersIndex([second]),
              'application/vnd.oci.image.index.v1+json',
            );
            return;
          }
        }
        for (const m of [first, second])
          if (url === `/v2/app/manifests/${sha256(m)}`) {
            sendManifest(req, res, m);
            return;
          }
        for (const b of blobs)
          if (url === `/v2/app/blobs/${sha256(b)}`) {
            res.end(b);
            return;
          }
        res.statusCode = 404;
        res.end();
      };
      const found = await discovery().discover(artifact(), never());
      assert.equal(found.length, 2);
    });

    it('throws NO_ATTESTATIONS when nothing is attached, or returns [] when told to', async () => {
      fake.handle = (_req, res) => {
        res.statusCode = 404;
        res.end();
      };
      const err = await rejectsWith(discovery().discover(artifact(), never()), 'NO_ATTESTATIONS');
      assert.match(err.message, /referrers API \(not supported\), referrers tag, cosign \.att tag/);
      assert.deepEqual(
        await discovery({ requireAttestations: false }).discover(artifact(), never()),
        [],
      );
    });

    it('refuses an artifact without a sha256 digest (REFERENCE_INVALID)', async () => {
      await rejectsWith(
        discovery().discover(
          { name: `${fake.host}/app`, digests: { sha512: 'ab'.repeat(64) } },
          never(),
        ),
        'REFERENCE_INVALID',
      );
    });
  });

  describe('when the registry is down', () => {
    it('throws REGISTRY_UNREACHABLE naming the registry and "connection refused"', async () => {
      const host = await closedPort();
      const d = createOciDiscovery({ insecureRegistries: [host] });
      const err = await rejectsWith(
        d.discover({ name: `${host}/app`, digests: { sha256: HEX } }, never()),
        'REGISTRY_UNREACHABLE',
      );
      assert.equal(err.message, `registry ${host} unreachable: connection refused`);
    });
  });

  describe('when the registry drops the connection mid-response', () => {
    it('throws REGISTRY_UNREACHABLE', async () => {
      fake.handle = (req, res) => {
        res.setHeader('content-type', 'application/vnd.oci.image.manifest.v1+json');
        if (req.method === 'HEAD') {
          res.end();
          return;
        }
        res.setHeader('content-length', '1000');
        res.write('{"schemaVersion":');
        setTimeout(() => req.socket.destroy(), 10);
      };
      await rejectsWith(
        discovery().resolveTag(`${fake.host}/app:v1`, never()),
        'REGISTRY_UNREACHABLE',
      );
    });
  });

  describe('when the registry is slower than the deadline', () => {
    it('gives up when the caller’s signal fires (DISCOVERY_TIMEOUT), promptly', async () => {
      fake.handle = () => {
        // never answers
      };
      const started = Date.now();
      await rejectsWith(
        discovery().discover(artifact(), AbortSignal.timeout(150)),
        'DISCOVERY_TIMEOUT',
      );
      assert.ok(Date.now() - started < 2000);
    });

    it('ends a single request at the request timeout', async () => {
      fake.handle = () => {};
      const err = await rejectsWith(
        discovery({ timeouts: { requestMs: 100 } }).resolveTag(`${fake.host}/app:v1`, never()),
        'DISCOVERY_TIMEOUT',
      );
      assert.match(err.message, /did not answer within 100 ms/);
    });

    it('never waits out a Retry-After past the deadline', async () => {
      fake.handle = (_req, res) => {
        res.statusCode = 429;
        res.setHeader('retry-after', '3');
        res.end();
      };
      const started = Date.now();
      await rejectsWith(
        discovery({ retries: { maxWaitMs: 10_000 } }).resolveTag(
          `${fake.host}/app:v1`,
          AbortSignal.timeout(200),
        ),
        'DISCOVERY_TIMEOUT',
      );
      assert.ok(Date.now() - started < 2000);
    });
  });

  describe('when the registry answers 429 or 5xx', () => {
    it('retries after the Retry-After it gives, then succeeds', async () => {
      const waits: number[] = [];
      const manifest = imageManifest();
      let calls = 0;
      fake.handle = (req, res) => {
        if (calls++ === 0) {
          res.statusCode = 429;
          res.setHeader('retry-after', '2');
          {
            res.end();
            return;
          }
        }
        sendManifest(req, res, manifest);
      };
      const d = discovery({
        sleep: (ms) => {
          waits.push(ms);
          return Promise.resolve();
        },
      });
      const resolved = await d.resolveTag(`${fake.host}/app:v1`, never());
      assert.equal(resolved.digest, sha256(manifest));
      assert.deepEqual(waits, [2000]);
      assert.equal(d.stats.retries, 1);
    });

    it('gives up after the retry budget with REGISTRY_RATE_LIMITED "<host> answered 429 rate-limited"', async () => {
      fake.handle = (_req, res) => {
        res.statusCode = 429;
        res.setHeader('retry-after', '0');
        res.end();
      };
      const d = discovery({ retries: { max: 2 } });
      const err = await rejectsWith(
        d.resolveTag(`${fake.host}/app:v1`, never()),
        'REGISTRY_RATE_LIMITED',
      );
      assert.match(err.message, new RegExp(`^${fake.host} answered 429 rate-limited`));
      assert.equal(fake.requests.length, 3);
    });

    it('does not wait for a Retry-After longer than allowed', async () => {
      fake.handle = (_req, res) => {
        res.statusCode = 429;
        res.setHeader('retry-after', '3600');
        res.end();
      };
      const err = await rejectsWith(
        discovery().resolveTag(`${fake.host}/app:v1`, never()),
        'REGISTRY_RATE_LIMITED',
      );
      assert.match(err.message, /wait 3600 s/);
      assert.equal(fake.requests.length, 1);
    });

    it('retries a 503 with backoff and reports REGISTRY_ERROR if it persists', async () => {
      fake.handle = (_req, res) => {
        res.statusCode = 503;
        res.end('{"errors":[{"code":"UNAVAILABLE","message":"down for maintenance"}]}');
      };
      const err = await rejectsWith(discovery().discover(artifact(), never()), 'REGISTRY_ERROR');
      assert.match(err.message, /answered 503 .*UNAVAILABLE: down for maintenance/);
      assert.equal(fake.requests.length, 3);
    });
  });

  describe('when a response is oversized', () => {
    it('refuses a manifest whose Content-Length is over the limit without reading it', async () => {
      fake.handle = (req, res) => {
        res.setHeader('content-type', 'application/vnd.oci.image.manifest.v1+json');
        res.setHeader('content-length', String(10 * 1024 * 1024));
        if (req.method === 'HEAD') {
          res.end();
          return;
        }
        res.write('{');
      };
      await rejectsWith(
        discovery().resolveTag(`${fake.host}/app:v1`, never()),
        'RESPONSE_TOO_LARGE',
      );
    });

    it('counts streamed bytes when no length is given', async () => {
      fake.handle = (req, res) => {
        // No Content-Length and no digest: the body has to be read, and is cut off.
        res.setHeader('content-type', 'application/vnd.oci.image.manifest.v1+json');
        if (req.method === 'HEAD') {
          res.end();
          return;
        }
        const chunk = Buffer.alloc(64 * 1024, 0x20);
        let sent = 0;
        const pump = () => {
          while (sent < 100 && res.write(chunk)) sent++;
          if (sent < 100) res.once('drain', pump);
          else res.end();
        };
        pump();
      };
      const d = discovery({ limits: { manifestBytes: 1024 * 1024 } });
      const err = await rejectsWith(
        d.resolveTag(`${fake.host}/app:v1`, never()),
        'RESPONSE_TOO_LARGE',
      );
      assert.match(err.message, /more than 1048576 bytes/);
    });

    it('refuses a blob whose descriptor is over the limit before fetching it', async () => {
      const big = 'x'.repeat(2048);
      servesReferrers(fake, [referrer(big)], [big]);
      await rejectsWith(
        discovery({ limits: { blobBytes: 1024 } }).discover(artifact(), never()),
        'RESPONSE_TOO_LARGE',
      );
      assert.ok(!fake.requests.some((r) => r.includes('/blobs/')));
    });
  });

  describe('when media types are wrong', () => {
    it('refuses a tag served as something other than a manifest (MEDIA_TYPE_UNSUPPORTED)', async () => {
      fake.handle = (_req, res) => {
        res.setHeader('content-type', 'text/html');
        res.end('<html></html>');
      };
      await rejectsWith(
        discovery().resolveTag(`${fake.host}/app:v1`, never()),
        'MEDIA_TYPE_UNSUPPORTED',
      );
    });

    it('refuses a manifest whose body declares another type than it is served as', async () => {
      const body = imageManifest();
      fake.handle = (req, res) => {
        res.setHeader('content-type', 'application/vnd.oci.image.index.v1+json');
        if (req.method === 'HEAD') {
          res.end();
          return;
        }
        res.end(body);
      };
      await rejectsWith(
        discovery().resolveTag(`${fake.host}/app:v1`, never()),
        'MEDIA_TYPE_UNSUPPORTED',
      );
    });

    it('refuses a Docker schema 1 manifest', async () => {
      fake.handle = (req, res) =>
        sendManifest(
          req,
          res,
          '{"schemaVersion":1}',
          'application/vnd.docker.distribution.manifest.v1+prettyjws',
        );
      await rejectsWith(
        discovery().resolveTag(`${fake.host}/app:v1`, never()),
        'MEDIA_TYPE_UNSUPPORTED',
      );
    });

    it('refuses a referrers answer that is not an index', async () => {
      fake.handle = (req, res) => {
        if (req.url === `/v2/app/referrers/${SUBJECT}`) {
          sendManifest(req, res, imageManifest());
          return;
        }
        res.statusCode = 404;
        res.end();
      };
      await rejectsWith(discovery().discover(artifact(), never()), 'MEDIA_TYPE_UNSUPPORTED');
    });
  });

  describe('when content does not match its digest', () => {
    it('refuses a blob whose bytes hash to another digest (DIGEST_MISMATCH)', async () => {
      const m = referrer();
      servesReferrers(fake, [m], []);
      const original = fake.handle;
      fake.handle = (req, res) => {
        if (req.url === `/v2/app/blobs/${sha256(BUNDLE)}`) {
          // Same length, different bytes.
          {
            res.end(BUNDLE.replace('not', 'NOT'));
            return;
          }
        }
        original(req, res);
      };
      await rejectsWith(discovery().discover(artifact(), never()), 'DIGEST_MISMATCH');
    });

    it('refuses a tag whose served manifest is not the digest the registry claims', async () => {
      const body = imageManifest();
      fake.handle = (req, res) => {
        res.setHeader('content-type', 'application/vnd.oci.image.manifest.v1+json');
        if (req.method === 'HEAD') {
          res.end();
          return;
        }
        res.setHeader('docker-content-digest', sha256('something else'));
        res.end(body);
      };
      await rejectsWith(discovery().resolveTag(`${fake.host}/app:v1`, never()), 'DIGEST_MISMATCH');
    });
  });

  describe('when the registry redirects', () => {
    it('stops a redirect loop with TOO_MANY_REDIRECTS', async () => {
      fake.handle = (req, res) => {
        res.statusCode = 302;
        res.setHeader('location', req.url === '/a' ? '/b' : '/a');
        res.end();
      };
      await rejectsWith(
        discovery().resolveTag(`${fake.host}/app:v1`, never()),
        'TOO_MANY_REDIRECTS',
      );
      assert.equal(fake.requests.length, 6);
    });

    it('follows a blob redirect, without the registry credentials', async () => {
      const m = referrer();
      servesReferrers(fake, [m], [BUNDLE]);
      const serve = fake.handle;
      const seen: (string | undefined)[] = [];
      fake.handle = (req, res) => {
        if (req.url?.startsWith('/v2/app/blobs/')) {
          res.statusCode = 307;
          res.setHeader('location', `/storage/${sha256(BUNDLE)}`);
          {
            res.end();
            return;
          }
        }
        if (req.url?.startsWith('/storage/')) {
          seen.push(req.headers.authorization);
          {
            res.end(BUNDLE);
            return;
          }
        }
        serve(req, res);
      };
      const found = await discovery().discover(artifact(), never());
      assert.equal(found.length, 1);
      assert.equal(seen.length, 1);
    });

    it('refuses a redirect to a link-local address (ADDRESS_NOT_ALLOWED)', async () => {
      fake.handle = (_req, res) => {
        res.statusCode = 302;
        res.setHeader('location', 'https://169.254.169.254/latest/meta-data/');
        res.end();
      };
      await rejectsWith(
        discovery().resolveTag(`${fake.host}/app:v1`, never()),
        'ADDRESS_NOT_ALLOWED',
      );
    });

    it('refuses a redirect to plain HTTP off loopback', async () => {
      fake.handle = (_req, res) => {
        res.statusCode = 302;
        res.setHeader('location', 'http://example.com/x');
        res.end();
      };
      await rejectsWith(
        discovery().resolveTag(`${fake.host}/app:v1`, never()),
        'ADDRESS_NOT_ALLOWED',
      );
    });
  });

  describe('tag resolution', () => {
    it('reuses a resolution within the TTL and sees a moved tag after it', async () => {
      const a = imageManifest({ annotations: { v: 'a' } });
      const b = imageManifest({ annotations: { v: 'b' } });
      let current = a;
      fake.handle = (req, res) => sendManifest(req, res, current);
      let now = 1_000_000;
      const d = discovery({ now: () => now, cache: { tagTtlMs: 30_000 } });
      assert.equal((await d.resolveTag(`${fake.host}/app:v1`, never())).digest, sha256(a));
      current = b; // the tag moves between two requests
      now += 10_000;
      assert.equal((await d.resolveTag(`${fake.host}/app:v1`, never())).digest, sha256(a));
      assert.equal(fake.requests.length, 1);
      now += 30_000;
      assert.equal((await d.resolveTag(`${fake.host}/app:v1`, never())).digest, sha256(b));
      assert.equal(fake.requests.length, 2);
    });

    it('resolves a tag naming an index to the index digest (what the kubelet pulls)', async () => {
      const index = JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.index.v1+json',
        manifests: [
          {
            mediaType: 'application/vnd.oci.image.manifest.v1+json',
            digest: SUBJECT,
            size: 10,
            platform: { os: 'linux', architecture: 'amd64' },
          },
        ],
      });
      fake.handle = (req, res) =>
        sendManifest(req, res, index, 'application/vnd.oci.image.index.v1+json');
      const r = await discovery().resolveTag(`${fake.host}/app:v1`, never());
      assert.equal(r.digest, sha256(index));
      assert.equal(r.mediaType, 'application/vnd.oci.image.index.v1+json');
    });

    it('computes the digest from the body when HEAD gives none', async () => {
      const body = imageManifest();
      fake.handle = (req, res) => {
        res.setHeader('content-type', 'application/vnd.oci.image.manifest.v1+json');
        res.end(req.method === 'HEAD' ? undefined : body);
      };
      assert.equal(
        (await discovery().resolveTag(`${fake.host}/app:v1`, never())).digest,
        sha256(body),
      );
      assert.deepEqual(fake.requests, ['HEAD /v2/app/manifests/v1', 'GET /v2/app/manifests/v1']);
    });

    it('does not contact the registry for a reference pinned by digest', async () => {
      const r = await discovery().resolveTag(`${fake.host}/app:v1@${SUBJECT}`, never());
      assert.equal(r.digest, SUBJECT);
      assert.equal(fake.requests.length, 0);
    });

    it('throws TAG_NOT_FOUND for a missing tag', async () => {
      fake.handle = (_req, res) => {
        res.statusCode = 404;
        res.end();
      };
      await rejectsWith(discovery().resolveTag(`${fake.host}/app:nope`, never()), 'TAG_NOT_FOUND');
    });

    it('collapses identical resolutions in flight into one request', async () => {
      const body = imageManifest();
      fake.handle = (req, res) => setTimeout(() => sendManifest(req, res, body), 50);
      const d = discovery();
      const results = await Promise.all(
        Array.from({ length: 5 }, () => d.resolveTag(`${fake.host}/app:v1`, never())),
      );
      assert.ok(results.every((r) => r.digest === sha256(body)));
      assert.equal(fake.requests.length, 1);
      assert.equal(d.stats.collapsed, 4);
    });

    it('lets one caller give up without failing the others sharing its fetch', async () => {
      const body = imageManifest();
      fake.handle = (req, res) => setTimeout(() => sendManifest(req, res, body), 100);
      const d = discovery();
      const impatient = d.resolveTag(`${fake.host}/app:v1`, AbortSignal.timeout(20));
      const patient = d.resolveTag(`${fake.host}/app:v1`, never());
      await rejectsWith(impatient, 'DISCOVERY_TIMEOUT');
      assert.equal((await patient).digest, sha256(body));
    });
  });

  describe('caching', () => {
    it('serves a repeated discovery from the cache without touching the registry', async () => {
      servesReferrers(fake, [referrer()], [BUNDLE]);
      const d = discovery({ now: () => 0 });
      await d.discover(artifact(), never());
      const cold = fake.requests.length;
      await d.discover(artifact(), never());
      assert.equal(fake.requests.length, cold);
      assert.ok(d.stats.cacheHits >= 3);
    });

    it('asks for the referrers list again after its TTL, but not for immutable content', async () => {
      servesReferrers(fake, [referrer()], [BUNDLE]);
      let now = 0;
      const d = discovery({ now: () => now, cache: { referrersTtlMs: 1000 } });
      await d.discover(artifact(), never());
      fake.requests.length = 0;
      now += 2000;
      await d.discover(artifact(), never());
      assert.deepEqual(fake.requests, [`GET /v2/app/referrers/${SUBJECT}`]);
    });

    it('never caches a failure', async () => {
      let fail = true;
      const body = imageManifest();
      fake.handle = (req, res) => {
        if (fail) {
          res.statusCode = 500;
          {
            res.end();
            return;
          }
        }
        sendManifest(req, res, body);
      };
      const d = discovery({ retries: { max: 0 } });
      await rejectsWith(d.resolveTag(`${fake.host}/app:v1`, never()), 'REGISTRY_ERROR');
      fail = false;
      assert.equal((await d.resolveTag(`${fake.host}/app:v1`, never())).digest, sha256(body));
    });
  });

  describe('addresses and registries', () => {
    for (const host of [
      '169.254.169.254',
      '[fe80::1]:5000',
      '[::ffff:169.254.169.254]',
      '[::ffff:a9fe:a9fe]:443',
      'metadata.google.internal',
      '0.0.0.0:5000',
    ]) {
      it(`refuses ${host} before connecting (ADDRESS_NOT_ALLOWED)`, async () => {
        await rejectsWith(
          createOciDiscovery().discover({ name: `${host}/app`, digests: { sha256: HEX } }, never()),
          'ADDRESS_NOT_ALLOWED',
        );
      });
    }

    it('refuses a name that resolves to a link-local address at connect time', async () => {
      const lookup = guardedLookup(false);
      const err = await new Promise<unknown>((resolve) =>
        lookup('169.254.169.254', {}, (e) => resolve(e)),
      );
      assert.ok(err instanceof DiscoveryError);
      assert.equal(err.code, 'ADDRESS_NOT_ALLOWED');
    });

    it('lets a plain-HTTP registry resolve only to loopback', async () => {
      const lookup = guardedLookup(true);
      const ok = await new Promise<unknown>((resolve) =>
        lookup('localhost', {}, (e) => resolve(e)),
      );
      assert.equal(ok, null);
    });

    it('refuses a registry that is not allowed (REGISTRY_NOT_ALLOWED)', async () => {
      const d = discovery({ allowedRegistries: ['ghcr.io'] });
      await rejectsWith(d.discover(artifact(), never()), 'REGISTRY_NOT_ALLOWED');
      assert.equal(fake.requests.length, 0);
    });

    it('refuses to configure plain HTTP for a registry off loopback (CONFIG_INVALID)', () => {
      assert.throws(
        () => createOciDiscovery({ insecureRegistries: ['registry.example.com:5000'] }),
        (err: unknown) => err instanceof DiscoveryError && err.code === 'CONFIG_INVALID',
      );
    });

    it('speaks TLS to a registry that is not named insecure', async () => {
      await rejectsWith(
        createOciDiscovery({ retries: { max: 0 } }).resolveTag(`${fake.host}/app:v1`, never()),
        'REGISTRY_UNREACHABLE',
      );
    });
  });

  describe('mirrors', () => {
    it('falls back to the registry when the mirror is down', async () => {
      const body = imageManifest();
      fake.handle = (req, res) => sendManifest(req, res, body);
      const mirror = await closedPort();
      const d = discovery({
        insecureRegistries: [fake.host, mirror],
        registries: { [fake.host]: { mirror } },
      });
      assert.equal((await d.resolveTag(`${fake.host}/app:v1`, never())).digest, sha256(body));
    });

    it('uses the mirror when it answers', async () => {
      const mirror = await startFakeRegistry();
      try {
        const body = imageManifest({ annotations: { from: 'mirror' } });
        mirror.handle = (req, res) => sendManifest(req, res, body);
        const d = discovery({
          insecureRegistries: [fake.host, mirror.host],
          registries: { [fake.host]: { mirror: mirror.host } },
        });
        assert.equal((await d.resolveTag(`${fake.host}/app:v1`, never())).digest, sha256(body));
        assert.equal(fake.requests.length, 0);
      } finally {
        await mirror.close();
      }
    });
  });
});

describe('OCI discovery auth', () => {
  let fake: FakeRegistry;
  let dir: string;
  const body = imageManifest();

  before(async () => {
    fake = await startFakeRegistry();
    dir = await mkdtemp(join(tmpdir(), 'provgate-auth-'));
  });
  after(async () => {
    await fake.close();
    await rm(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    fake.requests.length = 0;
  });

  async function dockerConfig(auths: Record<string, unknown>): Promise<string> {
    const path = join(dir, `config-${Math.random().toString(16).slice(2)}.json`);
    await writeFile(path, JSON.stringify({ auths }));
    return path;
  }

  /** The token flow: /v2/ needs a Bearer token, which /token gives for the right Basic credentials. */
  function tokenRegistry(expectedBasic: string | undefined) {
    fake.handle = (req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname === '/token') {
        if (expectedBasic !== undefined && req.headers.authorization !== expectedBasic) {
          res.statusCode = 401;
          {
            res.end();
            return;
          }
        }
        assert.equal(url.searchParams.get('scope'), 'repository:app:pull');
        assert.equal(url.searchParams.get('service'), 'fake');
        res.setHeader('content-type', 'application/json');
        {
          res.end(JSON.stringify({ token: 'tok-123', expires_in: 300 }));
          return;
        }
      }
      if (req.headers.authorization !== 'Bearer tok-123') {
        res.statusCode = 401;
        res.setHeader(
          'www-authenticate',
          `Bearer realm="http://${fake.host}/token",service="fake",scope="repository:app:pull"`,
        );
        {
          res.end();
          return;
        }
      }
      sendManifest(req, res, body);
    };
  }

  it('gets an anonymous token from the realm and reuses it', async () => {
    tokenRegistry(undefined);
    const d = createOciDiscovery({ insecureRegistries: [fake.host] });
    await d.resolveTag(`${fake.host}/app:v1`, never());
    await d.resolveTag(`${fake.host}/app:v2`, never());
    assert.equal(d.stats.tokenFetches, 1);
    assert.deepEqual(
      fake.requests.map((r) => r.replace(/\?.*/, '')),
      [
        'HEAD /v2/app/manifests/v1',
        'GET /token',
        'HEAD /v2/app/manifests/v1',
        'HEAD /v2/app/manifests/v2',
      ],
    );
  });

  it('shares one token fetch among requests challenged at once', async () => {
    tokenRegistry(undefined);
    const d = createOciDiscovery({ insecureRegistries: [fake.host] });
    await Promise.all(
      ['a', 'b', 'c', 'd'].map((tag) => d.resolveTag(`${fake.host}/app:${tag}`, never())),
    );
    assert.equal(d.stats.tokenFetches, 1);
  });

  it('refuses a token realm on a link-local address (ADDRESS_NOT_ALLOWED)', async () => {
    fake.handle = (_req, res) => {
      res.statusCode = 401;
      res.setHeader('www-authenticate', 'Bearer realm="https://169.254.169.254/token"');
      res.end();
    };
    await rejectsWith(
      createOciDiscovery({ insecureRegistries: [fake.host] }).resolveTag(
        `${fake.host}/app:v1`,
        never(),
      ),
      'ADDRESS_NOT_ALLOWED',
    );
  });

  it('sends the Basic credentials from a Docker config.json to the token service', async () => {
    const basic = `Basic ${Buffer.from('alice:s3cret').toString('base64')}`;
    tokenRegistry(basic);
    const path = await dockerConfig({
      [`http://${fake.host}`]: { auth: Buffer.from('alice:s3cret').toString('base64') },
    });
    const d = createOciDiscovery({ insecureRegistries: [fake.host], dockerConfigPath: path });
    assert.equal((await d.resolveTag(`${fake.host}/app:v1`, never())).digest, sha256(body));
  });

  it('throws REGISTRY_AUTH_FAILED when the token service refuses', async () => {
    tokenRegistry('Basic nope');
    const d = createOciDiscovery({ insecureRegistries: [fake.host] });
    const err = await rejectsWith(
      d.resolveTag(`${fake.host}/app:v1`, never()),
      'REGISTRY_AUTH_FAILED',
    );
    assert.match(err.message, /no credentials configured/);
  });

  it('answers a Basic challenge with the configured user and password', async () => {
    const path = await dockerConfig({ [fake.host]: { username: 'bob', password: 'pw' } });
    fake.handle = (req, res) => {
      if (req.headers.authorization !== `Basic ${Buffer.from('bob:pw').toString('base64')}`) {
        res.statusCode = 401;
        res.setHeader('www-authenticate', 'Basic realm="fake"');
        {
          res.end();
          return;
        }
      }
      sendManifest(req, res, body);
    };
    const d = createOciDiscovery({ insecureRegistries: [fake.host], dockerConfigPath: path });
    await d.resolveTag(`${fake.host}/app:v1`, never());
    await d.resolveTag(`${fake.host}/app:v2`, never());
    // Only the first request is challenged; later ones send the credentials at once.
    assert.equal(fake.requests.length, 3);
  });

  it('exchanges an identity token for an access token (OAuth2 refresh_token grant)', async () => {
    const path = await dockerConfig({
      [fake.host]: {
        auth: Buffer.from('<token>:').toString('base64'),
        identitytoken: 'refresh-me',
      },
    });
    fake.handle = (req, res) => {
      if (req.url === '/token' && req.method === 'POST') {
        let form = '';
        req.on('data', (c: Buffer) => (form += c.toString()));
        req.on('end', () => {
          const params = new URLSearchParams(form);
          assert.equal(params.get('grant_type'), 'refresh_token');
          assert.equal(params.get('refresh_token'), 'refresh-me');
          res.end(JSON.stringify({ access_token: 'tok-123' }));
        });
        return;
      }
      if (req.headers.authorization !== 'Bearer tok-123') {
        res.statusCode = 401;
        res.setHeader(
          'www-authenticate',
          `Bearer realm="http://${fake.host}/token",service="fake"`,
        );
        {
          res.end();
          return;
        }
      }
      sendManifest(req, res, body);
    };
    const d = createOciDiscovery({ insecureRegistries: [fake.host], dockerConfigPath: path });
    assert.equal((await d.resolveTag(`${fake.host}/app:v1`, never())).digest, sha256(body));
  });

  it('re-reads a rotated config.json', async () => {
    const path = await dockerConfig({ [fake.host]: { username: 'old', password: 'x' } });
    fake.handle = (req, res) => {
      if (req.headers.authorization !== `Basic ${Buffer.from('new:y').toString('base64')}`) {
        res.statusCode = 401;
        res.setHeader('www-authenticate', 'Basic realm="fake"');
        {
          res.end();
          return;
        }
      }
      sendManifest(req, res, body);
    };
    const d = createOciDiscovery({
      insecureRegistries: [fake.host],
      dockerConfigPath: path,
      retries: { max: 0 },
    });
    await rejectsWith(d.resolveTag(`${fake.host}/app:v1`, never()), 'REGISTRY_AUTH_FAILED');
    await new Promise((r) => setTimeout(r, 20));
    await writeFile(
      path,
      JSON.stringify({ auths: { [fake.host]: { username: 'new', password: 'y' } } }),
    );
    assert.equal((await d.resolveTag(`${fake.host}/app:v1`, never())).digest, sha256(body));
  });
});

describe('OCI discovery over TLS with a per-registry CA', () => {
  let fake: FakeRegistry;
  let ca: string;
  let dir: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'provgate-tls-'));
    await promisify(execFile)('openssl', [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=provgate test registry',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
    ]);
    ca = await readFile(join(dir, 'cert.pem'), 'utf8');
    fake = await startFakeRegistry({ key: await readFile(join(dir, 'key.pem'), 'utf8'), cert: ca });
    const body = imageManifest();
    fake.handle = (req, res) => sendManifest(req, res, body);
  });
  after(async () => {
    await fake.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses a certificate the system does not trust (REGISTRY_UNREACHABLE)', async () => {
    const err = await rejectsWith(
      createOciDiscovery().resolveTag(`${fake.host}/app:v1`, never()),
      'REGISTRY_UNREACHABLE',
    );
    assert.match(err.message, /TLS certificate not trusted/);
  });

  it('trusts the CA bundle configured for that registry', async () => {
    const d = createOciDiscovery({ registries: { [fake.host]: { ca } } });
    assert.match((await d.resolveTag(`${fake.host}/app:v1`, never())).digest, /^sha256:/);
  });
});
