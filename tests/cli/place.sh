#!/usr/bin/env bash
# tests/cli/place.sh - `numaplace place` end to end: usage errors, every
# way to say the guest, every output format, exit codes (0 fits, 1 no
# fit, 2 bad input), --explain, --state and --case, on a real 8-node
# machine (hwloc fixture 64amd64-4s2n4ca2co: 8 nodes of 8 CPUs, node N has
# CPUs 8N..8N+7, distances 10 / 16 / 22) and small hand-made hosts.  A
# build without hwloc reads the same machine from its saved JSON
# (tests/data/json/64amd64-4s2n4ca2co.json, checked equal to the fixture
# where hwloc is there).
. "$(dirname "$0")/lib.sh"

saved="$NP_SRC/tests/data/json/64amd64-4s2n4ca2co.json"
if have hwloc; then
  root=$(fixture 64amd64-4s2n4ca2co)
  host=(--sysfs "$root")
  run topology "${host[@]}" --format json; expect_rc 0 "the fixture as JSON"
  if cmp -s "$TMP/out" "$saved"; then ok "the saved JSON is the fixture's"
  else not_ok "the saved JSON is the fixture's: regenerate $saved"; fi
else
  host=(--host "$saved")
fi

# Help and usage: exit 2 with one line naming what is wrong.
run place --help;            expect_rc 0 "place --help"; expect_out "^usage: numaplace place" "usage text"
expect_out "--flavor TEXT" "usage names --flavor"; expect_out "--case FILE" "usage names --case"
run help place;              expect_rc 0 "help place"
run place "${host[@]}";      expect_rc 2 "no guest"; expect_err "say what to place" "asks for a guest"
expect_one_line_err "no guest"
run place --flavor 'vcpus=1,ram=512' --request x.json; expect_rc 2 "two guests"; expect_err "one guest" "one guest only"
run place --image 'hw_cpu_policy=dedicated'; expect_rc 2 "--image alone"; expect_err "goes with --flavor" "image needs a flavor"
run place --xl-vnuma '[]';   expect_rc 2 "--xl-vnuma alone"; expect_err "needs --vcpus and --memory" "vnuma needs sizes"
run place --flavor 'vcpus=1,ram=512' --vcpus 2; expect_rc 2 "--vcpus without vnuma"
run place --flavor 'vcpus=1,ram=512' --strategy tight; expect_rc 2 "bad strategy"; expect_err "unknown strategy 'tight'" "names the strategy"
run place --flavor 'vcpus=1,ram=512' --mem-policy bind; expect_rc 2 "bad mem policy"; expect_err "strict, preferred, interleave" "lists the policies"
run place --flavor 'vcpus=1,ram=512' --affinity loose; expect_rc 2 "bad affinity"
run place --flavor 'vcpus=1,ram=512' --format yaml; expect_rc 2 "bad format"; expect_err "unknown format 'yaml'" "names the format"
run place --flavor 'vcpus=1,ram=512' --vcpus x --xl-vnuma '[]' --memory 1; expect_rc 2 "--vcpus not a number"
run place --flavor 'vcpus=1,ram=512' extra; expect_rc 2 "stray argument"
run place --case x.json --flavor 'vcpus=1,ram=512'; expect_rc 2 "--case with a guest"; expect_err "only --strategy" "case stands alone"

# Invalid requests: exit 2, the message names Nova's rule.
run place "${host[@]}" --flavor 'vcpus=8,ram=2048,hw:numa_nodes=3'; expect_rc 2 "asymmetric split"
expect_one_line_err "asymmetric split"; expect_err "numa_topology_asymmetric" "names the rule"
run place "${host[@]}" --flavor 'vcpus=4,ram=2048,hw:cpu_policy=dedicated' --image 'hw_cpu_policy=shared'; expect_rc 0 "flavor dedicated wins over image shared"
run place "${host[@]}" --flavor 'vcpus=4,ram=2048,hw:cpu_policy=shared' --image 'hw_cpu_policy=dedicated'; expect_rc 2 "image may not pin a shared flavor"
expect_err "image_cpu_pinning_forbidden" "names the rule"

# Two guest cells: numaplace reads distances, so they land 16 apart, not 22.
run place "${host[@]}" --flavor 'vcpus=8,ram=4096,hw:numa_nodes=2,hw:cpu_policy=dedicated' --format json
expect_rc 0 "2-cell dedicated guest fits"
json_ok "d['fits'] and len(d['cells']) == 2 and len({c['node'] for c in d['cells']}) == 2" "two distinct nodes"
json_ok "d['score']['max_distance'] == 16 and d['score']['best_max_distance'] == 16" "nodes at distance 16, the best there is"
json_ok "sorted(v for c in d['cells'] for v, p in c['pins']) == list(range(8))" "every vCPU pinned once"
json_ok "len({p for c in d['cells'] for v, p in c['pins']}) == 8" "to 8 different CPUs"
json_ok "all(p // 8 == c['node'] for c in d['cells'] for v, p in c['pins'])" "each CPU on its cell's node (node N has CPUs 8N..8N+7)"
json_ok "d['nodeset'] == sorted(c['node'] for c in d['cells'])" "nodeset is the cells' nodes"

