#!/usr/bin/env bash
# action.yml, step 1: installs artoken INPUT_VERSION (default: the version in this action's
# Cargo.toml) with the release's shell installer into RUNNER_TOOL_CACHE/artoken/VERSION/ARCH,
# once per runner, and puts it on GITHUB_PATH. The installer checks each archive's sha256.
# INPUT_DOWNLOAD_URL replaces the GitHub release as where the files are.
set -euo pipefail
die() { echo "::error::artoken action: $*"; exit 1; }

version=${INPUT_VERSION:-}
if [ -z "$version" ]; then
  version=$(sed -n '/^\[workspace\.package\]/,/^\[/s/^version = "\([^"]*\)"$/\1/p' "$GITHUB_ACTION_PATH/Cargo.toml")
fi
version=${version#v}
[[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.-]+)?$ ]] || die "version '$version' is not X.Y.Z"
base=${INPUT_DOWNLOAD_URL:-https://github.com/artoken/artoken/releases/download/v$version}
base=${base%/}
dest="${RUNNER_TOOL_CACHE:-${RUNNER_TEMP:?}}/artoken/$version/$(uname -m)"

installed() { [ -x "$dest/artoken" ] && "$dest/artoken" --version | grep -q "^artoken $version\b"; }
if installed; then
  echo "artoken $version is in the tool cache: $dest"
else
  tmp=$(mktemp -d "${RUNNER_TEMP:-/tmp}/artoken-install.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  curl --fail --silent --show-error --location --retry 3 --output "$tmp/installer.sh" \
    "$base/artoken-installer.sh" || die "cannot download $base/artoken-installer.sh"
  ARTOKEN_DOWNLOAD_URL="$base" ARTOKEN_UNMANAGED_INSTALL="$tmp/bin" ARTOKEN_PRINT_QUIET=1 \
    sh "$tmp/installer.sh" || die "the installer from $base failed"
  mkdir -p "$dest"
  mv "$tmp/bin/artoken" "$dest/artoken"
  installed || die "$dest/artoken is not artoken $version: $("$dest/artoken" --version 2>&1 || true)"
  echo "installed $("$dest/artoken" --version) into $dest"
fi
echo "$dest" >>"$GITHUB_PATH"
{
  echo "version=$version"
  echo "path=$dest"
} >>"$GITHUB_OUTPUT"
