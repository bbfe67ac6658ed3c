import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { AdmissionError, parseImageReference } from '../../src/k8s/index.ts';
import { assertAdmissionError } from './load.ts';

const D256 = `sha256:${'a1'.repeat(32)}`;
const D512 = `sha512:${'0f'.repeat(64)}`;

// [input, registry, repository, tag, digest, normalized]
const VALID: [string, string, string, string | undefined, string | undefined, string][] = [
  ['nginx', 'docker.io', 'library/nginx', undefined, undefined, 'docker.io/library/nginx'],
  ['nginx:1.25', 'docker.io', 'library/nginx', '1.25', undefined, 'docker.io/library/nginx:1.25'],
  [
    'nginx:latest',
    'docker.io',
    'library/nginx',
    'latest',
    undefined,
    'docker.io/library/nginx:latest',
  ],
  ['library/nginx', 'docker.io', 'library/nginx', undefined, undefined, 'docker.io/library/nginx'],
  [
    'docker.io/nginx',
    'docker.io',
    'library/nginx',
    undefined,
    undefined,
    'docker.io/library/nginx',
  ],
  [
    'index.docker.io/nginx',
    'docker.io',
    'library/nginx',
    undefined,
    undefined,
    'docker.io/library/nginx',
  ],
  [
    'index.docker.io/library/nginx:1',
    'docker.io',
    'library/nginx',
    '1',
    undefined,
    'docker.io/library/nginx:1',
  ],
  ['user/repo', 'docker.io', 'user/repo', undefined, undefined, 'docker.io/user/repo'],
  [
    'docker.io/user/repo:tag',
    'docker.io',
    'user/repo',
    'tag',
    undefined,
    'docker.io/user/repo:tag',
  ],
  ['ghcr.io/o/r:tag', 'ghcr.io', 'o/r', 'tag', undefined, 'ghcr.io/o/r:tag'],
  [`ghcr.io/o/r@${D256}`, 'ghcr.io', 'o/r', undefined, D256, `ghcr.io/o/r@${D256}`],
  [`localhost:5000/x@${D256}`, 'localhost:5000', 'x', undefined, D256, `localhost:5000/x@${D256}`],
  ['localhost/x', 'localhost', 'x', undefined, undefined, 'localhost/x'],
  [`host:5000/a/b:tag@${D256}`, 'host:5000', 'a/b', 'tag', D256, `host:5000/a/b:tag@${D256}`],
  ['[::1]:5000/x', '[::1]:5000', 'x', undefined, undefined, '[::1]:5000/x'],
  [
    '[2001:db8::1]/team/app:v1',
    '[2001:db8::1]',
    'team/app',
    'v1',
    undefined,
    '[2001:db8::1]/team/app:v1',
  ],
  ['127.0.0.1:5000/x:1', '127.0.0.1:5000', 'x', '1', undefined, '127.0.0.1:5000/x:1'],
  [
    'gcr.io/project/sub/image:v1.2.3',
    'gcr.io',
    'project/sub/image',
    'v1.2.3',
    undefined,
    'gcr.io/project/sub/image:v1.2.3',
  ],
  [
    'registry.k8s.io/pause:3.10',
    'registry.k8s.io',
    'pause',
    '3.10',
    undefined,
    'registry.k8s.io/pause:3.10',
  ],
  [
    'quay.io/prometheus/node-exporter:v1.8.2',
    'quay.io',
    'prometheus/node-exporter',
    'v1.8.2',
    undefined,
    'quay.io/prometheus/node-exporter:v1.8.2',
  ],
  // Upper case is allowed in a host, and makes the first component a host (splitDockerDomain).
  ['Foo.Example.com/bar', 'Foo.Example.com', 'bar', undefined, undefined, 'Foo.Example.com/bar'],
  ['Registry/bar', 'Registry', 'bar', undefined, undefined, 'Registry/bar'],
  [
    'my_org/my__app---x.y',
    'docker.io',
    'my_org/my__app---x.y',
    undefined,
    undefined,
    'docker.io/my_org/my__app---x.y',
  ],
  [
    'nginx:1.25-alpine_3.19.0',
    'docker.io',
    'library/nginx',
    '1.25-alpine_3.19.0',
    undefined,
    'docker.io/library/nginx:1.25-alpine_3.19.0',
  ],
  ['nginx:_x', 'docker.io', 'library/nginx', '_x', undefined, 'docker.io/library/nginx:_x'],
  [
    `nginx@${D512}`,
    'docker.io',
    'library/nginx',
    undefined,
    D512,
    `docker.io/library/nginx@${D512}`,
  ],
  [
    `nginx:1.25@${D256}`,
    'docker.io',
    'library/nginx',
    '1.25',
    D256,
    `docker.io/library/nginx:1.25@${D256}`,
  ],
  [
    `ex.com/x:${'t'.repeat(128)}`,
    'ex.com',
    'x',
    't'.repeat(128),
    undefined,
    `ex.com/x:${'t'.repeat(128)}`,
  ],
  // Without a '/', "localhost:5000" is a Docker Hub name with a tag, as in distribution/reference.
  [
    'localhost:5000',
    'docker.io',
    'library/localhost',
    '5000',
    undefined,
    'docker.io/library/localhost:5000',
  ],
  [
    'xn--bcher-kva.example:443/ns/app',
    'xn--bcher-kva.example:443',
    'ns/app',
    undefined,
    undefined,
    'xn--bcher-kva.example:443/ns/app',
  ],
  [
    `a.b/${'c'.repeat(251)}`,
    'a.b',
    'c'.repeat(251),
    undefined,
    undefined,
    `a.b/${'c'.repeat(251)}`,
  ],
];

