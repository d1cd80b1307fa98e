#!/usr/bin/env bash
# tests/cli/place-trust.sh - what a tester saw on real documents and plain
# requests, end to end on the 8-node fixture 64amd64-4s2n4ca2co (8 nodes
# of 8 CPUs, node N has CPUs 8N..8N+7, node 5 has 8 GiB, the others 16):
# guests without a NUMA request are placed whenever the host has room,
# every output carries out the plan (vCPU, emulator and memory nodes
# agree) or refuses, exit 1 for no fit in every format with the reason on
# stderr, reasons with numbers, the memory basis, free memory unknown.
. "$(dirname "$0")/lib.sh"

if have hwloc; then
  root=$(fixture 64amd64-4s2n4ca2co)
  host=(--sysfs "$root")
else
  # the same machine, saved (tests/cli/place.sh checks the two agree)
  host=(--host "$NP_SRC/tests/data/json/64amd64-4s2n4ca2co.json")
fi

# 1. Guests without a NUMA request larger than a node: placed, never refused.
run place "${host[@]}" --flavor 'vcpus=12,ram=4096' --format json
expect_rc 0 "12 vCPUs, 4 GiB on 8-CPU nodes fit"
json_ok "sum(c['memory_mb'] for c in d['cells']) == 4096 and sum(len(c['float_vcpus']) for c in d['cells']) == 12" "memory and vCPUs in full"
json_ok "all({p // 8 for p in c['cpuset']} == set(d['nodeset']) for c in d['cells'])" "every vCPU floats over exactly the memory's nodes"
run place "${host[@]}" --flavor 'vcpus=4,ram=40000' --format json
expect_rc 0 "4 vCPUs, 40000 MiB fit"
json_ok "len(d['nodeset']) == 3 and all({p // 8 for p in c['cpuset']} == set(d['nodeset']) for c in d['cells'] if c['float_vcpus'])" "vCPU and memory nodes agree"
nodes=$(python3 -c "import json,sys; print(','.join(map(str, json.load(open(sys.argv[1]))['nodeset'])))" "$TMP/out")

