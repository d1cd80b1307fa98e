#!/usr/bin/env bash
# tests/slow/fuzz-long.sh - the parsers that take hostile input, fuzzed
# longer than CI's short pass (scripts/fuzz.sh, libFuzzer, clang): hwloc
# XML, then the state reader, the kind detection and the whole documents
# (domain XML, xl.cfg: read, placed, merged).
#
# A CI gate must be reproducible, so by default every run does the same
# work: libFuzzer's seed $SLOW_FUZZ_SEED (default 1) and a fixed number of
# runs, $SLOW_FUZZ_RUNS (default 400000) for hwloc XML and a quarter of
# that for each of the others: about 2 minutes of one core (55 s of CPU
# for hwloc XML, 25 s for the state reader, 15 s each for the others,
# measured with clang 14).  The same inputs are tried on every machine, fast
# or slow, so the test fails only on a crash that this run reproduces,
# never by luck.  $SLOW_FUZZ_SECONDS (default 300 for hwloc XML, a quarter
# for each other) only caps a very slow or loaded machine (the line then
# says how many runs were done), and an input may take 30 s instead of
# scripts/fuzz.sh's 10 before it counts as a hang: neither is part of the
# gate.
#
# Exploring (finding new crashes) is a developer's job, not the gate's:
#   SLOW_FUZZ_EXPLORE=1 bash tests/slow/fuzz-long.sh
# picks a random seed and fuzzes for $SLOW_FUZZ_SECONDS (default 120) on
# hwloc XML and a quarter of that on each other target, without a run
# limit.  Whatever either mode finds is kept under
# $NP_BUILD/slow-fuzz-out/TARGET/; add it (minimised with
# -minimize_crash=1) to tests/fuzz/corpus/TARGET/ (and tests/data/ when it
# is a new class) with the fix, so the reproducible run replays it from
# then on.  $SLOW_FUZZ_ARGS adds libFuzzer flags.  Skipped (77) without
# clang.
#
# The whole test must end within meson's limit (900 s, tests/slow/
# meson.build) on a loaded machine too: it once timed out at load 12,
# when the clang build of the targets and the caps (300 s + 4 x 75 s)
# added up past it.  So the targets are built first (each replays its
# seeds once, -runs=0), and then each pass's cap is the smaller of its own
# and its share of what is left of $SLOW_FUZZ_BUDGET seconds (default
# 720: the rest is for an input libFuzzer runs past its cap, up to
# -timeout=30, and for exiting).  A quiet machine does the fixed runs long
# before any cap, so it tests exactly as much as before; a loaded one
# does fewer runs and says so.  With under 40 s left after the build the
# test is skipped (77), saying why.
. "$(dirname "$0")/../cli/lib.sh"

command -v clang >/dev/null || { echo "skip: clang not found"; exit 77; }
out="${NP_BUILD:-$TMP}/slow-fuzz-out"
if [ "${SLOW_FUZZ_EXPLORE:-0}" != 0 ]; then
  seed=0 runs= secs=${SLOW_FUZZ_SECONDS:-120}
  echo "exploring: random seed, $secs s"
else
  seed=${SLOW_FUZZ_SEED:-1} runs=${SLOW_FUZZ_RUNS:-400000} secs=${SLOW_FUZZ_SECONDS:-300}
  echo "reproducible: seed $seed, $runs runs (hwloc XML), at most $secs s a target"
fi
budget=${SLOW_FUZZ_BUDGET:-720}
case "$seed$runs$secs$budget" in
  *[!0-9]*) echo "SLOW_FUZZ_SEED, SLOW_FUZZ_RUNS, SLOW_FUZZ_SECONDS and SLOW_FUZZ_BUDGET must be numbers" >&2; exit 2 ;;
esac
targets="fuzz-hwloc-xml fuzz-state fuzz-auto fuzz-domain-xml fuzz-xl-config"

# fuzz SECONDS RUNS TARGETS...: one scripts/fuzz.sh pass (RUNS empty: no limit).
fuzz() {
  local s=$1 n=$2 args=${SLOW_FUZZ_ARGS:-}; shift 2
  [ -n "$n" ] && args="-runs=$n -timeout=30 $args"
  FUZZ_OUT="$out" FUZZ_SEED="$seed" FUZZ_TARGETS="$*" FUZZ_ARGS="$args" \
    bash "$NP_SRC/scripts/fuzz.sh" "$s" >"$TMP/fuzz.txt" 2>&1
  rc=$?
  cat "$TMP/fuzz.txt"
  case $rc in
    0)
      while read -r word target done rest; do
        if [ -n "$n" ] && [ "$done" != "$n" ]; then
          ok "$target: $done $rest (stopped by the $s s cap before $n runs: a slow machine)"
        else
          ok "$target: $done $rest"
        fi
      done < <(grep '^ok ' "$TMP/fuzz.txt") ;;
    77) echo "skip: $(tail -n 1 "$TMP/fuzz.txt")"; exit 77 ;;
    *) not_ok "fuzzing $* (seed $seed): $(grep -m1 -E 'CRASHED|failed' "$TMP/fuzz.txt")" ;;
  esac
}
quarter() { [ -z "$1" ] || echo $(($1 / 4 > 1000 ? $1 / 4 : 1000)); }
# capped CAP PARTS: CAP, or 1/PARTS of the budget left if that is less (at least 10).
capped() {
  local share=$(((budget - SECONDS) / $2))
  share=$((share < 10 ? 10 : share))
  echo $(($1 < share ? $1 : share))
}

# The build (scripts/fuzz.sh builds what it runs), and each target's seeds once.
FUZZ_OUT="$out" FUZZ_SEED="$seed" FUZZ_TARGETS="$targets" FUZZ_ARGS="-runs=0 -timeout=30" \
  bash "$NP_SRC/scripts/fuzz.sh" 30 >"$TMP/fuzz.txt" 2>&1
case $? in
  0) ok "the targets built in ${SECONDS} s, each replays its seeds" ;;
  77) echo "skip: $(tail -n 1 "$TMP/fuzz.txt")"; exit 77 ;;
  *) cat "$TMP/fuzz.txt"; not_ok "building the targets or replaying their seeds"; finish ;;
esac
if [ $((budget - SECONDS)) -lt 40 ]; then
  echo "skip: the build took ${SECONDS} s of the ${budget} s budget (a loaded machine)"; exit 77
fi
fuzz "$(capped "$secs" 2)" "$runs" fuzz-hwloc-xml
quarter_secs=$((secs / 4 > 10 ? secs / 4 : 10))
fuzz "$(capped "$quarter_secs" 4)" "$(quarter "$runs")" ${targets#fuzz-hwloc-xml }
echo "# ${SECONDS} s in all (budget ${budget} s)"
finish
