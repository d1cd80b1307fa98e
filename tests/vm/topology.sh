#!/usr/bin/env bash
# tests/vm/topology.sh - `numaplace topology` on real multi-node Linux
# kernels: boots one throw-away QEMU guest per NUMA shape with
# $NP_SHARED/tools/numa-vm/run-in-numa-vm and checks, on the host
# (check-topology.py), that the JSON numaplace prints there is exactly the
# machine QEMU was told to build: node ids, CPUs per node, sockets and
# cores, the distance matrix, memory per node, huge pages, the node of a
# PCI device.
#
# Design: one boot per shape (a boot costs ~3 s under TCG), every command
# of a shape batched into one guest shell script whose output sections are
# marked "@@@NP out|err|rc NAME".  The tool is dynamically linked: it goes
# to /np/bin and libnumaplace.so.0 from the build dir to /np/lib, which is
# where its RUNPATH ($ORIGIN/../lib) points; LD_LIBRARY_PATH says so again
# and the guest's ld.so confirms it.  The library's modules (hwloc: the
# local and sysfs sources) go to /np/lib/numaplace/, where a library that
# is not in its build tree looks (lib/module/module.h).  run-in-numa-vm
# copies the other libraries ldd lists, the modules' too; hwloc plugins
# loaded with dlopen are not copied.
#
# Prints "ok - ..." / "not ok - ..." per check and "N passed, N failed".
# Exit: 0 all passed, 1 a check failed, 77 skipped (no qemu, kernel, numa-vm).
. "$(dirname "$0")/lib.sh"
vm_need
vm_work topology
passed=0 failed=0

report() {  # report LINE...: print check lines and count them
  local line
  for line in "$@"; do
    echo "$line"
    case $line in
      'ok - '*) passed=$((passed + 1)) ;;
      'not ok - '*) failed=$((failed + 1)) ;;
    esac
  done
}

# The tool, and its own library and modules from the host.
adds=() libarg=()
vm_add_numaplace
if [ -n "$lib" ]; then
  if [ -f "$lib" ]; then libarg=(--shared-lib)
  else report "not ok - libnumaplace.so.0 of $np is found on the host (ldd: $lib)"; fi
fi

# The guest side (busybox sh).  $1: huge pages to reserve per node, "a,b,..".
# shellcheck disable=SC2016 # expanded by the guest shell
guest=$guest_run'
export LD_LIBRARY_PATH=/np/lib
np=/np/bin/numaplace
i=0
for n in $(echo "$1" | tr , " "); do
  echo "$n" > /sys/devices/system/node/node$i/hugepages/hugepages-2048kB/nr_hugepages
  i=$((i + 1))
done
run ldso /lib64/ld-linux-x86-64.so.2 --list $np
run json $np topology --format json
run sysfs $np topology --sysfs / --format json
run text $np topology
run bad $np topology --sysfs /nonexistent
'

# shape LABEL HUGEPAGES DEVICE RUN-IN-NUMA-VM-OPTIONS...: boot once, check
# all.  HUGEPAGES: 2 MiB pages to reserve per node ("" none); DEVICE: a PCI
# device the options add, "address,vendor,device,class,node" ("" none).
shape() {
  local label=$1 pages=$2 dev=$3 nodes=4 cpus=2 mem=256 dist="" mo=() rc t0 a
  shift 3
  a=("$@")
  while [ $# -gt 0 ]; do
    case $1 in
      --nodes) nodes=$2; shift ;;
      --cpus-per-node) cpus=$2; shift ;;
      --mem-per-node) mem=$2; shift ;;
      --distances) dist=$2; shift ;;
      --qemu-arg) shift ;;
      --memory-only-node) mo=(--memory-only-node) ;;
    esac
    shift
  done
  t0=$SECONDS
  vm_run "$work/$label.out" "$work/$label.err" --timeout 300 "${adds[@]}" "${a[@]}" \
    -- sh -c "$guest" guest "$pages"
  rc=$?
  if [ $rc -ne 0 ]; then
    report "not ok - $label: the guest script ran (run-in-numa-vm exit $rc)"
    sed 's/^/#   /' "$work/$label.err" | tail -n 20
    return
  fi
  "$py" "$here/check-topology.py" --label "$label" --nodes "$nodes" --cpus "$cpus" \
    --mem "$mem" --distances "$dist" --hugepages "$pages" --device "$dev" \
    "${mo[@]}" "${libarg[@]}" \
    <"$work/$label.out" >"$work/$label.checks"
  rc=$?
  mapfile -t lines <"$work/$label.checks"
  report "${lines[@]}"
  [ $rc -eq 0 ] || report "not ok - $label: check-topology.py failed (exit $rc)"
  echo "# $label: $((SECONDS - t0)) s"
}

# (a) asymmetric distances, huge pages reserved per node, and a NIC behind
# a PCIe expander bridge whose ACPI proximity is node 2
shape "4x2 asymmetric" 0,2,4,6 0000:81:00.0,0x1af4,0x1041,0x020000,2 \
  --nodes 4 --cpus-per-node 2 \
  --distances "10,20,30,40, 25,10,20,30, 35,25,10,20, 45,35,25,10" \
  --qemu-arg -device --qemu-arg pxb-pcie,id=pxb1,bus_nr=128,numa_node=2,bus=pcie.0 \
  --qemu-arg -device --qemu-arg pcie-root-port,id=rp1,bus=pxb1,chassis=1 \
  --qemu-arg -device --qemu-arg virtio-net-pci,bus=rp1,mac=52:54:00:12:34:56
# (b) three CPU nodes and a memory-only node, each node a different size
shape "3+1 memory-only" 1,0,0,3 "" --nodes 4 --cpus-per-node 2 --memory-only-node \
  --mem-per-node 256,320,384,512 \
  --distances "10,16,22,28, 16,10,16,22, 22,16,10,16, 28,22,16,10"
# (c) eight single-CPU nodes (the default ring distances, written out)
shape "8x1 ring" "" "" --nodes 8 --cpus-per-node 1 --mem-per-node 128 \
  --distances "10,20,30,40,50,40,30,20 20,10,20,30,40,50,40,30
    30,20,10,20,30,40,50,40 40,30,20,10,20,30,40,50 50,40,30,20,10,20,30,40
    40,50,40,30,20,10,20,30 30,40,50,40,30,20,10,20 20,30,40,50,40,30,20,10"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
