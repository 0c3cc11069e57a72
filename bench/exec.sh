#!/usr/bin/env bash
# Benchmarks artoken's hot and cold paths against what it replaces, in one run, on loopback:
#   warm: `artoken exec -- true` vs `wev true` (wev 1.3.5 + wev-awscodeartifact, both cached)
#   cold: `artoken --refresh token` vs `aws codeartifact get-authorization-token`, both against
#         the same local emulator.
# Needs hyperfine (apt-get install hyperfine). Installs wev into .bench-tools/ on first use.
# Usage: bench/exec.sh            (prints a markdown table)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$root/target}
command -v hyperfine >/dev/null || { echo "bench needs hyperfine (apt-get install hyperfine)" >&2; exit 1; }
scripts/install-test-tools
cargo build --release --quiet -p artoken -p codeartifact-emulator
bin=$CARGO_TARGET_DIR/release
bt=$root/.bench-tools
if [ ! -x "$bt/wev/bin/wev" ]; then
  # wev 1.3.5 runs only with ruamel.yaml 0.17.x and a setuptools that still ships pkg_resources.
  unset PIP_FIND_LINKS
  python3 -m venv "$bt/wev"
  "$bt/wev/bin/pip" install --quiet "wev==1.3.5" wev-awscodeartifact "ruamel.yaml<0.18" "setuptools<81"
fi
work=$(mktemp -d)
trap 'kill $emu_pid 2>/dev/null; rm -rf "$work"' EXIT
"$bin/codeartifact-emulator" --demo --listen 127.0.0.1:0 > "$work/emu.out" 2>/dev/null &
emu_pid=$!
for _ in $(seq 50); do grep -q listening "$work/emu.out" 2>/dev/null && break; sleep 0.1; done
url=$(head -1 "$work/emu.out" | awk '{print $NF}')
mkdir -p "$work/home" "$work/proj"
export HOME=$work/home XDG_CACHE_HOME=$work/home/.cache
export AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY
export AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true AWS_ENDPOINT_URL=$url
unset AWS_PROFILE
cd "$work/proj"
cat > artoken.yml <<YML
repositories:
  demo: { domain: demo, owner: "111122223333", repository: pypi-store }
env:
  CODEARTIFACT_AUTH_TOKEN: { token: demo }
YML
cat > "$work/wev.yml" <<YML
CODEARTIFACT_AUTH_TOKEN:
  plugin:
    id: wev-awscodeartifact
    account: "111122223333"
    domain: demo
    region: us-east-1
YML
"$bin/artoken" exec -- true
(cd "$work" && "$bt/wev/bin/wev" true >/dev/null 2>&1) || { echo "wev failed to run" >&2; exit 1; }
hyperfine -N --warmup 10 --runs 200 --export-json "$work/warm.json" \
  -n "artoken exec -- true (warm cache)" "$bin/artoken exec -- true" >&2
(cd "$work" && hyperfine -N --warmup 3 --runs 30 --export-json "$work/wev.json" \
  -n "wev true (warm cache)" "$bt/wev/bin/wev true" >&2)
hyperfine -N --warmup 3 --runs 50 --export-json "$work/cold.json" \
  -n "artoken --refresh token (cold fetch)" "$bin/artoken --refresh token" \
  -n "aws codeartifact get-authorization-token" \
  "$root/.test-tools/venv/bin/aws codeartifact get-authorization-token --domain demo --domain-owner 111122223333 --query authorizationToken --output text" >&2
python3 - "$work" <<'PY'
import json, sys, statistics
w = sys.argv[1]
rows = []
for f in ("warm", "wev", "cold"):
    for r in json.load(open(f"{w}/{f}.json"))["results"]:
        rows.append((r["command"], statistics.median(r["times"]) * 1000, r["mean"] * 1000, len(r["times"])))
print("| command | median | mean | runs |\n|---|---|---|---|")
for c, med, mean, n in rows:
    print(f"| `{c}` | {med:.2f} ms | {mean:.2f} ms | {n} |")
a = rows[0][1]; b = rows[1][1]
print(f"\nwarm: artoken is {b / a:.0f}x faster than wev (median)")
c = rows[2][1]; d = rows[3][1]
print(f"cold: artoken is {d / c:.0f}x faster than the AWS CLI (median)")
PY
