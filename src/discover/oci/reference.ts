// Image references as discovery needs them: which registry host, which
// repository, and a tag or a digest. The grammar is distribution/reference's
// (a normalized name always names its registry; `docker.io` is the default,
// `library/` the default namespace). Every part is checked with a small
// anchored pattern, so a hostile reference cannot make a pattern backtrack.
import { DiscoveryError } from '../error.ts';

export interface RepositoryRef {
  /** Registry host as named in references (`ghcr.io`, `127.0.0.1:5000`, `docker.io`). */
  registry: string;
  /** Repository path (`o/r`, `library/nginx`). */
  repository: string;
}

export interface ImageRef extends RepositoryRef {
  tag?: string;
  /** `sha256:<hex>` or `sha512:<hex>`. */
  digest?: string;
}

const REFERENCE_LENGTH_MAX = 1024;
const NAME_LENGTH_MAX = 255;
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const HOST =
  /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[a-fA-F0-9:.]+\])(?::[0-9]{1,5})?$/;
const TAG = /^\w[\w.-]{0,127}$/;
export const DIGEST = /^(?:sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$/;

const DEFAULT_REGISTRY = 'docker.io';

/** Parses `[host/]path[:tag][@digest]`; throws REFERENCE_INVALID naming what is wrong. */
export function parseReference(ref: string): ImageRef {
  if (ref.length === 0 || ref.length > REFERENCE_LENGTH_MAX) {
    throw invalid(ref, `must be 1 to ${REFERENCE_LENGTH_MAX} characters`);
  }
  let rest = ref;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at !== -1) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw invalid(ref, 'has an invalid digest');
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw invalid(ref, 'has an invalid tag');
  }
  const repo = parseRepository(rest, ref);
  return {
    ...repo,
    ...(tag === undefined ? {} : { tag }),
    ...(digest === undefined ? {} : { digest }),
  };
}

/** Parses a repository name `[host/]path`, normalized the way the container runtime does. */
export function parseRepository(name: string, ref = name): RepositoryRef {
  const slash = name.indexOf('/');
  const first = slash === -1 ? '' : name.slice(0, slash);
  const isHost =
    first.includes('.') ||
    first.includes(':') ||
    first === 'localhost' ||
    first.toLowerCase() !== first;
  let registry = isHost ? first.toLowerCase() : DEFAULT_REGISTRY;
  let repository = isHost ? name.slice(slash + 1) : name;
  if (registry === 'index.docker.io') registry = DEFAULT_REGISTRY;
  if (registry === DEFAULT_REGISTRY && !repository.includes('/')) {
    repository = `library/${repository}`;
  }
  if (!HOST.test(registry)) throw invalid(ref, 'has an invalid registry host');
  if (repository === '' || !repository.split('/').every((c) => PATH_COMPONENT.test(c))) {
    throw invalid(ref, 'has an invalid repository path');
  }
  if (registry.length + 1 + repository.length > NAME_LENGTH_MAX) {
    throw invalid(ref, `has a name longer than ${NAME_LENGTH_MAX} characters`);
  }
  return { registry, repository };
}

export function formatRepository(ref: RepositoryRef): string {
  return `${ref.registry}/${ref.repository}`;
}

function invalid(ref: string, why: string): DiscoveryError {
  return new DiscoveryError(
    'REFERENCE_INVALID',
    `image reference ${JSON.stringify(ref.slice(0, 200))} ${why}`,
  );
}
