#!/usr/bin/env bash
# scripts/fuzz.sh - build the libFuzzer targets (tests/fuzz/) with clang in
# their own build dir and fuzz each one for a while, one after the other.
#
#   scripts/fuzz.sh            20 s per target (or $FUZZ_SECONDS)
#   scripts/fuzz.sh 300        300 s per target
#   FUZZ_BUILD=/tmp/bf FUZZ_TARGETS="fuzz-xl fuzz-json" scripts/fuzz.sh 60
#   FUZZ_ARGS="-only_ascii=1" scripts/fuzz.sh        extra libFuzzer flags
#
# Each target starts from a copy of its seed corpus (tests/fuzz/corpus/NAME)
# in a temporary dir, with the dictionary tests/fuzz/dict/NAME.dict; the
# repository is never written except for the build dir (default
# build-fuzz).  A crashing input is kept under $FUZZ_OUT (default
# /tmp/fuzz-out/NAME/), with the fuzzer's log next to it.
# Prints one line per target and exits 1 when any target crashed, 2 when the
# build failed, 77 when clang is missing.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2

SECONDS_PER=${1:-${FUZZ_SECONDS:-20}}
BUILD=${FUZZ_BUILD:-build-fuzz}
OUT=${FUZZ_OUT:-/tmp/fuzz-out}
read -r -a EXTRA <<<"${FUZZ_ARGS:-}"
TARGETS=${FUZZ_TARGETS:-fuzz-json fuzz-xl fuzz-libvirt-xml fuzz-hwloc-xml fuzz-auto fuzz-cpulist fuzz-state fuzz-domain-xml fuzz-xl-config fuzz-service-body fuzz-agent fuzz-flavors}

case $SECONDS_PER in
  '' | *[!0-9]*) echo "fuzz: seconds must be a number, not '$SECONDS_PER'" >&2; exit 2 ;;
esac
command -v clang >/dev/null || { echo "fuzz: clang not found: skipped" >&2; exit 77; }

if [ ! -f "$BUILD/build.ninja" ]; then
  CC=clang meson setup "$BUILD" -Dfuzz=true >"${TMPDIR:-/tmp}/fuzz-setup.$$.log" 2>&1 || {
    cat "${TMPDIR:-/tmp}/fuzz-setup.$$.log" >&2; rm -f "${TMPDIR:-/tmp}/fuzz-setup.$$.log"
    echo "fuzz: meson setup failed" >&2; exit 2; }
  rm -f "${TMPDIR:-/tmp}/fuzz-setup.$$.log"
fi
# Only the fuzz targets: the rest of the tree need not build with clang.
paths=()
for t in $TARGETS; do paths+=("tests/fuzz/$t"); done
ninja -C "$BUILD" "${paths[@]}" >/dev/null || {
  ninja -C "$BUILD" "${paths[@]}" | tail -n 30 >&2; echo "fuzz: build failed" >&2; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT
# intercept_tls_get_addr=0: as the tests (tests/meson.build, tests/asan/lsan-dtls.sh).
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:intercept_tls_get_addr=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# Known leaks of hwloc 2.9.0 itself (see the file).
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/tests/fuzz/lsan.supp:print_suppressions=0}

crashed=0
for t in $TARGETS; do
  exe=$BUILD/tests/fuzz/$t
  mkdir -p "$work/$t" "$OUT/$t"
  cp tests/fuzz/corpus/"$t"/* "$work/$t/" 2>/dev/null
  log=$OUT/$t/fuzz.log
  dict=()
  [ -f "tests/fuzz/dict/$t.dict" ] && dict=(-dict="tests/fuzz/dict/$t.dict")
  # The braces keep bash's "Aborted" notice about a crashed fuzzer quiet.
  # A fixed seed (FUZZ_SEED, default 1) makes a CI run repeatable on the same
  # machine; FUZZ_SEED=0 lets libFuzzer pick one.
  { "$exe" "$work/$t" -seed="${FUZZ_SEED:-1}" -max_total_time="$SECONDS_PER" -timeout=10 -rss_limit_mb=2048 \
      -artifact_prefix="$OUT/$t/" -print_final_stats=1 "${dict[@]}" "${EXTRA[@]}" \
      >"$log" 2>&1; } 2>/dev/null
  rc=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 | cut -d' ' -f2)
  corpus=$(find "$work/$t" -type f | wc -l)
  if [ $rc -eq 0 ]; then
    printf 'ok       %-18s %8s runs  cov %-6s corpus %s\n' "$t" "${runs:-?}" "${cov:-?}" "$corpus"
  else
    crashed=1
    art=$(grep -o "Test unit written to [^ ]*" "$log" | tail -n 1 | cut -d' ' -f5)
    why=$(grep -m1 -E '^(==[0-9]+==ERROR|SUMMARY|fuzz:|.*runtime error)' "$log")
    seed=$(sed -n 's/^INFO: Seed: //p' "$log" | head -n 1)
    printf 'CRASHED  %-18s %s\n         %s\n         seed %s, log %s\n' "$t" "${art:-no input saved}" \
      "${why:-exit $rc}" "${seed:-?}" "$log"
  fi
done
exit $crashed
