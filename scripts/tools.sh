#!/usr/bin/env bash
# Installs the project's pinned Go tools into .tools/bin (git-ignored), each only
# when it is missing or was built from another version. Everything comes from
# the Go module proxy, checked against the checksum database by `go install`.
#
#   scripts/tools.sh           install every tool listed below
#   scripts/tools.sh opa ...   install the named tools
#   scripts/tools.sh --path opa  install opa, then print its path (for scripts)
#
# Needs Go (>= the version the tools' go.mod ask for). GO=/path/to/go overrides
# the go binary; otherwise `go` on PATH, then /usr/local/go/bin/go. Go's own
# module and build caches are used (GOMODCACHE, GOCACHE apply as usual).
set -euo pipefail

# One line per tool: name, Go package to install, version (the module's tag).
# `go version -m` on the installed binary must show this package at this version.
TOOLS=(
  'opa github.com/open-policy-agent/opa v1.22.3'
  'crane github.com/google/go-containerregistry/cmd/crane v0.22.1'
  'oras oras.land/oras/cmd/oras v1.3.6'
  'cosign github.com/sigstore/cosign/v2/cmd/cosign v2.6.5'
  'helm helm.sh/helm/v3/cmd/helm v3.22.0'
)

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="$root/.tools/bin"

log() { printf 'tools.sh: %s\n' "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}

find_go() {
  if [[ -n "${GO:-}" ]]; then
    printf '%s\n' "$GO"
  elif command -v go >/dev/null 2>&1; then
    command -v go
  elif [[ -x /usr/local/go/bin/go ]]; then
    printf '%s\n' /usr/local/go/bin/go
  else
    die 'Go is needed to build the tools: install Go (https://go.dev/dl/) or set GO=/path/to/go'
  fi
}

# Prints "<package> <module version>" as recorded in a Go binary's build info.
installed_version() {
  "$go" version -m "$1" 2>/dev/null | awk '
    $1 == "path" { path = $2 }
    $1 == "mod"  { version = $3 }
    END { if (path != "") print path, version }'
}

# Concurrent callers (parallel test files, two shells) wait for each other's
# install rather than race on one binary; a tool already installed needs no lock.
locked=0
take_lock() {
  ((locked == 0)) || return 0
  locked=1
  mkdir -p "$root/.tools"
  if command -v flock >/dev/null 2>&1; then
    exec 9>"$root/.tools/.lock"
    flock 9
  fi
}

is_installed() {
  [[ -x "$bin/$1" && "$(installed_version "$bin/$1")" == "$2 $3" ]]
}

install_tool() {
  local name="$1" pkg="$2" version="$3" target="$bin/$1" have
  if is_installed "$name" "$pkg" "$version"; then
    log "$name $version is installed ($target)"
    return 0
  fi
  take_lock
  if is_installed "$name" "$pkg" "$version"; then
    log "$name $version was installed meanwhile ($target)"
    return 0
  fi
  if [[ -e "$target" ]]; then
    have="$(installed_version "$target")"
    log "$name: found '${have:-unknown build}', want '$pkg $version': reinstalling"
  fi
  log "installing $name: go install $pkg@$version (into $bin)"
  local started=$SECONDS
  mkdir -p "$bin"
  # -trimpath keeps local paths out of the binary; GOTOOLCHAIN=local never
  # downloads a Go toolchain behind our back; CGO off for a static binary.
  GOBIN="$bin" GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS="${GOFLAGS:-} -trimpath" \
    "$go" install "$pkg@$version" || die "go install $pkg@$version failed"
  have="$(installed_version "$target")"
  [[ "$have" == "$pkg $version" ]] || die "$target reports '$have' after install, want '$pkg $version'"
  log "installed $name $version in $((SECONDS - started))s"
}

# Everything runs from main, read whole before it starts: editing this file
# while an install runs cannot change what that run does.
main() {
  print_path=0
  if [[ "${1:-}" == "--path" ]]; then
    print_path=1
    shift
  fi

  go="$(find_go)"
  "$go" version >/dev/null 2>&1 || die "$go does not run"

  declare -A known=()
  for line in "${TOOLS[@]}"; do
    read -r name _ <<<"$line"
    known[$name]="$line"
  done

  wanted=("$@")
  if ((${#wanted[@]} == 0)); then
    ((print_path == 0)) || die '--path needs exactly one tool name'
    for line in "${TOOLS[@]}"; do
      read -r name _ <<<"$line"
      wanted+=("$name")
    done
  fi
  ((print_path == 0 || ${#wanted[@]} == 1)) || die '--path needs exactly one tool name'

  for name in "${wanted[@]}"; do
    [[ -n "${known[$name]:-}" ]] || die "unknown tool '$name' (known: ${!known[*]})"
    # shellcheck disable=SC2086 # the table's fields are space-separated on purpose
    install_tool ${known[$name]}
  done

  if ((print_path == 1)); then
    printf '%s\n' "$bin/${wanted[0]}"
  fi
}

main "$@"
