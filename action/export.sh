#!/usr/bin/env bash
# action.yml, step 2: masks the token of every configured repository (`::add-mask::`, before any
# step can print one), then appends `artoken env --format github` (NAME<<DELIM blocks) to
# GITHUB_ENV. INPUT_CONFIG: a config file instead of the discovered ones.
set -euo pipefail
[ -z "${INPUT_CONFIG:-}" ] || export ARTOKEN_CONFIG="$INPUT_CONFIG"

status=$(artoken status --json)
if command -v python3 >/dev/null; then
  names=$(python3 -c 'import json,sys; print("\n".join(r["name"] for r in json.load(sys.stdin)["repositories"]))' <<<"$status")
elif command -v jq >/dev/null; then
  names=$(jq -r '.repositories[].name' <<<"$status")
else
  names=
fi
[ -n "$names" ] || names=$'\n' # without python3 or jq: the default repository
while IFS= read -r name; do
  args=()
  [ -z "$name" ] || args=("$name")
  if token=$(artoken token "${args[@]}"); then
    echo "::add-mask::$token"
  else
    echo "::warning::artoken action: no token for repository '${name:-default}' (see the error above)"
  fi
done <<<"$names"
artoken env --format github >>"$GITHUB_ENV"
echo "artoken: exported $(artoken env --format json | python3 -c 'import json,sys; print(", ".join(sorted(json.load(sys.stdin))))' 2>/dev/null || echo "the configured variables") to GITHUB_ENV"
