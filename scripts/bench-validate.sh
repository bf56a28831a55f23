#!/usr/bin/env bash
# Benchmark `aepact validate` on a deterministic corpus of plans (see docs/performance.md).
#
# usage: scripts/bench-validate.sh [N] [RUNS]
#   N     number of plans (default 10000)
#   RUNS  timed runs per measurement; the median is reported (default 7)
# env:  GEN_CORPUS  path to gen_corpus.py (default: ../shared/bench/gen_corpus.py next to the repo)
#       AEPACT      binary to time (default: target/release/aepact, built if missing)
#
# Prints wall time and peak memory for the whole corpus and for a single plan, and checks that
# aepact's verdict on every file matches the generator's manifest.
set -euo pipefail
cd "$(dirname "$0")/.."

n=${1:-10000}
runs=${2:-7}
gen=${GEN_CORPUS:-../shared/bench/gen_corpus.py}
bin=${AEPACT:-target/release/aepact}

if [ ! -x "$bin" ]; then
  cargo build --release --locked
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 "$gen" "$n" "$work/corpus" >/dev/null
plans=("$work"/corpus/plan-*.yaml)

python3 - "$bin" "$work/corpus" "${plans[0]}" "$runs" <<'PY'
import json, os, shutil, statistics, subprocess, sys, time

binary, corpus, one, runs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])

def measure(args):
    """Median wall time (s) over `runs` runs, and peak RSS (MiB) of one run.

    RSS comes from GNU time (`/usr/bin/time -f %M`): a forked Python child would report the
    parent's pages as its own.
    """
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([binary] + args, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    peak = float("nan")
    if os.path.exists("/usr/bin/time"):
        r = subprocess.run(["/usr/bin/time", "-f", "%M", binary] + args,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        peak = int(r.stderr.strip().splitlines()[-1]) / 1024
    return statistics.median(times), peak

files = len([f for f in os.listdir(corpus) if f.endswith(".yaml")])
print(f"corpus: {files} plans, {runs} runs each, median wall time, peak RSS")
t, rss = measure(["validate", corpus])
print(f"validate DIR (human)         {t*1000:8.1f} ms   {rss:6.1f} MiB   ({files/t:,.0f} plans/s)")
if shutil.which("taskset"):
    pinned = binary
    binary = "taskset"
    t1, _ = measure(["-c", "0", pinned, "validate", corpus])
    binary = pinned
    print(f"validate DIR on one core     {t1*1000:8.1f} ms              (speed-up on all cores: {t1/t:.2f}x)")
t, rss = measure(["validate", "--format", "json", corpus])
print(f"validate --format json DIR   {t*1000:8.1f} ms   {rss:6.1f} MiB")
t, rss = measure(["validate", one])
print(f"validate ONE_FILE            {t*1000:8.1f} ms   {rss:6.1f} MiB")

# Verdicts against the generator's manifest.
out = subprocess.run([binary, "validate", "--format", "json", corpus],
                     capture_output=True, text=True)
report = json.loads(out.stdout)
got = {os.path.basename(f["path"]): f for f in report["files"]}
expected = {}
with open(os.path.join(corpus, "manifest.tsv")) as fh:
    next(fh)
    for line in fh:
        name, verdict, kind, _ = line.rstrip("\n").split("\t")
        expected[name] = (verdict, kind)
wrong = []
codes = {}
for name, (verdict, kind) in expected.items():
    f = got.get(name)
    valid = f is not None and f["valid"]
    if valid != (verdict == "valid"):
        wrong.append((name, verdict, kind))
    if f is not None and not f["valid"]:
        first = sorted({d["code"] for d in f["diagnostics"] if d["severity"] == "error"})
        codes.setdefault(kind, set()).update(first)
print(f"verdicts: {len(expected) - len(wrong)}/{len(expected)} match the manifest")
for kind in sorted(codes):
    print(f"  {kind:20} -> {', '.join(sorted(codes[kind]))}")
if wrong:
    for w in wrong[:20]:
        print("  MISMATCH", *w)
    sys.exit(1)
PY
