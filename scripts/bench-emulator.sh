#!/usr/bin/env bash
# Throughput of `aepact emulator` on loopback, measured with wrk (Debian: `apt-get install wrk`).
#
# Usage: scripts/bench-emulator.sh [AEPACT_BINARY]
#   AEPACT_BINARY  defaults to target/release/aepact (built with `cargo build --release` if missing)
#   DURATION=10s THREADS=2 CONNECTIONS=32  override wrk's settings
#
# It starts the emulator on a free port with instant runs and no state file, gets a token, makes
# one ad-hoc run, then lets wrk hammer the three GETs that aepact's `plan` and `status` use most:
# the run behind a statusURL, a dataflow, and the newest export job. Requests carry every
# gateway header, so the token check and sandbox lookup are part of what is measured.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=${1:-target/release/aepact}
DURATION=${DURATION:-10s}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-32}

command -v wrk >/dev/null || { echo "wrk is not installed (Debian: apt-get install wrk)" >&2; exit 1; }
command -v curl >/dev/null || { echo "curl is not installed" >&2; exit 1; }
if [ ! -x "$BIN" ]; then
    cargo build --release
fi

banner=$(mktemp)
"$BIN" emulator --port 0 --run-duration 0 >"$banner" &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; rm -f "$banner"' EXIT
for _ in $(seq 1 100); do
    grep -q "listening on" "$banner" && break
    sleep 0.1
done
url=$(head -n 1 "$banner" | sed 's/.* listening on //')
[ -n "$url" ] || { echo "the emulator did not start" >&2; exit 1; }

org=A1B2C3D4E5F6A7B8C9D0E1F2@AdobeOrg
client=aepact-demo-client
token=$(curl -sf -X POST "$url/ims/token/v3" \
    -d grant_type=client_credentials -d client_id=$client \
    -d client_secret=p8e-aepact-demo-secret -d scope=openid |
    sed -E 's/.*"access_token":"([^"]+)".*/\1/')
headers=(-H "Authorization: Bearer $token" -H "x-api-key: $client" -H "x-gw-ims-org-id: $org" -H "x-sandbox-name: prod")

email=0b7c2f9e-1a2b-4c3d-8e9f-0a1b2c3d4e5f
gold=db8961e9-d52f-45bc-b3fb-76d0382a6851
status_url=$(curl -sf -X POST "${headers[@]}" -H "Content-Type: application/json" \
    "$url/data/core/activation/disflowprovider/adhocrun" \
    -d "{\"activationInfo\":{\"$email\":[\"$gold\"]},\"exportIds\":[\"11044\"]}" |
    sed -E 's/.*"statusURL":"([^"]+)".*/\1/')

echo "aepact emulator at $url; wrk -t$THREADS -c$CONNECTIONS -d$DURATION"
for target in "$status_url" "$url/data/foundation/flowservice/flows/$email" "$url/data/core/ups/export/jobs?limit=1"; do
    echo
    echo "== GET ${target#"$url"}"
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "${headers[@]}" "$target" |
        grep -E "Requests/sec|Non-2xx|requests in|^ +(50|99)%"
done
