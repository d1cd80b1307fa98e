#!/usr/bin/env bash
# tests/vm/runtime.sh - observe, apply and balance on a real multi-node
# Linux kernel: boots ONE throw-away QEMU guest with
# $NP_SHARED/tools/numa-vm/run-in-numa-vm (4 nodes of 2 CPUs, an asymmetric
# distance matrix whose nearest node to node 1 is node 3) and checks, on the
# host (check-runtime.py), that:
#   - a process placed on node 1 has its pages there (numaplace's JSON and
#     the raw numa_maps agree); after `apply --nodes 2 --migrate` they are
#     on node 2 and its threads may run only on node 2's CPUs; a
#     rate-limited move keeps to its rate; a dry run changes nothing;
#   - bad input (no such pid, no such node, no permission) exits 2 and
#     changes nothing;
#   - threads forced off their soft-affinity node are pinned back by
#     `balance --once --pid PID` (its JSON log: rescue-pin from node 3 to
#     node 1, and restore-soft seeing them on node 1; where they run after
#     that is the scheduler's choice), with a wide kernel affinity again,
#     while another guest's, not named, are left where they were; the JSON
#     log ends with its summary record;
#   - with node 1 full, memory of a process preferring node 1 falls back to
#     node 3, the nearest by the matrix (not by id); the balancer then makes
#     its soft affinity follow; once room appears on node 1, another one's
#     memory is moved home;
# and it measures the cost of one observe and page-migration throughput
# side by side with numactl's migratepages on the same process.
#
# The tool goes to /np/bin with libnumaplace.so.0 in /np/lib and its
# modules in /np/lib/numaplace (as in topology.sh); run-in-numa-vm copies
# libnuma and the other libraries ldd lists.  runtime-worker.c (static) is the guest's test process and timer.
#
# Prints "ok - ..." / "not ok - ..." per check, "# measure ..." lines and
# "N passed, N failed".  Exit: 0 all passed, 1 a check failed, 77 skipped.
. "$(dirname "$0")/lib.sh"
vm_need cc
mp=$(command -v migratepages) || skip "numactl's migratepages not installed"
"$np" help apply >/dev/null 2>&1 || skip "numaplace built without the runtime verbs"

vm_work runtime
vm_worker
adds=(--add "$work/runtime-worker=/np/bin/rw" --add "$mp=/np/bin/migratepages")
vm_add_numaplace

dist="10,30,40,25, 30,10,40,20, 40,40,10,30, 25,20,30,10"

# The guest side (busybox sh).  Sections: "@@@NP out|err|rc NAME".
# shellcheck disable=SC2016 # expanded by the guest shell
guest=$guest_run'
export LD_LIBRARY_PATH=/np/lib PATH=/np/bin:$PATH
tids() { ls /proc/$1/task; }
# rescue_ms: a pinned thread must run once in that time to be back home
# (a starved TCG vCPU may not run for 300 ms).  overload: relieving a busy
# node is not under test, and a starved guest looks busy: one --once
# round (24 steps) took 70 s there, and late in it moved w7 off node 1
# again ("node 1 load 1.50 > 1.20") after it had moved its memory home
echo "{\"params\": {\"stuck_ms\": 800, \"rescue_ms\": 1000, \"overload\": 1000}}" > /tmp/pol.json

# 1-4: placed on node 1, moved to node 2, rate-limited to node 0, dry run
numaplace apply --nodes 1 -- rw run 48 2 > /tmp/w1 & W1=$!; wait_for /tmp/w1 ready
run w1-observe numaplace observe --pid $W1 --format json
run w1-maps cat /proc/$W1/numa_maps
run w1-apply2 numaplace apply --pid $W1 --nodes 2 --migrate --format json
run w1-observe2 numaplace observe --pid $W1 --format json
run w1-maps2 cat /proc/$W1/numa_maps
run w1-apply0 rw time numaplace apply --pid $W1 --nodes 0 --migrate --rate 40 --format json
run w1-observe0 numaplace observe --pid $W1 --format json
run w1-dry numaplace apply --pid $W1 --nodes 3 --migrate --dry-run

# 5: bad input (after the dry run: the observe below checks both)
run bad-pid numaplace apply --pid 999999 --nodes 1 --migrate
run bad-node numaplace apply --pid $W1 --nodes 9
run noperm rw as 1000 numaplace apply --pid $W1 --nodes 3 --migrate
run after-noperm numaplace observe --pid $W1 --format json

