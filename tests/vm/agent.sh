#!/usr/bin/env bash
# tests/vm/agent.sh - the host agent on a real multi-node kernel: boots ONE
# throw-away QEMU guest ($NP_SHARED/tools/numa-vm/run-in-numa-vm, 4 nodes
# of 2 CPUs) that runs `numaplace serve` on a unix socket and
# `numaplace agent` beside it, and checks on the host (check-agent.py):
#   - a placement's process, its memory placed on the plan's node, is
#     reported with that memory on that node (as numa_maps says) and no
#     drift;
#   - after migratepages moved its memory to another node, the service
#     flags drift: the moved MiB as memory elsewhere;
#   - after its threads were moved to that node's CPUs, vCPUs outside too;
#   - the agent's loop (--interval with --count) reports every round.
#
# The tool, libnumaplace.so.0 and its modules go to /np (as runtime.sh
# does); curl (the test's HTTP client) and migratepages are copied in,
# run-in-numa-vm copies the libraries ldd lists.
# Exit: 0 all passed, 1 a check failed, 77 skipped.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
src=${NP_SRC:-$(cd "$here/../.." && pwd)}
shared=${NP_SHARED:-$src/../shared}
np=${NUMAPLACE:-${NP_BUILD:-$src/build}/cli/numaplace}
vm=$shared/tools/numa-vm/run-in-numa-vm
py=/usr/bin/python3

skip() { echo "skipped: $*"; exit 77; }
[ -x "$vm" ] || skip "no numa-vm tool at $vm"
command -v "${NUMA_VM_QEMU:-qemu-system-x86_64}" >/dev/null || skip "qemu not installed"
[ -n "${NUMA_VM_KERNEL:-}" ] || compgen -G '/boot/vmlinuz-*' >/dev/null || skip "no kernel in /boot"
command -v cpio >/dev/null || skip "cpio not installed"
command -v cc >/dev/null || skip "no C compiler for the guest helper"
[ -x "$py" ] || skip "no $py"
mp=$(command -v migratepages) || skip "numactl's migratepages not installed"
curl=$(command -v curl) || skip "curl not installed (the guest's HTTP client)"
[ -x "$np" ] || { echo "not ok - numaplace is built at $np"; echo "0 passed, 1 failed"; exit 1; }
for v in agent serve apply; do
  "$np" help "$v" >/dev/null 2>&1 || skip "numaplace built without '$v'"
done
case " ${NP_FEATURES-hwloc sqlite} " in *" hwloc "*) ;; *) skip "needs hwloc (this build has none)" ;; esac

work=$(mktemp -d "${TMPDIR:-/tmp}/np-vm-agent.XXXXXX")
trap 'rm -rf "$work"' EXIT

cc -O2 -static -pthread -o "$work/runtime-worker" "$here/runtime-worker.c" ||
  skip "cannot build a static helper (libc6-dev)"

adds=(--add "$np=/np/bin/numaplace" --add "$work/runtime-worker=/np/bin/rw"
  --add "$mp=/np/bin/migratepages" --add "$curl=/np/bin/curl")
lib=$(ldd "$np" 2>/dev/null | awk '$1 ~ /^libnumaplace\.so/ { print $3; exit }')
[ -n "$lib" ] && [ -f "$lib" ] && adds+=(--add "$lib=/np/lib/libnumaplace.so.0")
for m in "$(dirname "${lib:-/nonexistent/x}")"/numaplace-*.so; do
  [ -f "$m" ] && adds+=(--add "$m=/np/lib/numaplace/$(basename "$m")")
done
# serve is a plugin of its own, built beside its sources (service/).
serve_so=$(dirname "$(dirname "$np")")/service/numaplace-serve.so
[ -f "$serve_so" ] && adds+=(--add "$serve_so=/np/lib/numaplace/numaplace-serve.so")

# The guest side (busybox sh).  Sections: "@@@NP out|err|rc NAME".
# shellcheck disable=SC2016 # expanded by the guest shell
guest='
export LD_LIBRARY_PATH=/np/lib PATH=/np/bin:$PATH
run() {
  name=$1; shift
  "$@" >/tmp/out 2>/tmp/err; rc=$?
  echo "@@@NP out $name"; cat /tmp/out; echo
  echo "@@@NP err $name"; cat /tmp/err
  echo "@@@NP rc $name $rc"
}
ready() { i=0; while ! grep -q "$2" "$1" 2>/dev/null && [ $i -lt 300 ]; do usleep 50000; i=$((i+1)); done; }
api() { curl -s --max-time 20 --unix-socket /tmp/s.sock -H "Content-Type: application/json" "$@"; }
agent() { numaplace agent --server unix:/tmp/s.sock --name numa-vm "$@"; }

numaplace serve --store sqlite:/tmp/f.db --listen unix:/tmp/s.sock --log /tmp/serve.log &
SV=$!; ready /tmp/serve.log "serving on"
run register agent --once
run post api -X POST http://np/v1/placements -d "{\"id\": \"vm-a\", \"host\": \"numa-vm\", \"flavor\": {\"vcpus\": 2, \"memory_mb\": 64, \"extra_specs\": {\"hw:numa_nodes\": \"1\"}}}"
N=$(sed -n "s/.*\"nodeset\":\[\([0-9]*\)\].*/\1/p" /tmp/out)
O=$(( (N + 2) % 4 ))
echo "@@@NP out nodes"; echo "$N $O"; echo "@@@NP rc nodes 0"

# 1: memory and threads where the plan put them
numaplace apply --nodes $N -- rw run 48 2 > /tmp/w1 & W1=$!; ready /tmp/w1 ready
run a1 agent --once --map vm-a=$W1
run g1 api http://np/v1/placements/vm-a
run m1 cat /proc/$W1/numa_maps

# 2: memory moved to another node: drift
run move migratepages $W1 $N $O
run a2 agent --once --map vm-a=$W1
run g2 api http://np/v1/placements/vm-a
run m2 cat /proc/$W1/numa_maps

# 3: threads moved too: vCPUs outside
for t in $(ls /proc/$W1/task); do taskset -p -c $((2 * O)),$((2 * O + 1)) $t >/dev/null; done
usleep 300000
run a3 agent --once --map vm-a=$W1
run g3 api http://np/v1/placements/vm-a

# 4: the loop
run loop agent --interval 0.2 --count 3 --map vm-a=$W1
kill $W1 $SV
'

t0=$SECONDS
"$vm" --timeout 240 --nodes 4 --cpus-per-node 2 --mem-per-node 320 \
  "${adds[@]}" -- sh -c "$guest" >"$work/guest.out" 2>"$work/guest.err"
rc=$?
echo "# boot and guest script: $((SECONDS - t0)) s"
if [ $rc -ne 0 ]; then
  echo "not ok - the guest script ran (run-in-numa-vm exit $rc)"
  sed 's/^/#   /' "$work/guest.err" | tail -n 20
  echo "0 passed, 1 failed"
  exit 1
fi
"$py" "$here/check-agent.py" <"$work/guest.out"