// [input, why it is invalid]
const INVALID: [string, string][] = [
  ['', 'empty'],
  ['Nginx', 'upper-case repository'],
  ['docker.io/Library/nginx', 'upper-case path component'],
  ['ghcr.io/o/R', 'upper-case last component'],
  ['nginx@sha256:abc', 'digest too short'],
  [`nginx@sha256:${'a'.repeat(63)}`, 'sha256 digest of 63 hex digits'],
  [`nginx@sha256:${'a'.repeat(65)}`, 'sha256 digest of 65 hex digits'],
  [`nginx@sha256:${'A'.repeat(64)}`, 'upper-case digest hex'],
  [`nginx@sha256:${'g'.repeat(64)}`, 'digest not hex'],
  [`nginx@sha512:${'a'.repeat(64)}`, 'sha512 digest of 64 hex digits'],
  [`nginx@md5:${'a'.repeat(32)}`, 'unsupported algorithm'],
  [`nginx@sha384:${'a'.repeat(96)}`, 'sha384 is not verified by provgate'],
  [`nginx@SHA256:${'a'.repeat(64)}`, 'algorithm is case-sensitive'],
  ['nginx@sha256', 'digest without hex'],
  ['nginx@', 'empty digest'],
  [`nginx@${'a'.repeat(64)}`, 'digest without algorithm'],
  [`nginx@sha256:${'a'.repeat(64)}@sha256:${'a'.repeat(64)}`, 'two digests'],
  ['nginx:', 'empty tag'],
  ['nginx:-bad', 'tag starting with "-"'],
  ['nginx:.bad', 'tag starting with "."'],
  [`nginx:${'t'.repeat(129)}`, 'tag of 129 characters'],
  ['nginx:a+b', 'tag with "+"'],
  [':tag', 'empty name'],
  [`@${D256}`, 'empty name before a digest'],
  ['a//b', 'empty path component'],
  ['/nginx', 'leading slash'],
  ['nginx/', 'trailing slash'],
  ['ghcr.io/', 'registry without repository'],
  ['-nginx', 'leading separator'],
  ['nginx-', 'trailing separator'],
  ['ngi..nx', 'two dots'],
  ['ng___inx', 'three underscores'],
  ['ghcr.io/o/r:tag:tag2', 'two tags'],
  ['localhost:port/x', 'non-numeric port'],
  ['localhost:/x', 'empty port'],
  ['[::1/x', 'unterminated IPv6 host'],
  ['[zz::1]:5000/x', 'IPv6 host with non-hex characters'],
  ['[::1]x/y', 'text after an IPv6 host'],
  ['-host.com/x', 'host component starting with "-"'],
  ['host_name.com/x', 'underscore in a host'],
  ['ex..com/x', 'empty host component'],
  ['a'.repeat(64).replace(/a/g, 'b'), 'a 64-hex image ID'],
  [`a.b/${'c'.repeat(252)}`, 'name of 256 characters'],
  ['nginx latest', 'space'],
  ['nginx\n', 'newline'],
  ['ngïnx', 'non-ASCII'],
  ['x'.repeat(2000), 'over the length bound'],
];