# 6: the cost of one observe: a whole run, and one refresh of --watch
for i in 1 2 3; do run cost-run-$i rw time numaplace observe --pid $W1 --format json; done
run cost-watch rw time numaplace observe --pid $W1 --format json --watch --interval 0.01 --count 50
kill $W1

# 7: migration throughput, numaplace and migratepages in turn on one process
numaplace apply --nodes 0 -- rw run 96 0 > /tmp/w4 & W4=$!; wait_for /tmp/w4 ready
for i in 1 2 3; do
  run mig-np-$i rw time numaplace apply --pid $W4 --nodes 1 --migrate --format json
  run mig-np-maps-$i cat /proc/$W4/numa_maps
  run mig-mp-$i rw time migratepages $W4 1 0
  run mig-mp-maps-$i cat /proc/$W4/numa_maps
done
kill $W4

# 8: threads forced off their soft home (node 1) are back after balance --once --pid;
#    another guest of the same run directory, forced off too, is left alone.
#    One thread: the balancer rescues a vCPU alone only into a node with a
#    CPU free, and node 1 has two; with two threads both came home only
#    when nothing else at all was runnable on node 1 when it looked, which
#    a starved guest rarely is ("home node 1 load 0.50": the second stayed)
numaplace apply --nodes 1 --affinity soft --mem-policy preferred --migrate --run-dir /tmp/runA -- rw run 8 0 > /tmp/w5 & W5=$!; wait_for /tmp/w5 ready
# (an idle process: no load of its own on the CPUs it is forced to)
numaplace apply --nodes 1 --affinity soft --run-dir /tmp/runA -- sleep 3600 & W5B=$!
i=0; while [ "$(cat /proc/$W5B/comm)" != sleep ] && [ $i -lt $((WAIT_S * 20)) ]; do usleep 50000; i=$((i+1)); done
for t in $(tids $W5) $(tids $W5B); do taskset -p -c 6,7 $t >/dev/null; done
# until W5 has run on node 3 (the idle W5B need not run)
wait_ran_on $W5 6 7
run w5-before numaplace observe --pid $W5 --format json
run w5-balance numaplace balance --once --pid $W5 --run-dir /tmp/runA --policy /tmp/pol.json --format json
run w5-after numaplace observe --pid $W5 --format json
run w5b-after numaplace observe --pid $W5B --format json
run w5-pids echo "$W5 $W5B"
kill $W5 $W5B

# 9: node 1 full: fallback to the nearest node, follow memory, migrate home
#    (w6 asks 96 MiB where the hog left about 24: most of it must fall back,
#    whatever the kernel frees meanwhile)
free=$(awk "/MemFree/ { print \$4 }" /sys/devices/system/node/node1/meminfo)
numaplace apply --nodes 1 --mem-policy strict -- rw run $((free / 1024 - 24)) 0 > /tmp/hog & HOG=$!; wait_for /tmp/hog ready
run hog-observe numaplace observe --pid $HOG --format json
numaplace apply --nodes 1 --mem-policy preferred --affinity soft --migrate --run-dir /tmp/runB -- rw run 96 1 > /tmp/w6 & W6=$!; wait_for /tmp/w6 ready
numaplace apply --nodes 1 --mem-policy preferred --affinity soft --migrate --run-dir /tmp/runC -- rw run 48 1 > /tmp/w7 & W7=$!; wait_for /tmp/w7 ready
run w6-observe numaplace observe --pid $W6 --format json --diagnose --run-dir /tmp/runB --window 0
run w7-observe numaplace observe --pid $W7 --format json
run w6-balance numaplace balance --once --run-dir /tmp/runB --policy /tmp/pol.json --format json
run w6-pref cat /tmp/runB/pid-$W6.json
kill $HOG; wait $HOG  # its memory is freed when it has exited
run w7-balance numaplace balance --once --run-dir /tmp/runC --policy /tmp/pol.json --format json
run w7-observe2 numaplace observe --pid $W7 --format json
kill $W6 $W7
'

vm_boot --timeout 600 --nodes 4 --cpus-per-node 2 --mem-per-node 320 --distances "$dist"
"$py" "$here/check-runtime.py" --distances "$dist" <"$work/guest.out"
