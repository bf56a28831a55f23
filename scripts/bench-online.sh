#!/usr/bin/env bash
# Requests and wall time of the online passes at scale, against the emulator (issue 13; see
# docs/performance.md, "Online passes at scale").
#
# usage: scripts/bench-online.sh [FLOWS] [SEGMENTS] [PLANS]
#   FLOWS     destination dataflows in the seeded sandbox `prod` (default 10)
#   SEGMENTS  segments mapped to each dataflow (default 40)
#   PLANS     plans of 4 segments each, spread over the dataflows, no segment in two plans
#             (default 100; at most FLOWS * SEGMENTS / 4)
# env:  AEPACT      binary to run (default: target/release/aepact if it exists, else the debug
#                   build, built with `cargo build`)
#       LATENCY_MS  latency the emulator adds to every API request while the passes are timed
#                   (default 100)
#       MAX_REQUESTS  the most requests one `status` or `plan` pass may make (default 25)
#       CONCURRENCY   requests in flight at once, as `--concurrency` (default 8)
#
# It writes a seed file of that world, starts `aepact emulator --seed FILE --run-duration 1h`
# (so that every order is still in flight), writes the plans, adds the latency fault
# {"route": "*", "latencyMs": LATENCY_MS}, then times `aepact apply DIR` (all plans, sent side by
# side), one `aepact status DIR` pass and one `aepact plan DIR` pass, reading the emulator's
# request log after each. It prints the requests per route and the wall time of each pass and exits non-zero
# when a pass makes more than MAX_REQUESTS requests or one answered other than 200.
# Everything talks to 127.0.0.1 only.
set -euo pipefail
cd "$(dirname "$0")/.."

flows=${1:-10}
segments=${2:-40}
plans=${3:-100}
latency=${LATENCY_MS:-100}
max_requests=${MAX_REQUESTS:-25}
concurrency=${CONCURRENCY:-8}
[ $((plans * 4)) -le $((flows * segments)) ] || {
    echo "$plans plans of 4 segments need more than $flows x $segments segments" >&2
    exit 2
}

if [ -n "${AEPACT:-}" ]; then
    bin=$AEPACT
elif [ -x "${CARGO_TARGET_DIR:-target}/release/aepact" ]; then
    bin=${CARGO_TARGET_DIR:-target}/release/aepact
else
    cargo build --quiet
    bin=${CARGO_TARGET_DIR:-target}/debug/aepact
fi
"$bin" status --help 2>/dev/null | grep -q -- --concurrency || {
    echo "$bin has no \`status --concurrency\` (stale build?): cargo build --release" >&2
    exit 1
}

work=$(mktemp -d)
emu_pid=
cleanup() {
    if [ -n "$emu_pid" ]; then
        kill "$emu_pid" 2>/dev/null || true
        wait "$emu_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The world and the plans, deterministic: dataflow f maps segments f*SEGMENTS .. +SEGMENTS;
# plan p goes to dataflow p % FLOWS with 4 of its segments no other plan has.
python3 - "$flows" "$segments" "$plans" "$work" <<'PY'
import os, sys

flows, segments, plans, work = (int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4])
seg = lambda f, s: f"{f:08x}-0000-4000-8000-{s:012x}"
flow = lambda f: f"{f:08x}-1111-4111-8111-000000000000"
lines = [
    "org: 0123456789ABCDEF01234567@AdobeOrg",
    "clients:",
    "  - id: bench-client",
    "    secret: bench-secret",
    "sandboxes:",
    "  prod:",
    "    segments:",
]
for f in range(flows):
    for s in range(segments):
        lines += [f"      - id: {seg(f, s)}", f"        name: Segment {f}-{s}"]
lines.append("    dataflows:")
for f in range(flows):
    lines += [f"      - id: {flow(f)}", f"        name: Destination {f}", "        segments:"]
    lines += [f"          - id: {seg(f, s)}" for s in range(segments)]
lines += ["    exportJobs:", "      - id: 7", "        status: SUCCEEDED", "        hoursAgo: 2"]
with open(os.path.join(work, "seed.yaml"), "w") as fh:
    fh.write("\n".join(lines) + "\n")

