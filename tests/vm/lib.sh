#!/usr/bin/env bash
# tests/vm/lib.sh - what the vm tests (agent.sh, runtime.sh, topology.sh)
# share, sourced by each: where the tool, the shared tree and numa-vm are;
# the checks that skip a test (exit 77) on a machine without QEMU, a
# kernel, cpio, python or a build with hwloc; the files a guest gets (the
# tool at /np/bin, libnumaplace.so.0 at /np/lib, where its RUNPATH points,
# its modules at /np/lib/numaplace, where a library outside its build tree
# looks: lib/module/module.h); the guest shell's run(), whose sections
# "@@@NP out|err|rc NAME" the check-*.py scripts read; and one boot.
# Not a test itself: tests/vm/meson.build leaves it out.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=${NP_SRC:-$(cd "$here/../.." && pwd)}
shared=${NP_SHARED:-$src/../shared}
np=${NUMAPLACE:-${NP_BUILD:-$src/build}/cli/numaplace}
vm=$shared/tools/numa-vm/run-in-numa-vm
py=/usr/bin/python3

skip() { echo "skipped: $*"; exit 77; }

# Options every boot gets.  no_timer_check: at boot Linux checks that the
# IO-APIC timer ticks, allowing it ~40 ms (its delay loop is preset from
# the host's clock); a TCG guest on a loaded host misses that, and the
# kernel panics "IO-APIC + timer doesn't work!" (vm-topology, load 23).
# The check is for broken real boards; QEMU's timer works.
# cryptomgr.notests: the kernel's crypto self-tests at boot, which once
# locked a TCG vCPU for the whole 300 s boot limit ("soft lockup - CPU#3
# stuck", cryptomgr_test; vm-topology in a clean CI run, load ~2); they
# test the kernel, not numaplace.
vm_opts=(--append no_timer_check --append cryptomgr.notests)

# vm_need [cc]: skip unless a guest can boot here (and, with cc, a static
# helper can be built); fail unless the tool is built.
vm_need() {
  [ -x "$vm" ] || skip "no numa-vm tool at $vm"
  command -v "${NUMA_VM_QEMU:-qemu-system-x86_64}" >/dev/null || skip "qemu not installed"
  [ -n "${NUMA_VM_KERNEL:-}" ] || compgen -G '/boot/vmlinuz-*' >/dev/null || skip "no kernel in /boot"
  command -v cpio >/dev/null || skip "cpio not installed"
  [ "${1-}" != cc ] || command -v cc >/dev/null || skip "no C compiler for the guest helper"
  [ -x "$py" ] || skip "no $py"
  case " ${NP_FEATURES-hwloc} " in *" hwloc "*) ;; *) skip "needs hwloc (this build has none)" ;; esac
  [ -x "$np" ] || { echo "not ok - numaplace is built at $np"; echo "0 passed, 1 failed"; exit 1; }
}

# vm_work NAME: a temporary folder $work, removed on exit.
vm_work() {
  work=$(mktemp -d "${TMPDIR:-/tmp}/np-vm-$1.XXXXXX")
  trap 'rm -rf "$work"' EXIT
}

# vm_worker: the guest's test process and timer (runtime-worker.c, static) in $work.
vm_worker() {
  cc -O2 -static -pthread -o "$work/runtime-worker" "$here/runtime-worker.c" ||
    skip "cannot build a static helper (libc6-dev)"
}

# vm_add_numaplace [serve]: the tool, its library and the library's modules
# (and the service plugin, built in service/) onto the array adds, as
# run-in-numa-vm's --add options; $lib is the library on the host ("" when
# ldd names none).  run-in-numa-vm copies the libraries ldd lists for each.
vm_add_numaplace() {
  local m serve_so
  adds+=(--add "$np=/np/bin/numaplace")
  lib=$(ldd "$np" 2>/dev/null | awk '$1 ~ /^libnumaplace\.so/ { print $3; exit }')
  [ -n "$lib" ] && [ -f "$lib" ] || return 0
  adds+=(--add "$lib=/np/lib/libnumaplace.so.0")
  for m in "$(dirname "$lib")"/numaplace-*.so; do
    [ -f "$m" ] && adds+=(--add "$m=/np/lib/numaplace/$(basename "$m")")
  done
  serve_so=$(dirname "$(dirname "$np")")/service/numaplace-serve.so
  [ "${1-}" != serve ] || [ ! -f "$serve_so" ] ||
    adds+=(--add "$serve_so=/np/lib/numaplace/numaplace-serve.so")
}