# --explain says why the others lost; text is the default format.
run place "${host[@]}" --flavor 'vcpus=8,ram=4096,hw:numa_nodes=2' --explain
expect_rc 0 "explain"; expect_out "^guest cell 0 " "text names guest cell 0"; expect_out "why not" "explain gives reasons"

# Does not fit: exit 1, and the reasons say which resource fell short.
run place "${host[@]}" --flavor 'vcpus=9,ram=1024,hw:cpu_policy=dedicated' --format json --explain
expect_rc 1 "9 pinned vCPUs in one cell of an 8-CPU node"
json_ok "d['fits'] is False and d['cells'] == []" "fits false, no cells"
json_ok "any(r['resource'] == 'pcpus' for r in d['reasons'])" "a reason names the dedicated CPUs"
run place "${host[@]}" --flavor 'vcpus=2,ram=4000000,hw:numa_nodes=1'
expect_rc 1 "4 TB in one cell"

# Every format of a plan that fits.
run place "${host[@]}" --flavor 'vcpus=4,ram=4096,hw:cpu_policy=dedicated' --format libvirt
expect_rc 0 "libvirt"; expect_out "<vcpupin vcpu='0' cpuset='[0-9]+'/>" "vcpupin"; expect_out "<numatune>" "numatune"
run place "${host[@]}" --flavor 'vcpus=4,ram=4096,hw:cpu_policy=dedicated' --format xl
expect_rc 0 "xl"; expect_out "^cpus=" "cpus="; expect_out "^vnuma=" "vnuma="
run place "${host[@]}" --flavor 'vcpus=4,ram=4096' --format numactl
expect_rc 0 "numactl"; expect_out "^numactl --membind=[0-9]" "numactl line"
run place "${host[@]}" --flavor 'vcpus=4,ram=4096' --mem-policy interleave --affinity soft --format json
expect_rc 0 "interleave + soft"
json_ok "d['memory_policy'] == 'interleave' and d['affinity'] == 'soft'" "knobs reach the plan"

# xl vnuma with pnode= fixes the nodes.
run place "${host[@]}" --xl-vnuma '[ [ "pnode=6", "size=1024", "vcpus=0-1", "vdistances=10,20" ], [ "pnode=3", "size=1024", "vcpus=2-3", "vdistances=20,10" ] ]' \
  --vcpus 4 --memory 2048 --format json
expect_rc 0 "xl vnuma"
json_ok "[c['node'] for c in d['cells']] == [6, 3]" "pnode= is obeyed"

# numaplace.request/1 from a file and from standard input, host_node obeyed.
cat >"$TMP/req.json" <<'EOF'
{"schema": "numaplace.request/1", "vcpus": 4, "memory_mb": 2048, "cpu_policy": "dedicated",
 "cells": [{"vcpus": [0, 1], "memory_mb": 1024, "host_node": 7}, {"vcpus": "2-3", "memory_mb": 1024}]}
EOF
run place "${host[@]}" --request "$TMP/req.json" --format json
expect_rc 0 "request JSON"
json_ok "d['cells'][0]['node'] == 7 and d['cells'][1]['node'] in (1, 2, 5, 6)" "host_node 7, then a node at distance 16 from it"
run_stdin "$TMP/req.json" place "${host[@]}" --request - --format json; expect_rc 0 "request JSON on stdin"
printf '{"schema": "numaplace.request/1", "vcpus": 2, "memory_mb": 1024, "cells": [{"vcpus": [0, 5], "memory_mb": 1024}]}' >"$TMP/badreq.json"
run place "${host[@]}" --request "$TMP/badreq.json"; expect_rc 2 "vCPU out of range"
expect_one_line_err "bad request JSON"; expect_err "numa_cpu_out_of_range" "names the rule"

# A small host as JSON: 2 nodes of 2 CPUs, 1 GiB each.
cat >"$TMP/small.json" <<'EOF'
{"schema": "numaplace.topology/1", "distances_source": "firmware",
 "nodes": [{"id": 0, "cpus": [0, 1], "memory_mb": {"total": 1024}, "distances": [10, 21]},
           {"id": 1, "cpus": [2, 3], "memory_mb": {"total": 1024}, "distances": [21, 10]}],
 "cpus": [{"id": 0, "node": 0, "core": 0, "socket": 0}, {"id": 1, "node": 0, "core": 1, "socket": 0},
          {"id": 2, "node": 1, "core": 0, "socket": 1}, {"id": 3, "node": 1, "core": 1, "socket": 1}]}
