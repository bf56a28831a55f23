#!/usr/bin/env bash
# The action's install step: puts a pinned aepact on PATH.
#
# The version is `INPUT_VERSION`, else the one in the action's own Cargo.toml, so pinning the
# action's commit pins aepact too. `INPUT_INSTALL`:
#   auto     the release binary of that version (checksum verified by install.sh) when the
#            release has one for this runner, else build the action's checkout (next steps)
#   release  the release binary or fail
#   source   build the action's checkout with `cargo install --locked` (cached)
#   none     aepact must already be on PATH (a self-hosted runner, the container image)
# Outputs: build=true when the next steps must build, root (the install root), cache-key.
set -euo pipefail

fail() {
  echo "::error title=aepact action::$*"
  exit 1
}

action_path="${GITHUB_ACTION_PATH:?GITHUB_ACTION_PATH is not set}"
mode="${INPUT_INSTALL:-auto}"
version="${INPUT_VERSION:-}"
version="${version#v}"
if [ -z "$version" ]; then
  version="$(sed -n 's/^version = "\([^"]*\)"$/\1/p' "$action_path/Cargo.toml" | head -n 1)"
fi
[ -n "$version" ] || fail "cannot tell which aepact version to install: set the \`version\` input"
repository="${ACTION_REPOSITORY:-${GITHUB_ACTION_REPOSITORY:-}}"
# `uses: ./` in aepact's own repository: the releases are this repository's.
if [ -z "$repository" ] && [ "$(cd "$action_path" && pwd -P)" = "$(cd "${GITHUB_WORKSPACE:-.}" && pwd -P)" ]; then
  repository="${GITHUB_REPOSITORY:-}"
fi

root="${RUNNER_TEMP:-/tmp}/aepact-$version"
bin="$root/bin"
build=false
case "$mode" in
  none)
    command -v aepact >/dev/null 2>&1 || fail "install: none, but aepact is not on PATH"
    echo "Using $(command -v aepact) ($(aepact --version))"
    ;;
  auto | release)
    status=0
    if [ -n "$repository" ]; then
      sh "$action_path/install.sh" --version "$version" --repo "$repository" --to "$bin" || status=$?
    else
      echo "The action's repository is unknown: no release to download."
      status=3
    fi
    if [ "$status" -eq 3 ] && [ "$mode" = auto ]; then
      echo "No release binary of aepact $version for this runner: building the action's checkout."
      build=true
    elif [ "$status" -ne 0 ]; then
      fail "could not install the release binary of aepact $version (install.sh exited $status)"
    fi
    ;;
  source)
    build=true
    ;;
  *)
    fail "install: \`$mode\` is not one of auto, release, source, none"
    ;;
esac

sha256() {
  if command -v sha256sum >/dev/null 2>&1; then sha256sum "$@"; else shasum -a 256 "$@"; fi
}
# The build depends on the manifest, the lockfile and the sources: any change is a new key.
source_digest="$(cd "$action_path" && find Cargo.toml Cargo.lock src -type f | LC_ALL=C sort | while IFS= read -r f; do sha256 "$f"; done | sha256 | cut -d' ' -f1)"
{
  echo "build=$build"
  echo "root=$root"
  echo "cache-key=aepact-${RUNNER_OS:-os}-${RUNNER_ARCH:-arch}-$version-$source_digest"
} >> "${GITHUB_OUTPUT:?}"
if [ "$mode" != none ]; then
  echo "$bin" >> "${GITHUB_PATH:?}"
fi
