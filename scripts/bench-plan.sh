#!/usr/bin/env bash
# Requests and wall time of `aepact plan` over many plans against the emulator with added latency
# (see docs/performance.md, "`aepact plan` against the emulator").
#
# usage: scripts/bench-plan.sh [N] [RUNS]
#   N     number of plans, all in sandbox `prod` (default 100)
#   RUNS  timed runs of `aepact plan DIR`; the median is reported (default 7)
# env:  AEPACT      binary to run (default: target/release/aepact if it exists and has `plan`,
#                   else target/debug/aepact, built with `cargo build`)
#       LATENCY_MS  latency the emulator adds to every API request (default 50)
#
# It starts `aepact emulator --port 0 --run-duration 0` (demo world, memory only), adds the
# fault {"route": "*", "latencyMs": LATENCY_MS}, writes N valid plans using the prod dataflows'
# mapped, in-schedule segments (`exports: latest`, distinct names, no lockfiles), then for each
# run clears the emulator's request log, times `aepact plan DIR` and reads the log back. Every
# run must make exactly 1 `ims.token`, 1 `exportJobs.list` and one `flows.get` per distinct
# destination, all answered 200, and nothing else; the script exits non-zero otherwise.
# Everything talks to 127.0.0.1 only.
set -euo pipefail
cd "$(dirname "$0")/.."

n=${1:-100}
runs=${2:-7}
latency=${LATENCY_MS:-50}

has_plan() { [ -x "$1" ] && "$1" plan --help >/dev/null 2>&1; }
if [ -n "${AEPACT:-}" ]; then
    bin=$AEPACT
elif has_plan "${CARGO_TARGET_DIR:-target}/release/aepact"; then
    bin=${CARGO_TARGET_DIR:-target}/release/aepact
else
    if [ -x "${CARGO_TARGET_DIR:-target}/release/aepact" ]; then
        echo "note: ${CARGO_TARGET_DIR:-target}/release/aepact has no \`plan\` (stale); using the debug build" >&2
    fi
    cargo build --quiet
    bin=${CARGO_TARGET_DIR:-target}/debug/aepact
fi
has_plan "$bin" || { echo "$bin does not know \`plan\`" >&2; exit 1; }

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

# Nothing of the caller's environment may redirect aepact: only the emulator's AEP_* below.
unset AEP_ACCESS_TOKEN AEP_API_KEY AEP_SANDBOX AEP_ADHOC_API_VERSION AEP_PLATFORM_URL AEP_IMS_URL \
    AEP_ORG_ID AEP_CLIENT_ID AEP_CLIENT_SECRET AEP_SCOPES
export NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost

