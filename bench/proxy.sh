#!/usr/bin/env bash
# Benchmarks `artoken serve` on loopback against the local emulator, in one run:
#   index pages: the PyPI project page `simple/artoken-demo/` straight to the emulator and through
#     the proxy (which rewrites its links), with wrk: requests/s, p50 and p99 latency; same
#     connections, threads and duration for both, in three set-ups:
#       load:    CONNECTIONS connections, the emulator answering at once (all CPU-bound: wrk,
#                emulator and proxy share the machine's cores);
#       single:  one connection (the latency the proxy adds to one request);
#       latency: CONNECTIONS connections, the emulator answering after LATENCY_MS (as a real
#                CodeArtifact endpoint does, tens of ms away);
#   a 1 GiB wheel (served by the emulator from a packages_dir) downloaded straight and through
#     the proxy: throughput, and the proxy's resident memory before and at its peak during the
#     download.
# Release builds; the proxy writes its access log (to a file) as it would in use.
# Needs wrk and curl (wrk is installed with apt-get when missing and running as root).
# Usage: bench/proxy.sh [CONNECTIONS=64] [SECONDS=10] [LATENCY_MS=10]   (prints markdown tables)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
conns=${1:-64}
secs=${2:-10}
latency=${3:-10}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$root/target}
if ! command -v wrk >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get install -y -qq wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
  else
    echo "bench needs wrk (apt-get install wrk)" >&2
    exit 1
  fi
fi
command -v curl >/dev/null || { echo "bench needs curl" >&2; exit 1; }
cargo build --release --quiet -p artoken -p codeartifact-emulator
bin=$CARGO_TARGET_DIR/release
work=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"' EXIT

wait_for_line() { # FILE WORD: waits until FILE's first line contains WORD
  for _ in $(seq 300); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
  echo "timed out waiting for $1" >&2; cat "${1%.out}.err" >&2 || true; exit 1
}

# A 1 GiB wheel (sparse zeros: creating it costs nothing; the emulator holds it in memory).
mkdir -p "$work/pkgs"
truncate -s 1G "$work/pkgs/bigwheel-1.0.0-py3-none-any.whl"
"$bin/codeartifact-emulator" --demo --packages-dir "demo/pypi-store=$work/pkgs" \
  --listen 127.0.0.1:0 > "$work/emu.out" 2> "$work/emu.err" &
pids+=($!)
wait_for_line "$work/emu.out" listening
emu=$(head -1 "$work/emu.out" | awk '{print $NF}')

mkdir -p "$work/home" "$work/proj"
export HOME=$work/home XDG_CACHE_HOME=$work/home/.cache
export AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY
export AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true AWS_ENDPOINT_URL=$emu
unset AWS_PROFILE ARTOKEN_CONFIG
cd "$work/proj"
cat > artoken.yml <<YML
repositories:
  demo: { domain: demo, owner: "111122223333", repository: pypi-store }
YML
token=$("$bin/artoken" token demo)
auth="Authorization: Basic $(printf 'aws:%s' "$token" | base64 -w0)"
endpoint=$("$bin/artoken" url demo --tool endpoint)

"$bin/artoken" serve --listen 127.0.0.1:0 > "$work/serve.out" 2> "$work/serve.err" &
serve_pid=$!
pids+=($serve_pid)
wait_for_line "$work/serve.out" listening
proxy=$(head -1 "$work/serve.out" | awk '{print $NF}')

direct_page="${endpoint}simple/artoken-demo/"
proxy_page="$proxy/demo/simple/artoken-demo/"
curl -fsS -H "$auth" "$direct_page" > "$work/direct.html"
curl -fsS "$proxy_page" > "$work/proxy.html"
grep -q "$proxy/demo/simple/artoken-demo/1.0.0/" "$work/proxy.html" || { echo "the proxy did not rewrite the page" >&2; exit 1; }

rss() { awk -v k="$1:" '$1 == k {print $2}' "/proc/$serve_pid/status"; }
rss_idle=$(rss VmRSS)

run_wrk() { # NAME CONNECTIONS THREADS: direct then proxy
  wrk -t"$3" -c"$2" -d"${secs}s" --latency -H "$auth" "$direct_page" > "$work/wrk-$1-direct.txt"
  wrk -t"$3" -c"$2" -d"${secs}s" --latency "$proxy_page" > "$work/wrk-$1-proxy.txt"
}
# Warm up both paths (connections, pools, page cache), then measure, direct first.
wrk -t2 -c"$conns" -d2s -H "$auth" "$direct_page" > /dev/null
wrk -t2 -c"$conns" -d2s "$proxy_page" > /dev/null
run_wrk load "$conns" 2
run_wrk single 1 1
curl -fsS -X PUT -H 'content-type: application/json' -d "{\"latency_ms\": $latency}" "$emu/_emulator/faults"
run_wrk latency "$conns" 2
curl -fsS -X PUT -H 'content-type: application/json' -d '{}' "$emu/_emulator/faults"
rss_load=$(rss VmHWM)

