#!/usr/bin/env bash
# tests/cli/lookahead.sh - `place --lookahead N` and `claim --lookahead N`
# (np_place_lookahead(), docs/policies/placement.md 15): the engine's best
# few plans tried on futures drawn from the --flavors catalogue.  The hand
# case of test-lookahead as users get it (the plan that leaves room for
# the only flavor sold, which the next claim then gets), the same seed
# giving the same plan, -v saying what was tried, the budget, claim, and
# hostile values exiting 2 with one line.
. "$(dirname "$0")/lib.sh"

# Four nodes of 4 CPUs (node n: CPUs 4n..4n+3) and 32 GiB.
small_host 4 32768 >"$TMP/h.json"
plan() { # ID NODE MEMORY_MB CPU: a claim of one cell pinned to the CPU
  printf '"%s": {"schema":"numaplace.plan/1","fits":true,"memory_policy":"strict","affinity":"hard","nodeset":[%d],"fallback":[],"cells":[{"guest_cell":0,"node":%d,"memory_mb":%d,"pagesize_kb":4,"pins":[[0,%d]],"float_vcpus":[],"cpuset":[],"reserved":[],"blocked":[]}],"pci":[]}' \
    "$1" "$2" "$2" "$3" "$4"
}
# Node 0 has 20 GiB free, node 1 28 GiB, nodes 2 and 3 none.  The cloud
# sells 24 GiB guests only.  A 12 GiB guest spread onto node 1 leaves no
# node for one; on node 0 it leaves node 1 for one.
printf '{"schema":"numaplace.state/1","claims":{%s,%s,%s,%s}}' "$(plan a 0 12288 0)" \
  "$(plan b 1 4096 4)" "$(plan c 2 32768 8)" "$(plan d 3 32768 12)" >"$TMP/s.json"
cat >"$TMP/f.json" <<'EOF'
[{"name": "big", "vcpus": 1, "memory_mb": 24576,
  "extra_specs": {"hw:cpu_policy": "dedicated", "hw:numa_nodes": "1"}}]
EOF
G=(--json "$TMP/h.json" --state "$TMP/s.json" --flavor 'vcpus=1,ram=12288,hw:cpu_policy=dedicated,hw:numa_nodes=1')
BIG='vcpus=1,ram=24576,hw:cpu_policy=dedicated,hw:numa_nodes=1'

run place "${G[@]}" --no-demand --format json
expect_rc 0 "greedy"; json_ok "d['cells'][0]['node'] == 1" "greedy spreads onto node 1"
run place "${G[@]}" --flavors "$TMP/f.json" --lookahead 8 --format json -v
expect_rc 0 "lookahead"; json_ok "d['cells'][0]['node'] == 0" "lookahead keeps node 1 for a 24 GiB guest: node 0"
expect_err "lookahead: [0-9]+ plans tried on 8 futures \\([0-9]+ guests\\), chose [0-9]" "-v: what was tried"
cp "$TMP/out" "$TMP/first.json"
run place "${G[@]}" --flavors "$TMP/f.json" --lookahead 8 --format json
if cmp -s "$TMP/out" "$TMP/first.json"; then ok "the same seed: the same plan"; else not_ok "the same seed: the same plan"; fi

# claim records the lookahead's plan, and the 24 GiB guest fits after it.
cp "$TMP/s.json" "$TMP/c.json"
run claim --json "$TMP/h.json" --state "$TMP/c.json" --id e --flavors "$TMP/f.json" --lookahead 4 \
  --flavor 'vcpus=1,ram=12288,hw:cpu_policy=dedicated,hw:numa_nodes=1' --format json
expect_rc 0 "claim with --lookahead"; json_ok "d['cells'][0]['node'] == 0" "claim: node 0"
run claim --json "$TMP/h.json" --state "$TMP/c.json" --id f --flavor "$BIG" --no-demand --format json
expect_rc 0 "a 24 GiB guest fits after it"; json_ok "d['cells'][0]['node'] == 1" "on node 1"
# After the greedy claim it does not.
cp "$TMP/s.json" "$TMP/g.json"
run claim --json "$TMP/h.json" --state "$TMP/g.json" --id e --no-demand \
  --flavor 'vcpus=1,ram=12288,hw:cpu_policy=dedicated,hw:numa_nodes=1'
expect_rc 0 "greedy claim"
run claim --json "$TMP/h.json" --state "$TMP/g.json" --id f --flavor "$BIG" --no-demand
expect_rc 1 "no 24 GiB guest fits after the greedy claim"

# The budget: one guest tried in all ends before any future is finished.
run place "${G[@]}" --flavors "$TMP/f.json" --lookahead 8 --lookahead-budget 1 -v
expect_rc 0 "budget 1"; expect_err "on 0 futures \\(1 guests\\), chose 0" "budget 1: no future decides"

# Hostile values: exit 2, one line.
for a in "--lookahead 0" "--lookahead -1" "--lookahead abc" "--lookahead 4097" "--lookahead 1e3" \
         "--lookahead 4 --lookahead-depth 0" "--lookahead 4 --lookahead-depth 257" \
         "--lookahead 4 --lookahead-seed -1" "--lookahead 4 --lookahead-budget 0" \
         "--lookahead-depth 4" "--lookahead-seed 3" "--lookahead-budget 9"; do
  # shellcheck disable=SC2086
  run place "${G[@]}" --flavors "$TMP/f.json" $a
  expect_rc 2 "$a"; expect_one_line_err "$a"
done
run place "${G[@]}" --lookahead 4; expect_rc 2 "--lookahead without --flavors"
expect_one_line_err "--lookahead without --flavors"
run place "${G[@]}" --flavors "$TMP/f.json" --lookahead 4 --allow-moves 1
expect_rc 2 "--lookahead with --allow-moves"; expect_one_line_err "--lookahead with --allow-moves"
printf '[{"vcpus": 1, "memory_mb": 1024, "weight": -1}]' >"$TMP/bad.json"
run place "${G[@]}" --flavors "$TMP/bad.json" --lookahead 4
expect_rc 2 "a bad catalogue"; expect_one_line_err "a bad catalogue"
finish