"$bin" emulator --port 0 --run-duration 0 >"$work/banner" 2>"$work/emulator.err" &
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
while read -r line; do
    line=${line#export }
    name=${line%%=*}
    export "$name=${line#*=}"
done < <(grep -E '^ *export AEP_[A-Z_]+=[^[:space:]]+$' "$work/banner")
for v in AEP_PLATFORM_URL AEP_IMS_URL; do
    [ "${!v:-}" = "$url" ] || { echo "$v is not $url" >&2; exit 1; }
done

# http METHOD PATH [JSON]: a control call to the emulator; the response body on stdout.
if command -v curl >/dev/null; then
    http() {
        curl -sS --fail --noproxy '*' -X "$1" -H 'Content-Type: application/json' \
            ${3:+--data "$3"} "$url$2"
    }
else
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
fi

# N plans in sandbox prod over the demo world's two prod destination dataflows (the third prod
# dataflow is a source, which no valid plan can target). Only segments that are mapped and whose
# schedule covers today; deterministic.
python3 - "$n" "$work/plans" >"$work/destinations" <<'PY'
import os, random, sys

n, out = int(sys.argv[1]), sys.argv[2]
os.makedirs(out)
email = ("0b7c2f9e-1a2b-4c3d-8e9f-0a1b2c3d4e5f", "Email vendor (SFTP)", [
    ("db8961e9-d52f-45bc-b3fb-76d0382a6851", "Loyalty gold"),
    ("6a1f0c3e-5b7d-4e9f-a1b2-c3d4e5f6a7b8", "Loyalty silver"),
    ("7d1e3f5a-9b2c-4d6e-8f0a-1b3c5d7e9f2a", "Lapsed 90 days"),
    ("4b6d8f0a-2c4e-4a6b-9d8f-0a2c4e6b8d1f", "Churn risk > 0.7"),
    ("91df499d-ba38-4a2d-84ce-b997a5f258cb", "Loyalty bronze"),
    ("7729c3ae-9fcd-45ec-8b43-2a32236a133c", "Cart abandoners 24h"),
    ("1295ec0e-0890-48fc-88e1-154ec089eccb", "New customers 30 days"),
    ("535e7232-fbf5-41d3-afa2-adf298e8f23e", "Birthday this month"),
    ("79850769-fdad-4737-a50d-a08cf0a6f34a", "Newsletter opt-in"),
    ("6aab7b40-e715-44dd-abfa-612e8085d4a4", "Mobile app users"),
    ("5a4c2220-062c-473a-8a94-3949fcb4ca72", "Discount seekers"),
    ("9c380e31-86b5-4b3d-9f4f-88e2f1ed4090", "Sustainability interested"),
    ("51c21ce6-37f8-42a7-a945-f0116830b73e", "Gift card holders"),
    ("c3bd07ae-8753-4e23-8dc0-77c8ce348796", "Referral champions"),
])
mail = ("3f9d6c1a-7e2b-4a5c-9d8e-1f2a3b4c5d6e", "Direct mail partner (S3)", [
    ("db8961e9-d52f-45bc-b3fb-76d0382a6851", "Loyalty gold"),
    ("6cd8b7ba-6556-4312-b637-d4a5af211801", "High-value customers"),
    ("54ff4493-ce63-4624-83fb-4be00ff2b0aa", "VIP event invitees"),
    ("c8b1eb93-a472-483a-a291-b12a3d398381", "Lapsed 180 days"),
    ("b7a0301d-905a-489d-ad44-8ea581248d0d", "Store visitors last week"),
    ("080e39cb-8b00-40d9-a324-8b76ab748a61", "Outlet shoppers"),
    ("c1c19f07-643d-433f-a2a1-aeac64b95ce7", "Reactivated this year"),
    ("a62ea7d4-ac30-4a29-a1d8-f413b18eb143", "Catalog requesters"),
    ("d774ba7d-cfb9-4e66-8bd1-88988831b26d", "Address changed 30 days"),
])
rng = random.Random(4)
used = set()
for i in range(n):
    dests = [[email, mail], [email], [mail]][i % 3]
    lines = [
        "apiVersion: aepact/v1",
        f"name: bench-plan-{i:04d}",
        f"description: Benchmark plan {i} of {n}",
        "sandbox: prod",
        "exports: latest",
        "destinations:",
    ]
    for dest_id, dest_name, pool in dests:
        used.add(dest_id)
        lines += [f"  - id: {dest_id}", f"    name: {dest_name}", "    segments:"]
        for seg_id, seg_name in rng.sample(pool, rng.randint(1, 4)):
            if rng.random() < 0.5:
                lines += [f"      - id: {seg_id}", f"        name: {seg_name}"]
            else:
                lines.append(f"      - {seg_id}")
    lines.append("run: 1")
    with open(os.path.join(out, f"bench-plan-{i:04d}.yaml"), "w") as f:
        f.write("\n".join(lines) + "\n")
print(len(used))
PY
destinations=$(cat "$work/destinations")

http POST /_emulator/faults "{\"route\": \"*\", \"latencyMs\": $latency}" >/dev/null
echo "aepact plan: $n plans in sandbox prod, $destinations distinct destinations, ${latency} ms added to every API request"
echo "binary: $bin; emulator at $url; $runs runs"

for r in $(seq 1 "$runs"); do
    http DELETE /_emulator/requests >/dev/null
    start=$(date +%s%N)
    if ! "$bin" plan --color never "$work/plans" >"$work/out" 2>&1; then
        echo "aepact plan failed (run $r):" >&2
        tail -n 30 "$work/out" >&2
        exit 1
    fi
    end=$(date +%s%N)
    echo $(((end - start) / 1000)) >"$work/time-$r"
    http GET /_emulator/requests >"$work/log-$r.json"
done
tail -n 1 "$work/out" | sed 's/^/last summary: /'

python3 - "$work" "$runs" "$destinations" "$latency" <<'PY'
import collections, json, statistics, sys

work, runs, destinations, latency = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
expected = {"ims.token": 1, "exportJobs.list": 1, "flows.get": destinations}
ok = True
walls, spans = [], []
for r in range(1, runs + 1):
    with open(f"{work}/time-{r}") as f:
        walls.append(int(f.read()) / 1000)
    with open(f"{work}/log-{r}.json") as f:
        log = json.load(f)
    entries = log if isinstance(log, list) else log.get("requests", log.get("items", []))
    counts = collections.Counter(e["route"] for e in entries)
    bad = [e for e in entries if e.get("status") != 200]
    if r == 1:
        print(f"\nrequests per route (run 1; {len(entries)} in all):")
        for route, count in sorted(counts.items()):
            want = expected.get(route, 0)
            print(f"  {route:<16} {count:>4}   expected {want}")
        t0 = min(e["at"] for e in entries)
        print("  arrival (ms after the first):",
              ", ".join(f'{e["route"]} +{e["at"] - t0}' for e in entries))
    if dict(counts) != expected or bad:
        ok = False
        print(f"run {r}: MISMATCH: got {dict(counts)}, expected {expected}", file=sys.stderr)
        for e in entries:
            print(f"  {e.get('seq')} {e.get('method')} {e.get('path')}?{e.get('query') or ''} "
                  f"route={e.get('route')} status={e.get('status')}", file=sys.stderr)
    if entries:
        spans.append(max(e["at"] for e in entries) - min(e["at"] for e in entries))

med = statistics.median(walls)
print(f"\nwall time of `aepact plan DIR`, {runs} runs: median {med:.0f} ms "
      f"(min {min(walls):.0f}, max {max(walls):.0f}) = {med / latency:.1f} x {latency} ms")
print(f"first to last request arrival: median {statistics.median(spans):.0f} ms")
serial = sum(expected.values()) * latency
print(f"the same {sum(expected.values())} requests one after another would spend {serial} ms in latency alone")
if not ok:
    print("request counts differ from the expectation (see above)", file=sys.stderr)
    sys.exit(1)
print("request counts: as expected in every run")
PY

# For comparison: the same plans without the added latency (not part of the check above).
http DELETE /_emulator/faults >/dev/null
times=()
for _ in $(seq 1 "$runs"); do
    start=$(date +%s%N)
    "$bin" plan --color never "$work/plans" >/dev/null 2>&1
    end=$(date +%s%N)
    times+=($(((end - start) / 1000)))
done
printf '%s\n' "${times[@]}" | python3 -c '
import statistics, sys
t = [int(x) / 1000 for x in sys.stdin.read().split()]
print(f"without added latency: median {statistics.median(t):.0f} ms (min {min(t):.0f}, max {max(t):.0f})")'