EOF
run place --host "$TMP/small.json" --flavor 'vcpus=2,ram=1024,hw:cpu_policy=dedicated' --format json
expect_rc 0 "whole node"
run place --host "$TMP/small.json" --flavor 'vcpus=3,ram=512,hw:cpu_policy=dedicated'
expect_rc 1 "3 pinned vCPUs on 2-CPU nodes"
run place --host "$TMP/small.json" --flavor 'vcpus=4,ram=2048,hw:numa_nodes=2,hw:cpu_policy=dedicated' --format json
expect_rc 0 "the whole host"
json_ok "sorted(p for c in d['cells'] for v, p in c['pins']) == [0, 1, 2, 3]" "all four CPUs"

# --case: Nova's case format in, its output shape out.
cat >"$TMP/case.json" <<'EOF'
{"host": {"cells": [
   {"id": 0, "cpus": [0, 1, 2, 3], "memory_mb": 4096, "siblings": [[0, 2], [1, 3]]},
   {"id": 1, "cpus": [4, 5, 6, 7], "memory_mb": 4096, "siblings": [[4, 6], [5, 7]],
    "pinned_cpus": [4, 5, 6], "memory_usage_mb": 1024}]},
 "cpu_allocation_ratio": 16.0, "ram_allocation_ratio": 1.5,
 "request": {"vcpus": 2, "memory_mb": 2048,
             "extra_specs": {"hw:cpu_policy": "dedicated", "hw:cpu_thread_policy": "require"}}}
EOF
run place --case "$TMP/case.json"; expect_rc 0 "case fits"
json_ok "d['fits'] and d['filter_passes'] and d['guest_numa'] and d['error'] is None" "fits, no error"
json_ok "[c['host_cell'] for c in d['cells']] == [0]" "only cell 0 has a free sibling pair"
json_ok "sorted(d['cells'][0]['pinning'].values()) in ([0, 2], [1, 3])" "pinned to one core's two threads"
json_ok "d['guest_cells'][0]['pcpus'] == [0, 1] and d['guest_cells'][0]['cpu_thread_policy'] == 'require'" "guest cell as Nova shows it"
sed 's/"require"/"isolate"/; s/"vcpus": 2/"vcpus": 3/' "$TMP/case.json" >"$TMP/case-nofit.json"
run place --case "$TMP/case-nofit.json"; expect_rc 1 "isolate 3 vCPUs: 2 free cores only"
json_ok "d['fits'] is False and d['cells'] == []" "no fit in the case shape"
sed 's/"hw:cpu_thread_policy": "require"/"hw:cpu_thread_policy": "require", "hw:numa_nodes": "0"/' "$TMP/case.json" >"$TMP/case-bad.json"
run place --case "$TMP/case-bad.json"; expect_rc 2 "invalid request in a case"
json_ok "d['error']['code'] == 'invalid_numa_nodes' and d['fits'] is None" "error code from nova-errors.md"
printf '{"host": {"cells": [{"id": 0, "cpus": [0], "memory_mb": -5}]}, "request": {"vcpus": 1, "memory_mb": 1}}' >"$TMP/case-broken.json"
run place --case "$TMP/case-broken.json"; expect_rc 2 "broken case"
expect_one_line_err "broken case"; expect_err "host.cells\[0\].memory_mb" "names the JSON path"
run_stdin "$TMP/case.json" place --case -; expect_rc 0 "case on standard input"
run place --case "$TMP/none.json"; expect_rc 2 "missing case file"; expect_err "none.json" "names the file"

# A sequence: each fit is charged before the next.
cat >"$TMP/seq.json" <<'EOF'
{"host": {"cells": [{"id": 0, "cpus": [0, 1], "memory_mb": 2048}, {"id": 1, "cpus": [2, 3], "memory_mb": 2048}]},
 "requests": [{"vcpus": 2, "memory_mb": 1024, "extra_specs": {"hw:cpu_policy": "dedicated"}},
              {"vcpus": 2, "memory_mb": 1024, "extra_specs": {"hw:cpu_policy": "dedicated"}},
              {"vcpus": 1, "memory_mb": 512, "extra_specs": {"hw:cpu_policy": "dedicated"}}]}
EOF
run place --case "$TMP/seq.json"; expect_rc 1 "third pinned guest finds no CPU"
json_ok "[r['fits'] for r in d['results']] == [True, True, False]" "fit, fit, no fit"
json_ok "sorted(r['cells'][0]['host_cell'] for r in d['results'][:2]) == [0, 1]" "one guest per cell"
json_ok "all(c['pinned_cpus'] == sorted(c['pinned_cpus']) and len(c['pinned_cpus']) == 2 for c in d['host_after'])" "host_after: every CPU pinned"
finish
