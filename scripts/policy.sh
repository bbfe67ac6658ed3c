#!/usr/bin/env bash
# The default Rego policies, with the pinned OPA (scripts/tools.sh installs it).
#
#   scripts/policy.sh build [--out FILE]   compile policies/src into an OPA Wasm bundle
#                                          (default: policies/bundle.tar.gz)
#   scripts/policy.sh test                 opa check --strict, opa fmt, opa test with coverage
#   scripts/policy.sh check                test, and the committed bundle is up to date
#   scripts/policy.sh revision             print the revision the sources build to
#
# POLICY_SRC=DIR works on another policy directory (provgate policy build/test
# DIR); POLICY_COVERAGE=N sets the coverage threshold (default 95).
#
# The build is reproducible: `opa build` writes a fixed tar (mode, owner, zero
# mtimes) and the same policy.wasm for the same sources, and the revision is a
# digest of the sources and the OPA version rather than a timestamp.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
src="$(cd "${POLICY_SRC:-$root/policies/src}" && pwd)"
bundle="$root/policies/bundle.tar.gz"
entrypoint='provgate/decision'
# Minimum line coverage of the policy files by `opa test`, in percent.
coverage_threshold="${POLICY_COVERAGE:-95}"

log() { printf 'policy.sh: %s\n' "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT

opa=''
need_opa() {
  opa="$("$root/scripts/tools.sh" --path opa)"
  [[ -x "$opa" ]] || die "opa is not at $opa"
}

# Hex sha256 of stdin (coreutils, or macOS's shasum).
sha256() {
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum | cut -d' ' -f1
  else
    shasum -a 256 | cut -d' ' -f1
  fi
}

# sha256 over the OPA version and every file that goes into the bundle (path
# and content, in byte order of the paths): the same sources and compiler give
# the same revision.
revision() {
  local version
  version="$("$opa" version | awk '$1 == "Version:" { print $2 }')"
  [[ -n "$version" ]] || die 'cannot read the opa version'
  {
    printf 'opa %s\n' "$version"
    (cd "$src" && find . -type f ! -name '*_test.rego' -print0 | LC_ALL=C sort -z |
      while IFS= read -r -d '' file; do
        printf '%s %s\n' "$(sha256 <"$file")" "${file#./}"
      done)
  } | sha256 | sed 's/^/sha256:/'
}

build() {
  local out="$bundle"
  while (($#)); do
    case "$1" in
      --out)
        out="${2:?--out needs a file}"
        shift 2
        ;;
      *) die "build: unknown argument $1" ;;
    esac
  done
  [[ "$out" == /* ]] || out="$PWD/$out"
  local rev built="$scratch/built.tar.gz"
  rev="$(revision)"
  log "opa build -t wasm -e $entrypoint -b $src (revision $rev) -> $out"
  # -b: policies/src is the bundle root (its .manifest gives the roots, its
  # data.json becomes /data.json). Test files stay out of the bundle.
  # Run from the bundle root so that no checkout path ends up in the bundle.
  (cd "$src" && "$opa" build -t wasm -e "$entrypoint" --revision "$rev" \
    --ignore '*_test.rego' -b . -o "$built")
  # Replace the output whole: a failed build never leaves half a bundle behind.
  mv -f "$built" "$out"
}

# Coverage of the policy files alone: opa test's own figure (and --threshold)
# also counts the _test.rego files, which are always fully covered.
policy_lines() {
  printf 'sum([object.get(r, "%s", 0) | some f, r in input.files; not endswith(f, "_test.rego")])' "$1"
}
coverage_expr="(100 * $(policy_lines covered_lines)) / ($(policy_lines covered_lines) + $(policy_lines not_covered_lines))"

run_tests() {
  log "opa check --strict $src"
  "$opa" check --strict "$src"
  # The project's own policies must be formatted; a user's directory is not judged on style.
  if [[ -z "${POLICY_SRC:-}" ]]; then
    log "opa fmt --list --fail $src"
    "$opa" fmt --list --fail "$src" >&2 || die "Rego not formatted: run .tools/bin/opa fmt -w $src"
  fi
  log "opa test $src"
  "$opa" test "$src" >&2 || die 'opa test failed'
  local report="$scratch/coverage.json" percent
  "$opa" test --coverage "$src" >"$report" || die 'opa test --coverage failed'
  percent="$("$opa" eval -f raw -I "sprintf(\"%.2f\", [$coverage_expr])" <"$report")"
  [[ "$percent" =~ ^[0-9.]+$ ]] || die "cannot read the coverage report ($percent)"
  if [[ "$("$opa" eval -f raw -I "$coverage_expr >= $coverage_threshold" <"$report")" != true ]]; then
    "$opa" eval -f pretty -I '{f: r.not_covered | some f, r in input.files; not endswith(f, "_test.rego"); r.not_covered}' <"$report" >&2 || true
    die "policy coverage $percent% is under $coverage_threshold%"
  fi
  log "policy coverage $percent% (threshold $coverage_threshold%)"
}

check() {
  run_tests
  build --out "$scratch/bundle.tar.gz"
  cmp -s "$scratch/bundle.tar.gz" "$bundle" ||
    die 'policies/bundle.tar.gz is not what policies/src builds to: run scripts/policy.sh build and commit it'
  log 'policies/bundle.tar.gz is up to date'
}

case "${1:-}" in
  build)
    shift
    need_opa
    build "$@"
    ;;
  test)
    need_opa
    run_tests
    ;;
  check)
    need_opa
    check
    ;;
  revision)
    need_opa
    revision
    ;;
  *) die "usage: scripts/policy.sh build [--out FILE] | test | check | revision" ;;
esac
