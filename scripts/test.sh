#!/usr/bin/env bash
# scripts/test.sh - build and run the test suites (unit, cli, lint, vm, slow) in
# one or more build dirs, then print one line over all of them:
# "N passed, N failed, N skipped".
#
#   scripts/test.sh                       the build/ made by scripts/setup.sh
#   scripts/test.sh build build-asan      several build dirs, one total
#   scripts/test.sh build build-release:unit,cli
#                                         DIR:SUITES runs only those suites there
#   SUITES="unit cli" scripts/test.sh     only those suites (in every dir)
#   MESON_TESTTHREADS=4 scripts/test.sh   tests at once (default 2, the CI
#                                         machine's cores; more adds pressure)
# The vm suite (QEMU boots) and the slow suite (long fuzzing from a fixed
# seed, attacks, SIGKILLed claims: a few minutes) run in the first build
# dir only.
# A DIR that is not a build dir, or does not build, counts as one failed
# test and the others still run: the last line is always printed.
# Exit status: 0 when nothing failed.
set -uo pipefail
cd "$(dirname "$0")/.."
[ $# -gt 0 ] || set -- build
SUITES=${SUITES:-}
first=${1%%:*}

passed=0 failed=0 skipped=0 status=0
for spec in "$@"; do
  dir=${spec%%:*}
  only=
  [ "$spec" = "$dir" ] || only=${spec#*:}
  if [ ! -f "$dir/build.ninja" ]; then
    echo "test: $dir is not a build dir; run scripts/setup.sh first" >&2
    failed=$((failed + 1)) status=1
    continue
  fi
  if ! ninja -C "$dir" >/dev/null; then
    echo "test: build failed in $dir" >&2
    failed=$((failed + 1)) status=1
    continue
  fi
  args=()
  for s in ${only//,/ }; do
    # With SUITES too, a suite runs where both ask for it.
    if [ -z "$SUITES" ] || [[ " $SUITES " == *" $s "* ]]; then args+=(--suite "$s"); fi
  done
  if [ -n "$only" ] && [ ${#args[@]} -eq 0 ]; then
    echo "== no suite to run in $dir"
    continue
  fi
  if [ -z "$only" ]; then
    for s in $SUITES; do args+=(--suite "$s"); done
  fi
  [ "$dir" = "$first" ] || args+=(--no-suite vm --no-suite slow)
  echo "== tests in $dir${only:+ (suites $only)}"
  # No log from an earlier run may be counted as this one's.
  rm -f "$dir/meson-logs/testlog.json"
  meson test -C "$dir" --print-errorlogs --num-processes "${MESON_TESTTHREADS:-2}" "${args[@]}" || status=1
  read -r p f s < <(/usr/bin/python3 - "$dir/meson-logs/testlog.json" <<'PY'
import json, sys
p = f = s = 0
for line in open(sys.argv[1]):
    if not line.strip():
        continue
    r = json.loads(line).get("result")
    if r in ("OK", "EXPECTEDFAIL"): p += 1
    elif r == "SKIP": s += 1
    else: f += 1
print(p, f, s)
PY
)
  # No count read (the log unreadable): that directory failed.
  [ -n "${p:-}" ] || { echo "test.sh: cannot read $dir/meson-logs/testlog.json"; p=0 f=1 s=0; }
  passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
done
[ "$failed" -eq 0 ] || status=1
echo "$passed passed, $failed failed, $skipped skipped"
exit $status