# 2. Every writer carries that plan out: xl's memory follows the vCPUs' nodes.
run place "${host[@]}" --flavor 'vcpus=4,ram=40000' --format xl
expect_rc 0 "xl"
xlnodes=$(sed -n 's/^cpus="\(.*\)"$/\1/p' "$TMP/out" | python3 -c "
import sys
s = set()
for part in sys.stdin.read().strip().split(','):
    a, _, b = part.partition('-')
    s |= {c // 8 for c in range(int(a), int(b or a) + 1)}
print(','.join(map(str, sorted(s))))")
if [ -n "$xlnodes" ] && [ "$xlnodes" = "$nodes" ]; then ok "xl vCPUs on nodes $xlnodes = memory nodes"; else not_ok "xl vCPU nodes '$xlnodes' vs memory nodes '$nodes'"; fi
run place "${host[@]}" --flavor 'vcpus=4,ram=40000' --format libvirt
expect_rc 0 "libvirt"
emu=$(sed -n "s/.*<emulatorpin cpuset='\([^']*\)'.*/\1/p" "$TMP/out")
pin=$(sed -n "s/.*<vcpupin vcpu='0' cpuset='\([^']*\)'.*/\1/p" "$TMP/out")
if [ -n "$emu" ] && [ "$emu" = "$pin" ]; then ok "emulator pinned with the vCPUs ($emu)"; else not_ok "emulatorpin '$emu', vcpupin '$pin'"; fi
run place "${host[@]}" --flavor 'vcpus=4,ram=40000'
expect_rc 0 "text"; expect_out "^    memory: [0-9]+ MiB on node [0-9]+, [0-9]+ MiB on node" "text shows memory per node"
run place "${host[@]}" --flavor 'vcpus=4,ram=40000' --format xl --mem-policy interleave
expect_rc 2 "xl cannot interleave"; expect_one_line_err "xl interleave"; expect_err "cannot interleave" "says why"

# 3. No fit: exit 1 in every format, the reason on stderr for the tool formats.
for f in libvirt xl numactl; do
  run place "${host[@]}" --flavor 'vcpus=4,ram=400000' --format "$f"
  expect_rc 1 "no fit as $f"
  [ -z "$out" ] && ok "$f: nothing on stdout" || not_ok "$f: wrote a configuration for no plan"
  expect_one_line_err "no fit as $f"
  expect_err "^numaplace: no placement fits this guest: memory falls short on the whole host: 400000 MiB asked, [0-9]+ MiB" "$f: the resource and the amounts"
done
run place "${host[@]}" --flavor 'vcpus=4,ram=400000' --format json
expect_rc 1 "no fit as json"; json_ok "d['fits'] is False" "json says fits false"; expect_err "memory falls short" "json: reason on stderr too"
run place "${host[@]}" --flavor 'vcpus=4,ram=400000'
expect_rc 1 "no fit as text"; expect_out "^no placement fits this guest: memory falls short" "text: the reason on the first line"
run place "${host[@]}" --flavor 'vcpus=80,ram=4096'
expect_rc 1 "80 vCPUs on 64 CPUs"; expect_out "80 vCPUs asked, 64 shared CPUs" "CPUs named, with numbers"

# 4. The summary names what fell short; require without SMT says so.
run place "${host[@]}" --flavor 'vcpus=12,ram=4096,hw:numa_nodes=1'
expect_rc 1 "one 12-vCPU cell"; expect_out "^no placement fits this guest: guest cell 0 fits on no node: short of shared CPUs on 8 of 8 nodes: 12 vCPUs asked, at most 8" "CPUs, not 'distinct nodes'"
run place "${host[@]}" --flavor 'vcpus=8,ram=4096,hw:cpu_policy=dedicated,hw:cpu_thread_policy=require' --explain
expect_rc 1 "require on a host without SMT"; expect_out "threads per core.*no SMT" "says the host has no SMT"
if grep -q "free SMT siblings" "$TMP/out"; then not_ok "still 'free SMT siblings'"; else ok "no 'free SMT siblings'"; fi

# 5. Every reason carries numbers; the search's figures only with --verbose.
run place "${host[@]}" --flavor 'vcpus=8,ram=8192,hw:numa_nodes=2' --explain
expect_rc 0 "explain"
bad=$(grep "^why not" "$TMP/out" | sed 's/^[^:]*: //' | grep -v '[0-9]' || true)
[ -z "$bad" ] && ok "every 'why not' line gives numbers" || not_ok "lines without numbers: $bad"
if grep -q "^search:" "$TMP/out"; then not_ok "search figures without --verbose"; else ok "no search figures without --verbose"; fi
run place "${host[@]}" --flavor 'vcpus=8,ram=8192,hw:numa_nodes=2' --verbose
expect_out "^search: optimal \(proven\) after [0-9]+ search steps?; [0-9]+ MiB of capacity stranded" "--verbose: figures with units"

# 6. An empty host of equal nodes (node 0 has 8 MiB less): node 0 first.
run place "${host[@]}" --flavor 'vcpus=4,ram=4096' --format json
json_ok "d['nodeset'] == [0]" "first guest on node 0"

# 7. The memory basis: total (Nova) by default here, free on request, free for xl.
run place "${host[@]}" --flavor 'vcpus=2,ram=15850,hw:numa_nodes=1' --format json
expect_rc 0 "15850 MiB fits one 16 GiB node on basis total"; json_ok "d['memory_basis'] == 'total'" "plan says total"
run place "${host[@]}" --flavor 'vcpus=2,ram=15850,hw:numa_nodes=1' --memory-basis free --explain
expect_rc 1 "not on basis free (at most 15849 MiB free)"
expect_out "15850 MiB asked, at most 15849 available" "the free memory, with numbers"
run place "${host[@]}" --flavor 'vcpus=2,ram=8000' --memory-basis free --explain
expect_rc 0 "basis free"; expect_out "^memory basis free: " "explain says which basis"
expect_out "memory strict on [0-9]+ \(basis free\)" "the summary line too"
if have libvirt; then
  run place --libvirt-xml "$NP_SRC/tests/data/libvirt/host-4cell.xml" --flavor 'vcpus=2,ram=1024' --memory-basis free
  expect_rc 2 "free without free memory"; expect_one_line_err "basis free on capabilities"; expect_err "does not report free memory" "says why"
fi
run place --xl "$NP_SRC/tests/data/xl/asym-4node.txt" --flavor 'vcpus=2,ram=20000' --format json
expect_rc 0 "xl host"; json_ok "d['memory_basis'] == 'free' and d['nodeset'] != [2]" "xl: basis free by default, node 2 (12000 MiB free) left out"
run place --xl "$NP_SRC/tests/data/xl/asym-4node.txt" --flavor 'vcpus=2,ram=20000' --memory-basis total --format json
json_ok "d['memory_basis'] == 'total'" "xl with --memory-basis total"
run place "${host[@]}" --flavor 'vcpus=1,ram=512' --memory-basis some
expect_rc 2 "unknown basis"; expect_err "total, free" "lists the bases"

# 8. Free memory a source does not report is unknown, not free = total.
if have libvirt; then
  run topology --libvirt-xml "$NP_SRC/tests/data/libvirt/host-4cell.xml"
  expect_rc 0 "capabilities"; expect_out "unknown / 32.0 GiB" "free memory unknown"; expect_out "unknown free" "host line too"
  run topology --libvirt-xml "$NP_SRC/tests/data/libvirt/host-4cell.xml" --format json
  json_ok "all('free' not in n['memory_mb'] for n in d['nodes'])" "JSON leaves free out"
fi
run topology "${host[@]}" --format json
json_ok "all('free' in n['memory_mb'] for n in d['nodes'])" "sysfs knows free memory"

# 9. A claim the format cannot carry claims nothing.
run claim --state "$TMP/st" --id vm-1 "${host[@]}" --flavor 'vcpus=4,ram=40000' --format xl --mem-policy interleave
expect_rc 2 "claim refused by xl"
run state show --state "$TMP/st" --format json
if grep -q "vm-1" "$TMP/out"; then not_ok "vm-1 claimed although its output was refused"; else ok "nothing claimed"; fi
run claim --state "$TMP/st" --id vm-2 "${host[@]}" --flavor 'vcpus=4,ram=400000' --format libvirt
expect_rc 1 "claim that does not fit"; expect_err "memory falls short" "claim: reason on stderr"

# 10. --case: a 6-vCPU guest without NUMA on two 4-CPU cells fits, as in Nova.
cat >"$TMP/case6.json" <<'EOF'
{"host": {"cells": [{"id": 0, "cpus": [0, 1, 2, 3], "memory_mb": 4096},
                    {"id": 1, "cpus": [4, 5, 6, 7], "memory_mb": 4096}]},
 "request": {"vcpus": 6, "memory_mb": 2048, "extra_specs": {}}}
EOF
run place --case "$TMP/case6.json"
expect_rc 0 "case: 6 vCPUs without NUMA"
json_ok "d['fits'] is True and d['cells'] == [] and d['guest_numa'] is False" "answered as Nova: fits, nothing mapped"
json_ok "d['numaplace']['fits'] and sorted(c['host_cell'] for c in d['numaplace']['cells']) == [0, 1]" "numaplace's own placement over both cells"

finish
