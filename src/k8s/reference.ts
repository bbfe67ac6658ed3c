// Docker/OCI image references, parsed as the container runtime will read them:
// the grammar of github.com/distribution/reference (regexp.go) and the
// normalization of its ParseNormalizedNamed (normalize.go). The reference is
// split at its separators and each part checked with a small anchored pattern,
// so no pattern can backtrack over the whole input.
//
//   reference  := name [ ":" tag ] [ "@" digest ]
//   name       := [domain '/'] path-component ['/' path-component]*
//   domain     := host [':' port]          host := domain-name | '[' IPv6 ']'

import { AdmissionError } from './error.ts';
import type { ImageReference } from './k8s.types.ts';

/** distribution/reference NameTotalLengthMax: registry and repository together. */
const NAME_TOTAL_LENGTH_MAX = 255;
// Name, ':' and a 128-character tag, '@' and a sha512 digest fit well within this.
const REFERENCE_LENGTH_MAX = 1024;

const DEFAULT_DOMAIN = 'docker.io';
const LEGACY_DEFAULT_DOMAIN = 'index.docker.io';
const OFFICIAL_REPO_PREFIX = 'library/';

const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const DOMAIN_COMPONENT = /^[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?$/;
const IPV6_HOST = /^\[[a-fA-F0-9:]+\]$/;
const PORT = /^[0-9]+$/;
const TAG = /^\w[\w.-]{0,127}$/;
// A bare 64-hex string is an image ID, not a name (ParseNormalizedNamed refuses it).
const IDENTIFIER = /^[a-f0-9]{64}$/;
// go-digest: the registered algorithms' encodings are lower-case hex of fixed length.
// sha384 is registered there too, but provgate only verifies sha256 and sha512.
const DIGEST_HEX_LENGTH: ReadonlyMap<string, number> = new Map([
  ['sha256', 64],
  ['sha512', 128],
]);
const DIGEST_ALGORITHM = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*$/;
const LOWER_HEX = /^[a-f0-9]+$/;

/** Parses an image reference; throws `IMAGE_REFERENCE_INVALID` saying what is wrong. */
export function parseImageReference(ref: string): ImageReference {
  if (typeof ref !== 'string') {
    throw new AdmissionError('IMAGE_REFERENCE_INVALID', 'image reference must be a string');
  }
  if (ref === '') throw bad(ref, 'is empty');
  if (ref.length > REFERENCE_LENGTH_MAX) {
    throw bad(ref, `is longer than ${REFERENCE_LENGTH_MAX} characters`);
  }
  if (IDENTIFIER.test(ref)) {
    throw bad(ref, 'is a 64-character hex image ID, not a repository name');
  }

  let rest = ref;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at !== -1) {
    digest = parseDigest(ref, rest.slice(at + 1));
    rest = rest.slice(0, at);
  }

  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) {
      throw bad(
        ref,
        `has an invalid tag ${quote(tag)} (letters, digits, "_", "." and "-", at most 128)`,
      );
    }
  }
  if (rest === '') throw bad(ref, 'has an empty name');

  const [domain, remainder] = splitDomain(rest);
  checkDomain(ref, domain);
  const repository =
    domain === DEFAULT_DOMAIN && !remainder.includes('/')
      ? OFFICIAL_REPO_PREFIX + remainder
      : remainder;
  checkPath(ref, repository);

  const name = `${domain}/${repository}`;
  if (name.length > NAME_TOTAL_LENGTH_MAX) {
    throw bad(ref, `has a name longer than ${NAME_TOTAL_LENGTH_MAX} characters`);
  }
  const out: ImageReference = {
    registry: domain,
    repository,
    normalized:
      name + (tag === undefined ? '' : `:${tag}`) + (digest === undefined ? '' : `@${digest}`),
    pinned: digest !== undefined,
  };
  if (tag !== undefined) out.tag = tag;
  if (digest !== undefined) out.digest = digest;
  return out;
}

// splitDockerDomain: the first component is a registry only if it looks like a
// host (has '.' or ':', is "localhost", or has upper case, which a path cannot).
function splitDomain(name: string): [string, string] {
  const slash = name.indexOf('/');
  if (slash === -1) return [DEFAULT_DOMAIN, name];
  const first = name.slice(0, slash);
  const isHost =
    first.includes('.') ||
    first.includes(':') ||
    first === 'localhost' ||
    first.toLowerCase() !== first;
  if (!isHost) return [DEFAULT_DOMAIN, name];
  const domain = first === LEGACY_DEFAULT_DOMAIN ? DEFAULT_DOMAIN : first;
  return [domain, name.slice(slash + 1)];
}

function checkDomain(ref: string, domain: string): void {
  let host = domain;
  let port: string | undefined;
  if (domain.startsWith('[')) {
    const close = domain.indexOf(']');
    if (close === -1) throw bad(ref, `has an invalid registry host ${quote(domain)}`);
    host = domain.slice(0, close + 1);
    const after = domain.slice(close + 1);
    if (after !== '') {
      if (!after.startsWith(':')) throw bad(ref, `has an invalid registry host ${quote(domain)}`);
      port = after.slice(1);
    }
    if (!IPV6_HOST.test(host)) throw bad(ref, `has an invalid IPv6 registry host ${quote(host)}`);
  } else {
    const colon = domain.indexOf(':');
    if (colon !== -1) {
      host = domain.slice(0, colon);
      port = domain.slice(colon + 1);
    }
    if (!host.split('.').every((c) => DOMAIN_COMPONENT.test(c))) {
      throw bad(ref, `has an invalid registry host ${quote(host)}`);
    }
  }
  if (port !== undefined && !PORT.test(port)) {
    throw bad(ref, `has an invalid registry port ${quote(port)}`);
  }
}

function checkPath(ref: string, repository: string): void {
  for (const component of repository.split('/')) {
    if (component === '') throw bad(ref, 'has an empty path component');
    if (!PATH_COMPONENT.test(component)) {
      const why =
        component.toLowerCase() !== component
          ? 'repository name must be lower-case'
          : 'has an invalid path component';
      throw bad(ref, `${why}: ${quote(component)}`);
    }
  }
}

function parseDigest(ref: string, digest: string): string {
  const colon = digest.indexOf(':');
  if (colon === -1) throw bad(ref, 'has a digest without an algorithm');
  const algorithm = digest.slice(0, colon);
  const hex = digest.slice(colon + 1);
  if (!DIGEST_ALGORITHM.test(algorithm)) throw bad(ref, `has an invalid digest algorithm`);
  const length = DIGEST_HEX_LENGTH.get(algorithm);
  if (length === undefined) {
    throw bad(ref, `has an unsupported digest algorithm ${quote(algorithm)} (sha256 or sha512)`);
  }
  if (!LOWER_HEX.test(hex)) throw bad(ref, 'has a digest that is not lower-case hex');
  if (hex.length !== length) {
    throw bad(ref, `has a ${algorithm} digest of ${hex.length} hex digits, not ${length}`);
  }
  return digest;
}

function bad(ref: string, reason: string): AdmissionError {
  return new AdmissionError(
    'IMAGE_REFERENCE_INVALID',
    `image reference ${quote(ref, 200)} ${reason}`,
  );
}

// Quotes a bounded prefix: references are attacker-controlled and end up in denial messages.
function quote(s: string, max = 64): string {
  return JSON.stringify(s.length > max ? `${s.slice(0, max)}…` : s);
}