os.makedirs(os.path.join(work, "plans"))
for p in range(plans):
    f, first = p % flows, (p // flows) * 4
    body = [
        "apiVersion: aepact/v1",
        f"name: bench-online-{p:04d}",
        "sandbox: prod",
        "exports: latest",
        "destinations:",
        f"  - id: {flow(f)}",
        "    segments:",
    ] + [f"      - {seg(f, s)}" for s in range(first, first + 4)] + ["run: 1"]
    with open(os.path.join(work, "plans", f"bench-online-{p:04d}.yaml"), "w") as fh:
        fh.write("\n".join(body) + "\n")
PY

# Nothing of the caller's environment may redirect aepact: only the emulator's AEP_* below.
unset AEP_ACCESS_TOKEN AEP_API_KEY AEP_SANDBOX AEP_ADHOC_API_VERSION AEP_PLATFORM_URL AEP_IMS_URL \
    AEP_ORG_ID AEP_CLIENT_ID AEP_CLIENT_SECRET AEP_SCOPES AEPACT_CONCURRENCY
export NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost
export AEPACT_CONCURRENCY=$concurrency

"$bin" emulator --port 0 --seed "$work/seed.yaml" --run-duration 1h \
    >"$work/banner" 2>"$work/emulator.err" &
emu_pid=$!
for _ in $(seq 1 100); do
    grep -q "export AEP_SCOPES=" "$work/banner" 2>/dev/null && break
    kill -0 "$emu_pid" 2>/dev/null || break
    sleep 0.1
done
url=$(head -n 1 "$work/banner" | sed -n 's/.* listening on //p')
case "$url" in
    http://127.0.0.1:*) ;;
    *) echo "the emulator did not start:" >&2; cat "$work/banner" "$work/emulator.err" >&2; exit 1 ;;
esac
export AEP_PLATFORM_URL=$url AEP_IMS_URL=$url AEP_ORG_ID=0123456789ABCDEF01234567@AdobeOrg \
    AEP_CLIENT_ID=bench-client AEP_CLIENT_SECRET=bench-secret \
    AEP_SCOPES=openid,AdobeID,read_organizations

# http METHOD PATH [JSON]: a control call to the emulator; the response body on stdout.
http() {
    python3 - "$1" "$url$2" "${3:-}" <<'PY'
import sys, urllib.request
method, url, body = sys.argv[1], sys.argv[2], sys.argv[3]
req = urllib.request.Request(url, method=method, data=body.encode() if body else None,
                             headers={"Content-Type": "application/json"})
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
sys.stdout.write(opener.open(req, timeout=30).read().decode())
PY
}

# pass NAME COMMAND...: clears the log, times the command, saves the log as NAME.json.
pass() {
    local name=$1 start end
    shift
    http DELETE /_emulator/requests >/dev/null
    start=$(date +%s%N)
    if ! "$@" >"$work/$name.out" 2>&1; then
        echo "\`$*\` failed:" >&2
        tail -n 30 "$work/$name.out" >&2
        exit 1
    fi
    end=$(date +%s%N)
    echo $(((end - start) / 1000000)) >"$work/$name.ms"
    http GET /_emulator/requests >"$work/$name.json"
}

echo "world: $flows dataflows x $segments segments in sandbox prod; $plans plans of 4 segments"
echo "binary: $bin; emulator at $url; concurrency $concurrency"
if [ "$latency" -gt 0 ]; then
    http POST /_emulator/faults "{\"route\": \"*\", \"latencyMs\": $latency}" >/dev/null
fi
echo "${latency} ms added to every API request:"
pass apply "$bin" apply --auto-approve --color never "$work/plans"
pass status "$bin" status --color never "$work/plans"
pass plan "$bin" plan --color never "$work/plans"

python3 - "$work" "$max_requests" "$plans" <<'PY'
import collections, json, sys

work, most, plans = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
ok = True
for name, bounded in (("apply", False), ("status", True), ("plan", True)):
    with open(f"{work}/{name}.json") as f:
        entries = json.load(f)
    entries = entries if isinstance(entries, list) else entries.get("requests", [])
    with open(f"{work}/{name}.ms") as f:
        ms = int(f.read())
    counts = collections.Counter(e["route"] for e in entries)
    bad = [e for e in entries if e.get("status") != 200]
    shown = ", ".join(f"{route} {count}" for route, count in sorted(counts.items()))
    print(f"  {name:<7} {len(entries):>4} requests in {ms:>6} ms   ({shown})")
    if bounded and len(entries) > most:
        ok = False
        print(f"  {name}: {len(entries)} requests, more than {most}", file=sys.stderr)
    if bad:
        ok = False
        for e in bad:
            print(f"  {name}: {e.get('method')} {e.get('path')} answered {e.get('status')}",
                  file=sys.stderr)
with open(f"{work}/status.out") as f:
    summary = f.read().strip().splitlines()[-1]
print(f"  status said: {summary}")
if not ok:
    sys.exit(1)
print(f"status and plan: at most {most} requests each, every answer 200")
PY
