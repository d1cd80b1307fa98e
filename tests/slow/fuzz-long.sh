#!/usr/bin/env bash
# tests/slow/fuzz-long.sh - the parsers that take hostile input, fuzzed
# longer than CI's short pass (scripts/fuzz.sh, libFuzzer, clang): hwloc XML
# for $SLOW_FUZZ_SECONDS (default 120), the state reader, the kind
# detection and the whole documents (domain XML, xl.cfg: read, placed,
# merged) for a quarter of that each, from a random seed each run, so
# that every run explores somewhere new.  A crash fails the test and names
# the input kept under $NP_BUILD/slow-fuzz-out/TARGET/; add it to
# tests/fuzz/corpus/TARGET/ (and tests/data/ when it is a new class) with
# the fix.  Skipped (77) without clang.
. "$(dirname "$0")/../cli/lib.sh"

command -v clang >/dev/null || { echo "skip: clang not found"; exit 77; }
secs=${SLOW_FUZZ_SECONDS:-120}
out="${NP_BUILD:-$TMP}/slow-fuzz-out"
fuzz() { # SECONDS TARGETS...
  local s=$1; shift
  FUZZ_OUT="$out" FUZZ_SEED=0 FUZZ_TARGETS="$*" FUZZ_ARGS="${SLOW_FUZZ_ARGS:-}" \
    bash "$NP_SRC/scripts/fuzz.sh" "$s" >"$TMP/fuzz.txt" 2>&1
  rc=$?
  cat "$TMP/fuzz.txt"
  case $rc in
    0) while read -r word target rest; do ok "$target: $rest"; done < <(grep '^ok ' "$TMP/fuzz.txt") ;;
    77) echo "skip: $(tail -n 1 "$TMP/fuzz.txt")"; exit 77 ;;
    *) not_ok "fuzzing $*: $(grep -m1 -E 'CRASHED|failed' "$TMP/fuzz.txt")" ;;
  esac
}
fuzz "$secs" fuzz-hwloc-xml
fuzz $((secs / 4 > 10 ? secs / 4 : 10)) fuzz-state fuzz-auto fuzz-domain-xml fuzz-xl-config
finish
