# tests/cli/lib.sh - sourced by every tests/cli/*.sh: run the numaplace
# tool ($NUMAPLACE) and check exit codes, stdout and stderr.
#
#   run ARGS...            runs numaplace; sets $rc, $out, $err
#   run_within S ARGS...   the same, killed after S seconds ($rc 124)
#   expect_rc N "what"     the last run exited N
#   expect_out RE "what"   stdout matches the extended regex RE
#   expect_err RE "what"   stderr matches RE
#   expect_one_line_err    stderr is exactly one line "numaplace: ..."
#                          (or two, the second "try 'numaplace ...'")
#   json_ok PYEXPR "what"  PYEXPR over the last stdout as JSON `d` is true
#   have F                 this build has feature F (hwloc, libvirt, runtime, sim, service)
#   need F                 skip the whole script (exit 77) unless it has
#   small_host NODES MB    prints a topology JSON: NODES nodes of 4 CPUs
#                          (node n: CPUs 4n..4n+3, one socket each) and MB
#                          MiB, distances 10/20
#   finish                 prints "N passed, N failed" and exits
set -u
: "${NUMAPLACE:?NUMAPLACE must name the built tool}"
: "${NP_SHARED:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)/shared}"
: "${NP_SRC:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
# A signal ends the test through its exit trap, so the processes a test
# starts for its whole run (`sleep infinity` targets: a fixed sleep ran
# out under load) end with it.
trap 'exit 130' INT HUP TERM
passed=0 failed=0 last_args= rc=0

ok() { passed=$((passed + 1)); echo "ok - $1"; }
# The command's details only after a run: a script's own check (fuzzing,
# a file's content) has no numaplace command to show.
not_ok() {
  failed=$((failed + 1)); echo "not ok - $1"
  [ -n "$last_args" ] || return 0
  echo "  command: numaplace ${last_args}"; echo "  rc=$rc"
  echo "  stdout: $(head -c 600 "$TMP/out" 2>/dev/null)"
  echo "  stderr: $(head -c 600 "$TMP/err" 2>/dev/null)"
}

run() {
  last_args="$*"
  "$NUMAPLACE" "$@" >"$TMP/out" 2>"$TMP/err" </dev/null
  rc=$?
  out=$(<"$TMP/out"); err=$(<"$TMP/err")
}

# run_within SECONDS ARGS...: like run, but a hang is a failure (rc 124), not a stuck suite.
run_within() {
  local secs=$1; shift
  last_args="$*"
  timeout -k 2 "$secs" "$NUMAPLACE" "$@" >"$TMP/out" 2>"$TMP/err" </dev/null
  rc=$?
  out=$(<"$TMP/out"); err=$(<"$TMP/err")
}

# run_stdin FILE ARGS...: like run, with FILE on standard input.
run_stdin() {
  local in=$1; shift
  last_args="$* < $in"
  "$NUMAPLACE" "$@" >"$TMP/out" 2>"$TMP/err" <"$in"
  rc=$?
  out=$(<"$TMP/out"); err=$(<"$TMP/err")
}

expect_rc() { if [ "$rc" -eq "$1" ]; then ok "$2 (exit $1)"; else not_ok "$2: want exit $1"; fi; }
expect_out() { if grep -Eq -- "$1" "$TMP/out"; then ok "$2"; else not_ok "$2: stdout lacks /$1/"; fi; }
expect_err() { if grep -Eq -- "$1" "$TMP/err"; then ok "$2"; else not_ok "$2: stderr lacks /$1/"; fi; }

expect_one_line_err() {
  local n; n=$(wc -l <"$TMP/err")
  if head -n1 "$TMP/err" | grep -q '^numaplace: ' &&
     { [ "$n" -eq 1 ] || { [ "$n" -eq 2 ] && sed -n 2p "$TMP/err" | grep -q "^try 'numaplace"; }; }; then
    ok "$1: one clear error line"
  else
    not_ok "$1: stderr is not one 'numaplace: ...' line ($n lines)"
  fi
}

# json_ok PYEXPR "what": PYEXPR over the last stdout parsed as `d` is true.
json_ok() {
  if python3 -c "import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if ($1) else 1)" \
      "$TMP/out" 2>/dev/null; then ok "$2"; else not_ok "$2: ($1) is false"; fi
}
# NP_FEATURES comes from meson; run by hand, a script assumes every feature.
have() { case " ${NP_FEATURES-hwloc libvirt xml runtime sim service} " in *" $1 "*) return 0 ;; esac; return 1; }
need() { have "$1" || { echo "skipped: needs $1 (this build has none)"; exit 77; }; }

# fixture NAME: unpack a hwloc sysfs fixture once; prints its root.
fixture() {
  local d="$TMP/fx-$1"
  if [ ! -d "$d" ]; then
    mkdir -p "$d" && tar -C "$d" -xjf "$NP_SHARED/fixtures/hwloc-linux/$1.tar.bz2" || return 1
  fi
  echo "$d/$(ls "$d")"
}

small_host() {
  python3 - "$1" "$2" <<'EOF'
import json, sys
n, mb = int(sys.argv[1]), int(sys.argv[2])
print(json.dumps({"schema": "numaplace.topology/1", "distances_source": "firmware",
  "nodes": [{"id": i, "cpus": list(range(4 * i, 4 * i + 4)), "memory_mb": {"total": mb},
             "distances": [10 if i == j else 20 for j in range(n)]} for i in range(n)],
  "cpus": [{"id": c, "node": c // 4, "core": c % 4, "socket": c // 4} for c in range(4 * n)]}))
EOF
}

finish() {
  echo "$passed passed, $failed failed"
  [ "$failed" -eq 0 ]
  exit $?
}
