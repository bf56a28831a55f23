#!/usr/bin/env bash
# Benchmark `aepact validate` on deterministic corpora of plans, beside the bare probe
# (benches/probe.rs), and print the numbers docs/performance.md quotes (issue 13).
#
# usage: scripts/bench-validate.sh [N] [RUNS]
#   N     number of plans in the main corpus (default 10000)
#   RUNS  timed rounds per measurement; medians are reported (default 11)
# env:  GEN_CORPUS  path to gen_corpus.py (default: ../shared/bench/gen_corpus.py next to the repo)
#       AEPACT      binary to time (default: target/release/aepact, built if missing)
#       PROBE       the probe binary (default: built with `cargo build --release --bench probe`)
#       BIG         plans in the large corpus (default 10 x N; 0 skips it)
#       BENCH_TMP   where the corpora are written (default: /dev/shm when writable, else the
#                   system temp dir): on a memory file system no timed read waits for a disk,
#                   which on some machines evicts files between runs and dilutes the ratios
#
# In one run it measures:
# - single-core time: `aepact validate DIR` and the probe pinned to one core (`taskset -c 0`),
#   run in alternation; the ratio is the median of the per-round ratios, which a busy machine
#   disturbs less than a ratio of medians;
# - peak RSS (GNU time's maximum resident set size) at N and BIG plans, of copies of both
#   binaries on the corpora's file system, and of the binary where it was built: most of the
#   resident set is the executable's code pages, and how many the kernel maps around each
#   fault depends on the file system's page cache (on tmpfs 4 KiB pages and the 64 KiB
#   fault-around; ext4 may keep a file just written by the linker in larger folios, which maps
#   up to 0.8 MiB more of the same binary): the copies give the number that repeats;
# - the time at BIG plans over the time at N (one core);
# - time on all cores, `--format json`, one plan alone, and that every verdict matches the
#   generator's manifest (exits non-zero on any mismatch).
set -euo pipefail
cd "$(dirname "$0")/.."

n=${1:-10000}
runs=${2:-11}
gen=${GEN_CORPUS:-../shared/bench/gen_corpus.py}
bin=${AEPACT:-target/release/aepact}
big=${BIG:-$((n * 10))}

if [ ! -x "$bin" ]; then
  cargo build --release --locked