# 1 GiB through the proxy, sampling its resident memory every 20 ms.
direct_big="${endpoint}simple/bigwheel/1.0.0/bigwheel-1.0.0-py3-none-any.whl"
proxy_big="$proxy/demo/simple/bigwheel/1.0.0/bigwheel-1.0.0-py3-none-any.whl"
curl -fsS -o /dev/null -w '%{size_download} %{time_total}\n' -H "$auth" "$direct_big" > "$work/big-direct.txt"
rss_before=$(rss VmRSS)
: > "$work/rss.txt"
( while kill -0 "$serve_pid" 2>/dev/null; do rss VmRSS >> "$work/rss.txt"; sleep 0.02; done ) &
sampler=$!
pids+=($sampler)
curl -fsS -o /dev/null -w '%{size_download} %{time_total}\n' "$proxy_big" > "$work/big-proxy.txt"
kill "$sampler" 2>/dev/null || true
rss_peak=$(sort -n "$work/rss.txt" | tail -1)

python3 - "$work" "$conns" "$secs" "$rss_idle" "$rss_load" "$rss_before" "$rss_peak" "$latency" "$(nproc)" <<'PY'
import re, sys
work, conns, secs, idle, load, before, peak, latency, cores = sys.argv[1:10]

def ms(v):
    n, unit = re.match(r"([\d.]+)(us|ms|s)", v).groups()
    return float(n) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

def wrk(name):
    t = open(f"{work}/wrk-{name}.txt").read()
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1))
    p50 = ms(re.search(r"^\s+50%\s+(\S+)", t, re.M).group(1))
    p99 = ms(re.search(r"^\s+99%\s+(\S+)", t, re.M).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", t)
    socket = re.search(r"Socket errors: (.*)", t)
    bad = (int(errors.group(1)) if errors else 0)
    return rps, p50, p99, bad, socket.group(1) if socket else ""

def big(name):
    size, secs_ = open(f"{work}/big-{name}.txt").read().split()
    return int(size), float(secs_)

print(f"Index page `simple/artoken-demo/` with wrk for {secs}s each, loopback, {cores} cores shared by wrk, emulator and proxy:\n")
print("| set-up | path | requests/s | p50 | p99 | non-2xx |")
print("| --- | --- | ---: | ---: | ---: | ---: |")
for name, label in (("load", f"{conns} connections"), ("single", "1 connection"), ("latency", f"{conns} connections, upstream +{latency} ms")):
    d, p = wrk(f"{name}-direct"), wrk(f"{name}-proxy")
    print(f"| {label} | straight to the emulator | {d[0]:,.0f} | {d[1]:.2f} ms | {d[2]:.2f} ms | {d[3]} |")
    print(f"| | through `artoken serve` | {p[0]:,.0f} | {p[1]:.2f} ms | {p[2]:.2f} ms | {p[3]} |")
    print(f"| | **proxy vs direct** | **{100 * p[0] / d[0]:.0f}%** | **+{p[1] - d[1]:.2f} ms** | +{p[2] - d[2]:.2f} ms | |")
    for n, r in (("direct", d), ("proxy", p)):
        if r[4]:
            print(f"\n{name} {n}: socket errors: {r[4]}")
(ds, dt), (ps, pt) = big("direct"), big("proxy")
mib = lambda kib: f"{int(kib) / 1024:.1f} MiB"
print(f"\n1 GiB download (curl, one connection):\n")
print("| path | time | throughput |")
print("| --- | ---: | ---: |")
print(f"| straight to the emulator | {dt:.2f} s | {ds / dt / 2**20:,.0f} MiB/s |")
print(f"| through `artoken serve` | {pt:.2f} s | {ps / pt / 2**20:,.0f} MiB/s |")
print(f"\nProxy resident memory: {mib(idle)} idle after start-up; peak {mib(load)} under the wrk load;")
print(f"{mib(before)} before the 1 GiB download and {mib(peak)} at its peak during it (+{(int(peak) - int(before)) / 1024:.1f} MiB).")
PY