describe('parseImageReference', () => {
  describe('with valid references', () => {
    for (const [input, registry, repository, tag, digest, normalized] of VALID) {
      it(`parses ${input.length > 60 ? `${input.slice(0, 60)}…` : input}`, () => {
        const ref = parseImageReference(input);
        assert.deepEqual(ref, {
          registry,
          repository,
          ...(tag === undefined ? {} : { tag }),
          ...(digest === undefined ? {} : { digest }),
          normalized,
          pinned: digest !== undefined,
        });
      });
    }

    it('is idempotent on its normalized form', () => {
      for (const [input] of VALID) {
        const once = parseImageReference(input);
        assert.deepEqual(parseImageReference(once.normalized), once, input);
      }
    });
  });

  describe('with invalid references', () => {
    for (const [input, why] of INVALID) {
      it(`throws IMAGE_REFERENCE_INVALID for ${why}`, () => {
        assertAdmissionError(() => parseImageReference(input), 'IMAGE_REFERENCE_INVALID');
      });
    }

    it('says the repository must be lower-case', () => {
      assertAdmissionError(
        () => parseImageReference('ghcr.io/o/R'),
        'IMAGE_REFERENCE_INVALID',
        'lower-case',
      );
    });

    it('says which digest length was expected', () => {
      assertAdmissionError(
        () => parseImageReference(`x@sha512:${'a'.repeat(64)}`),
        'IMAGE_REFERENCE_INVALID',
        'not 128',
      );
    });

    it('throws IMAGE_REFERENCE_INVALID for a non-string', () => {
      assertAdmissionError(
        () => parseImageReference(42 as unknown as string),
        'IMAGE_REFERENCE_INVALID',
      );
    });

    it('quotes at most a bounded prefix of a long reference', () => {
      try {
        parseImageReference('X'.repeat(900));
        assert.fail('should throw');
      } catch (err) {
        assert.ok(err instanceof AdmissionError);
        assert.ok(err.message.length < 400, `${err.message.length}`);
      }
    });
  });

  describe('property: for any string', () => {
    const check = (s: string): void => {
      try {
        const ref = parseImageReference(s);
        // Whatever parses, parses again to itself from its normalized form.
        assert.deepEqual(parseImageReference(ref.normalized), ref);
        assert.ok(`${ref.registry}/${ref.repository}`.length <= 255);
      } catch (err) {
        if (!(err instanceof AdmissionError)) throw err;
      }
    };

    it('returns or throws AdmissionError only', () => {
      fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 300 }), check), {
        numRuns: 1000,
      });
    });

    it('returns or throws AdmissionError only, over the reference alphabet', () => {
      const unit = fc.constantFrom(...'abcAB09-_.:/@[]sha256'.split(''));
      fc.assert(fc.property(fc.string({ unit, maxLength: 80 }), check), { numRuns: 3000 });
    });

    it('parses generated valid references to their parts', () => {
      const component = fc.stringMatching(/^[a-z0-9]+(?:[._-][a-z0-9]+)*$/, { maxLength: 20 });
      const ref = fc
        .record({
          host: fc.constantFrom('', 'ghcr.io', 'localhost:5000', '[::1]:5000'),
          path: fc.array(component, { minLength: 1, maxLength: 3 }),
          tag: fc.option(fc.stringMatching(/^\w[\w.-]{0,20}$/), { nil: undefined }),
          digest: fc.option(fc.stringMatching(/^[a-f0-9]{64}$/), { nil: undefined }),
        })
        // Without a host, a first component with a '.' (or "localhost") would be read as one; a
        // bare 64-hex name is an image ID, refused on purpose.
        .filter(
          ({ host, path }) =>
            host !== '' ||
            ((path.length === 1 || (!path[0]?.includes('.') && path[0] !== 'localhost')) &&
              !/^[a-f0-9]{64}$/.test(path.join('/'))),
        );
      fc.assert(
        fc.property(ref, ({ host, path, tag, digest }) => {
          const text =
            (host === '' ? '' : `${host}/`) +
            path.join('/') +
            (tag === undefined ? '' : `:${tag}`) +
            (digest === undefined ? '' : `@sha256:${digest}`);
          const parsed = parseImageReference(text);
          const repository =
            host === '' && path.length === 1 ? `library/${path[0]}` : path.join('/');
          assert.equal(parsed.registry, host === '' ? 'docker.io' : host);
          assert.equal(parsed.repository, repository);
          assert.equal(parsed.tag, tag);
          assert.equal(parsed.digest, digest === undefined ? undefined : `sha256:${digest}`);
          assert.equal(parsed.pinned, digest !== undefined);
        }),
        { numRuns: 1000 },
      );
    });
  });
});