# The guest shell's (busybox sh) run NAME CMD...: CMD's output, errors and
# exit code as the sections the check scripts read.  And its waits, for an
# event rather than for a time: a TCG guest on a loaded host runs 5 to 10
# times slower than on a quiet one (a boot: 5 s quiet, 25 s at load 34),
# so a fixed sleep that was enough on a quiet machine was not under load.
# Each gives up after $WAIT_S seconds (a guard against a hang, not a time
# the event must take; the boot's --timeout is the last guard):
#   wait_for FILE TEXT     until FILE contains TEXT
#   wait_ran_on PID CPU..  until every thread of PID last ran on one of the CPUs
#                          (its affinity was set there; it has run since)
# shellcheck disable=SC2016 # expanded by the guest shell
guest_run='
WAIT_S=120
run() {
  name=$1; shift
  "$@" >/tmp/out 2>/tmp/err; rc=$?
  echo "@@@NP out $name"; cat /tmp/out; echo
  echo "@@@NP err $name"; cat /tmp/err
  echo "@@@NP rc $name $rc"
}
wait_for() {
  i=0; while ! grep -q "$2" "$1" 2>/dev/null && [ $i -lt $((WAIT_S * 20)) ]; do usleep 50000; i=$((i+1)); done
}
ran_on() {
  for t in /proc/$1/task/*; do
    c=$(awk "{ print \$39 }" $t/stat 2>/dev/null); k=1
    for w in $2; do [ "$c" = "$w" ] && k=0; done
    [ $k = 0 ] || return 1
  done
}
wait_ran_on() {
  p=$1; shift; i=0
  while ! ran_on $p "$*" && [ $i -lt $((WAIT_S * 20)) ]; do usleep 50000; i=$((i+1)); done
}
'

# vm_run OUT ERR RUN-IN-NUMA-VM-ARGS...: one run of the tool, its output in
# OUT and its errors in ERR; its exit status.  A run the tool ended at its
# --timeout (exit 124 and its "timeout after" line: a TCG guest on a loaded
# host was still booting or running) runs once more with twice the
# timeout, and the log says so.  Nothing else runs again: a guest that
# failed, or whose output the checks then refuse, is a failure.
vm_run() {
  local out=$1 err=$2 t=300 rc a=()
  shift 2
  while [ $# -gt 0 ] && [ "$1" != -- ]; do  # the caller's --timeout, to double
    if [ "$1" = --timeout ]; then t=$2; shift 2; else a+=("$1"); shift; fi
  done
  "$vm" --timeout "$t" "${vm_opts[@]}" "${a[@]}" "$@" >"$out" 2>"$err"
  rc=$?
  if [ $rc -eq 124 ] && grep -q "timeout after" "$err"; then
    echo "# the guest timed out after $t s; retrying once with --timeout $((t * 2)):"
    sed 's/^/#   /' "$err" | tail -n 5
    "$vm" --timeout "$((t * 2))" "${vm_opts[@]}" "${a[@]}" "$@" >"$out" 2>"$err"
    rc=$?
  fi
  return $rc
}

# vm_boot RUN-IN-NUMA-VM-OPTIONS...: one guest running $guest, its output
# in $work/guest.out; a guest that did not run is one failed check, exit 1.
vm_boot() {
  local rc t0=$SECONDS
  vm_run "$work/guest.out" "$work/guest.err" "$@" "${adds[@]}" -- sh -c "$guest"
  rc=$?
  echo "# boot and guest script: $((SECONDS - t0)) s"
  if [ $rc -ne 0 ]; then
    echo "not ok - the guest script ran (run-in-numa-vm exit $rc)"
    sed 's/^/#   /' "$work/guest.err" | tail -n 20
    echo "0 passed, 1 failed"
    exit 1
  fi
}
