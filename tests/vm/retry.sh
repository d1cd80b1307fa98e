#!/usr/bin/env bash
# tests/vm/retry.sh - lib.sh's vm_run, the one way the vm tests start a
# guest, against a stand-in for run-in-numa-vm (no QEMU needed): a run the
# tool ended at its --timeout runs once more with twice the timeout and the
# log says so; a guest that failed is not run again; a second timeout is
# the test's failure.
#
# The stand-in (in a temporary $NP_SHARED) appends the --timeout it was
# given to a file and answers what the next line of a script says:
# "timeout" (exit 124 with the tool's own message), "fail" (exit 1, as a
# guest command that failed) or "ok" (exit 0, printing the guest output).
#
# Prints "ok - ..." / "not ok - ..." per check and "N passed, N failed".
set -uo pipefail
fake=$(mktemp -d "${TMPDIR:-/tmp}/np-vm-retry.XXXXXX")
trap 'rm -rf "$fake"' EXIT
mkdir -p "$fake/tools/numa-vm"
cat >"$fake/tools/numa-vm/run-in-numa-vm" <<'EOF'
#!/usr/bin/env bash
dir=$(dirname "$0")
t=300
while [ $# -gt 0 ] && [ "$1" != -- ]; do
  [ "$1" = --timeout ] && t=$2
  shift
done
echo "$t" >>"$dir/calls"
n=$(wc -l <"$dir/calls")
case $(sed -n "${n}p" "$dir/script") in
  timeout) echo "run-in-numa-vm: timeout after ${t}s; last qemu and console lines:" >&2; exit 124 ;;
  fail) echo "guest: the command failed" >&2; exit 1 ;;
  *) echo "@@@NP out guest"; exit 0 ;;
esac
EOF
chmod +x "$fake/tools/numa-vm/run-in-numa-vm"
NP_SHARED=$fake
. "$(dirname "$0")/lib.sh"
passed=0 failed=0
check() {  # check WHAT STATUS: a check that passed when STATUS is 0
  if [ "$2" -eq 0 ]; then echo "ok - $1"; passed=$((passed + 1))
  else echo "not ok - $1"; failed=$((failed + 1)); fi
}

# attempt SCRIPT...: vm_run with --timeout 40 as the stand-in's runs say; sets rc, calls, log.
attempt() {
  printf '%s\n' "$@" >"$fake/tools/numa-vm/script"
  rm -f "$fake/tools/numa-vm/calls"
  log=$(vm_run "$fake/out" "$fake/err" --nodes 2 --timeout 40 -- sh -c 'guest --timeout 9')
  rc=$?
  calls=$(paste -sd' ' "$fake/tools/numa-vm/calls")
}

attempt timeout ok
[ "$calls" = "40 80" ]
check "a boot that timed out runs once more, with twice the timeout ($calls)" $?
[ $rc -eq 0 ] && grep -q "@@@NP out guest" "$fake/out"
check "and then answers the second run's status and output" $?
grep -q "timed out after 40 s; retrying once with --timeout 80" <<<"$log"
check "the log says it retried: $(head -n1 <<<"$log")" $?

attempt fail ok
[ "$calls" = 40 ] && [ $rc -eq 1 ]
check "a guest that failed is not run again ($calls, exit $rc)" $?

attempt timeout timeout ok
[ "$calls" = "40 80" ] && [ $rc -eq 124 ]
check "a second timeout is a failure, not a third run ($calls, exit $rc)" $?

attempt ok
[ "$calls" = 40 ] && [ $rc -eq 0 ]
check "a boot in time runs once, its --timeout as given ($calls)" $?

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
