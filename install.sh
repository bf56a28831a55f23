#!/bin/sh
# Installs an aepact release binary: downloads the archive for this machine and its SHA-256
# checksum from the repository's GitHub release, refuses the archive unless the checksum
# matches, and copies `aepact` into a directory (default ~/.local/bin).
#
#   curl --proto '=https' --tlsv1.2 -LsSf https://github.com/OWNER/aepact/releases/download/vX.Y.Z/install.sh | sh
#   sh install.sh --version 0.1.0 --to /usr/local/bin
#
# The copy attached to a release installs that release by default (the release workflow fills
# in AEPACT_DEFAULT_REPO and AEPACT_DEFAULT_VERSION). Exit status: 0 installed, 1 error,
# 3 no release archive for this version and machine (build from source instead:
# `cargo install --locked --git https://github.com/OWNER/aepact --tag vX.Y.Z`).
set -eu

AEPACT_DEFAULT_REPO="OWNER/aepact"
AEPACT_DEFAULT_VERSION="latest"

usage() {
  cat <<'EOF'
usage: install.sh [--version X.Y.Z|latest] [--to DIR] [--repo OWNER/NAME] [--target TRIPLE]

  --version   the release to install (default: the release this script came with, or latest)
  --to        where to put the binary (default: $AEPACT_INSTALL_DIR, else ~/.local/bin)
  --repo      the GitHub repository that publishes the releases
  --target    the archive's target triple (default: this machine's)

Environment: AEPACT_RELEASE_URL replaces https://github.com/REPO/releases/download/vVERSION
(a mirror, or a directory as file:///path for tests).
EOF
}

fail() {
  echo "install.sh: $*" >&2
  exit 1
}

version="${AEPACT_VERSION:-$AEPACT_DEFAULT_VERSION}"
repo="${AEPACT_REPO:-$AEPACT_DEFAULT_REPO}"
to="${AEPACT_INSTALL_DIR:-${HOME:-.}/.local/bin}"
target=""
while [ $# -gt 0 ]; do
  case "$1" in
    --version) [ $# -ge 2 ] || fail "--version needs a value"; version="$2"; shift 2 ;;
    --to) [ $# -ge 2 ] || fail "--to needs a value"; to="$2"; shift 2 ;;
    --repo) [ $# -ge 2 ] || fail "--repo needs a value"; repo="$2"; shift 2 ;;
    --target) [ $# -ge 2 ] || fail "--target needs a value"; target="$2"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; fail "unknown argument: $1" ;;
  esac
done
version="${version#v}"
case "$version" in
  latest|[0-9]*.[0-9]*.[0-9]*) ;;
  *) fail "\`$version\` is not a version: use X.Y.Z or latest" ;;
esac
case "$repo" in
  */*) ;;
  *) fail "\`$repo\` is not OWNER/NAME" ;;
esac

if [ -z "$target" ]; then
  os="$(uname -s)"
  arch="$(uname -m)"
  case "$arch" in
    x86_64|amd64) arch=x86_64 ;;
    aarch64|arm64) arch=aarch64 ;;
    *) echo "install.sh: no release binary for the $arch processor; build from source with cargo install --locked --git https://github.com/$repo" >&2; exit 3 ;;
  esac
  case "$os" in
    Linux) target="$arch-unknown-linux-musl" ;;
    Darwin) target="$arch-apple-darwin" ;;
    *) echo "install.sh: no release binary for $os; build from source with cargo install --locked --git https://github.com/$repo (Windows: download the .zip from the release page)" >&2; exit 3 ;;
  esac
fi

asset="aepact-$target.tar.gz"
if [ -n "${AEPACT_RELEASE_URL:-}" ]; then
  base="${AEPACT_RELEASE_URL%/}"
  proto=""
elif [ "$version" = latest ]; then
  base="https://github.com/$repo/releases/latest/download"
  proto="=https"
else
  base="https://github.com/$repo/releases/download/v$version"
  proto="=https"
fi

# Downloads $1 to $2. Returns 3 when the server has no such file, 1 on any other failure.
fetch() {
  if command -v curl >/dev/null 2>&1; then
    if [ -n "$proto" ]; then
      set -- --proto "$proto" --tlsv1.2 "$@"
    fi
    status=0
    curl --fail --silent --show-error --location --retry 3 --output "$2" "$1" || status=$?
    # 22: an HTTP error such as 404; 37: a file:// URL that does not exist.
    case "$status" in
      0) return 0 ;;
      22|37) return 3 ;;
      *) return 1 ;;
    esac
  elif command -v wget >/dev/null 2>&1; then
    wget -q -O "$2" "$1" || return 3
  else
    fail "curl or wget is needed to download the release"
  fi
}

sha256() {
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum "$1" | cut -d' ' -f1
  elif command -v shasum >/dev/null 2>&1; then
    shasum -a 256 "$1" | cut -d' ' -f1
  else
    fail "sha256sum or shasum is needed to check the download"
  fi
}

tmp="$(mktemp -d 2>/dev/null || mktemp -d -t aepact)"
trap 'rm -rf "$tmp"' EXIT INT TERM

status=0
fetch "$base/$asset.sha256" "$tmp/$asset.sha256" || status=$?
if [ "$status" -eq 3 ]; then
  echo "install.sh: no release archive $asset for version $version at $base" >&2
  exit 3
elif [ "$status" -ne 0 ]; then
  fail "could not download $base/$asset.sha256"
fi
fetch "$base/$asset" "$tmp/$asset" || fail "could not download $base/$asset"

expected="$(cut -d' ' -f1 < "$tmp/$asset.sha256" | tr 'A-F' 'a-f')"
actual="$(sha256 "$tmp/$asset")"
case "$expected" in
  *[!0-9a-f]*|"") fail "$asset.sha256 holds no SHA-256 checksum" ;;
esac
[ "${#expected}" -eq 64 ] || fail "$asset.sha256 holds no SHA-256 checksum"
if [ "$expected" != "$actual" ]; then
  fail "checksum mismatch for $asset: expected $expected, got $actual; nothing was installed"
fi

mkdir "$tmp/unpacked"
tar -xzf "$tmp/$asset" -C "$tmp/unpacked"
binary="$tmp/unpacked/aepact-$target/aepact"
[ -f "$binary" ] || fail "$asset holds no aepact-$target/aepact"
mkdir -p "$to"
# Copy then rename, so a running aepact is never half overwritten.
cp "$binary" "$to/.aepact.tmp.$$"
chmod 0755 "$to/.aepact.tmp.$$"
mv -f "$to/.aepact.tmp.$$" "$to/aepact"
echo "Installed aepact ($version, $target) to $to/aepact"
case ":${PATH:-}:" in
  *":$to:"*) ;;
  *) echo "Add $to to your PATH to run it as \`aepact\`." ;;
esac
