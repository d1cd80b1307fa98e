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
. "$(dirname "$0")/lib.sh"
vm_need cc
mp=$(command -v migratepages) || skip "numactl's migratepages not installed"
curl=$(command -v curl) || skip "curl not installed (the guest's HTTP client)"
for v in agent serve apply; do
  "$np" help "$v" >/dev/null 2>&1 || skip "numaplace built without '$v'"
done

vm_work agent
vm_worker
adds=(--add "$work/runtime-worker=/np/bin/rw" --add "$mp=/np/bin/migratepages"
  --add "$curl=/np/bin/curl")
vm_add_numaplace serve

# The guest side (busybox sh).  Sections: "@@@NP out|err|rc NAME".
# shellcheck disable=SC2016 # expanded by the guest shell
guest=$guest_run'
export LD_LIBRARY_PATH=/np/lib PATH=/np/bin:$PATH
api() { curl -s --max-time 120 --unix-socket /tmp/s.sock -H "Content-Type: application/json" "$@"; }
agent() { numaplace agent --server unix:/tmp/s.sock --name numa-vm "$@"; }

numaplace serve --store sqlite:/tmp/f.db --listen unix:/tmp/s.sock --log /tmp/serve.log &
SV=$!; wait_for /tmp/serve.log "serving on"
run register agent --once
run post api -X POST http://np/v1/placements -d "{\"id\": \"vm-a\", \"host\": \"numa-vm\", \"flavor\": {\"vcpus\": 2, \"memory_mb\": 64, \"extra_specs\": {\"hw:numa_nodes\": \"1\"}}}"
N=$(sed -n "s/.*\"nodeset\":\[\([0-9]*\)\].*/\1/p" /tmp/out)
O=$(( (N + 2) % 4 ))
echo "@@@NP out nodes"; echo "$N $O"; echo "@@@NP rc nodes 0"

# 1: memory and threads where the plan put them
numaplace apply --nodes $N -- rw run 48 2 > /tmp/w1 & W1=$!; wait_for /tmp/w1 ready
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
wait_ran_on $W1 $((2 * O)) $((2 * O + 1))
run a3 agent --once --map vm-a=$W1
run g3 api http://np/v1/placements/vm-a

# 4: the loop
run loop agent --interval 0.2 --count 3 --map vm-a=$W1
kill $W1 $SV
'

vm_boot --timeout 600 --nodes 4 --cpus-per-node 2 --mem-per-node 320
"$py" "$here/check-agent.py" <"$work/guest.out"