fi
probe=${PROBE:-}
if [ -z "$probe" ]; then
  # The bench target's executable, as cargo reports it; cargo's own messages go to stderr, and
  # a failed build reaches the message below rather than ending the script unexplained.
  probe=$( (cargo build --release --locked --bench probe --message-format=json |
    python3 -c 'import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "probe" and m.get("executable"):
        print(m["executable"])') || true)
  if [ -z "$probe" ]; then
    echo "could not build the probe: cargo build --release --bench probe" >&2
    exit 1
  fi
fi
tmp=${BENCH_TMP:-}
if [ -z "$tmp" ] && [ -d /dev/shm ] && [ -w /dev/shm ]; then
  tmp=/dev/shm
fi
work=$(mktemp -d -p "${tmp:-${TMPDIR:-/tmp}}")
trap 'rm -rf "$work"' EXIT
python3 "$gen" "$n" "$work/corpus" >/dev/null
if [ "$big" -gt 0 ]; then
  python3 "$gen" "$big" "$work/big" >/dev/null
fi

# Copies for the memory measurements (see above).
cp "$bin" "$work/aepact"
cp "$probe" "$work/probe"
python3 - "$bin" "$probe" "$work/corpus" "$work/big" "$runs" "$big" "$work" <<'PY'
import json, os, shutil, statistics, subprocess, sys, time

binary, probe, corpus, big, runs, big_n, work = sys.argv[1:8]
binary_copy, probe_copy = os.path.join(work, "aepact"), os.path.join(work, "probe")
runs, big_n = int(runs), int(big_n)
pin = ["taskset", "-c", "0"] if shutil.which("taskset") else []
gnu_time = "/usr/bin/time" if os.path.exists("/usr/bin/time") else None
devnull = os.open(os.devnull, os.O_WRONLY)


def warm(directory):
    """Reads every file once, so that no timed run waits for the disk."""
    for name in os.listdir(directory):
        with open(os.path.join(directory, name), "rb") as fh:
            fh.read()


def run(cmd):
    """Wall time (s) and user+system CPU time (s) of one run."""
    start = time.perf_counter()
    child = subprocess.Popen(cmd, stdout=devnull, stderr=devnull)
    _, _, usage = os.wait4(child.pid, 0)
    return time.perf_counter() - start, usage.ru_utime + usage.ru_stime


def rounds(cmds, count):
    """Runs the commands in alternation `count` times (after one warm-up round each)."""
    for cmd in cmds:
        run(cmd)
    results = [[] for _ in cmds]
    for _ in range(count):
        for i, cmd in enumerate(cmds):
            results[i].append(run(cmd))
    return results


def median(values):
    return statistics.median(values)


def peak_rss(cmd, count=5):
    """Median over `count` runs of GNU time's maximum resident set size, in MiB."""
    if gnu_time is None:
        return float("nan")
    peaks = []
    for _ in range(count):
        r = subprocess.run([gnu_time, "-f", "%M"] + cmd, stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, text=True)
        peaks.append(int(r.stderr.strip().splitlines()[-1]) / 1024)
    return median(peaks)


warm(corpus)
files = len([f for f in os.listdir(corpus) if f.endswith(".yaml")])
validate = [binary, "validate", corpus]
bare = [probe, corpus]
print(f"corpus: {files} plans; {runs} rounds per measurement; medians")
print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start")
if not pin:
    print("note: taskset not found, 'one core' runs are not pinned")

# Single core, beside the probe.
probe_runs, aepact_runs = rounds([pin + bare, pin + validate], runs)
ratio_wall = median([a[0] / p[0] for a, p in zip(aepact_runs, probe_runs)])
ratio_cpu = median([a[1] / p[1] for a, p in zip(aepact_runs, probe_runs)])
t_probe = median([r[0] for r in probe_runs])
t_one = median([r[0] for r in aepact_runs])
print(f"probe DIR, one core            {t_probe*1000:8.1f} ms")
print(f"validate DIR, one core         {t_one*1000:8.1f} ms   ({files/t_one:,.0f} plans/s)")
print(f"  ratio to the probe           {ratio_wall:8.2f}x wall  {ratio_cpu:.2f}x cpu (aim: at most 1.10x)")

# Both cores, other formats, one file.
(both,) = rounds([validate], runs)
t_both = median([r[0] for r in both])
print(f"validate DIR, all cores        {t_both*1000:8.1f} ms   (one core / all: {t_one/t_both:.2f}x)")
(json_runs,) = rounds([[binary, "validate", "--format", "json", corpus]], runs)
print(f"validate --format json DIR     {median([r[0] for r in json_runs])*1000:8.1f} ms")
one = os.path.join(corpus, sorted(f for f in os.listdir(corpus) if f.endswith(".yaml"))[0])
(one_runs,) = rounds([[binary, "validate", one]], runs)
print(f"validate ONE_FILE              {median([r[0] for r in one_runs])*1000:8.1f} ms")

# Peak memory.
rss = peak_rss([binary_copy, "validate", corpus])
rss_built = peak_rss(validate)
rss_json = peak_rss([binary_copy, "validate", "--format", "json", corpus])
rss_one = peak_rss([binary_copy, "validate", one])
rss_probe = peak_rss([probe_copy, corpus])
print(f"peak RSS, {files} plans          {rss:6.1f} MiB (json {rss_json:.1f}, one plan {rss_one:.1f}, "
      f"probe {rss_probe:.1f}; aim: at most 12 MiB; the binary where it was built: {rss_built:.1f})")

# The large corpus: time per plan and memory as the corpus grows.
if big_n > 0:
    warm(big)
    big_files = len([f for f in os.listdir(big) if f.endswith(".yaml")])
    big_rounds = max(3, runs // 3)
    probe_big, aepact_big = rounds([pin + [probe, big], pin + [binary, "validate", big]], big_rounds)
    t_big = median([r[0] for r in aepact_big])
    t_probe_big = median([r[0] for r in probe_big])
    rss_big = peak_rss([binary_copy, "validate", big])
    rss_probe_big = peak_rss([probe_copy, big])
    print(f"validate DIR, one core, {big_files} plans {t_big*1000:8.1f} ms = {t_big/t_one:.2f}x the "
          f"{files}-plan time (aim: under {big_files/files:.0f}x; probe {t_probe_big/t_probe:.2f}x)")
    print(f"peak RSS, {big_files} plans         {rss_big:6.1f} MiB ({rss_big - rss:+.1f} over {files} plans; "
          f"probe {rss_probe_big:.1f})")

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
