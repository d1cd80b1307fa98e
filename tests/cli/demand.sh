#!/usr/bin/env bash
# tests/cli/demand.sh - the demand (docs/policies/placement.md 4, term 6)
# as users get it: `place --state` and `claim` keep room for more guests
# like the ones claimed last (the state file's "recent" record, released
# claims included), --no-demand turns it off, and a bad record is bad
# input (exit 2, one line naming the file).  A flavor catalogue
# (--flavors, docs/formats/flavors.md) keeps room for the guests it sells,
# in place, claim and schedule; a bad one is bad input too.
. "$(dirname "$0")/lib.sh"

# Two nodes of 4 CPUs (node n: CPUs 4n..4n+3) and 4 GiB.
small_host 2 4096 >"$TMP/h.json"
plan() { # ID NODE MEMORY_MB CPU...: a claim of one cell pinned to the CPUs
  local id=$1 node=$2 mem=$3 pins="" v=0; shift 3
  for c in "$@"; do pins="$pins${pins:+,}[$v,$c]"; v=$((v + 1)); done
  printf '"%s": {"schema":"numaplace.plan/1","fits":true,"memory_policy":"strict","affinity":"hard","nodeset":[%d],"fallback":[],"cells":[{"guest_cell":0,"node":%d,"memory_mb":%d,"pagesize_kb":4,"pins":[%s],"float_vcpus":[],"cpuset":[],"reserved":[],"blocked":[]}],"pci":[]}' \
    "$id" "$node" "$node" "$mem" "$pins"
}
# Node 0 keeps 3 CPUs and 1 GiB free (a: 1 CPU, 3 GiB), node 1 2 CPUs and
# 3 GiB (b: 2 CPUs, 1 GiB).  A guest of 1 CPU and 1 GiB: spread alone
# (stranding ties) takes node 1, which has more room; but there it ends
# the room for one more a and one more b, on node 0 only for one more b.
printf '{"schema":"numaplace.state/1","claims":{%s,%s}}' "$(plan a 0 3072 0)" "$(plan b 1 1024 4 5)" >"$TMP/s.json"
G=(--json "$TMP/h.json" --flavor 'vcpus=1,ram=1024,hw:cpu_policy=dedicated')

run place "${G[@]}" --state "$TMP/s.json" --no-demand --format json
expect_rc 0 "without the demand"; json_ok "d['cells'][0]['node'] == 1" "spread takes node 1"
run place "${G[@]}" --state "$TMP/s.json" --format json
expect_rc 0 "with the demand"; json_ok "d['cells'][0]['node'] == 0" "the demand keeps node 1's room: node 0"
run place "${G[@]}" --state "$TMP/s.json" --explain
expect_out "why not node 1: it leaves room for fewer of the cells in demand" "--explain says why"
run place "${G[@]}" --format json
expect_rc 0 "no state"; json_ok "d['cells'][0]['node'] == 0" "no state: an empty host, node 0"
run place "${G[@]}" --no-demand; expect_rc 2 "--no-demand without --state"
expect_one_line_err "--no-demand without --state"

# claim: the same choice, recorded; the record keeps claim order, newest last.
cp "$TMP/s.json" "$TMP/c.json"
run claim --state "$TMP/c.json" --id c "${G[@]}" --format json
expect_rc 0 "claim c"; json_ok "d['cells'][0]['node'] == 0" "claim takes node 0 too"
run claim --state "$TMP/c.json" --id d --json "$TMP/h.json" --flavor 'vcpus=2,ram=512,hw:cpu_policy=dedicated'
expect_rc 0 "claim d"
run state show --state "$TMP/c.json" --format state
json_ok "[(r['id'], r['cells']) for r in d['recent']] == [('c', [[1, 0, 1024, 0]]), ('d', [[2, 0, 512, 0]])]" "the record: c then d, their cell shapes"
# Released claims stay in the record (their shapes are still asked for).
run release --state "$TMP/c.json" --id c; expect_rc 0 "release c"
run state show --state "$TMP/c.json" --format state
json_ok "sorted(d['claims']) == ['a', 'b', 'd'] and [r['id'] for r in d['recent']] == ['c', 'd']" "c released, still recorded"
# A retried claim changes nothing, the record included.
cp "$TMP/c.json" "$TMP/c2.json"
run claim --state "$TMP/c.json" --id d --json "$TMP/h.json" --flavor 'vcpus=2,ram=512,hw:cpu_policy=dedicated'
expect_rc 0 "claim d again"
if cmp -s "$TMP/c.json" "$TMP/c2.json"; then ok "retry: file unchanged"; else not_ok "retry: file unchanged"; fi

# The record is bounded: 70 claims of small floating guests leave the last 64.
big="$TMP/big.json"
for i in $(seq 1 70); do
  "$NUMAPLACE" claim --state "$big" --id "g$i" --json "$TMP/h.json" --flavor 'vcpus=1,ram=16' >/dev/null 2>&1 ||
    { not_ok "claim g$i"; break; }
done
run state show --state "$big" --format state
json_ok "len(d['claims']) == 70 and [r['id'] for r in d['recent']] == ['g%d' % i for i in range(7, 71)]" "70 claims, the last 64 recorded"
run place --state "$big" "${G[@]}"; expect_rc 0 "place on it"

# Bad records: exit 2, one line naming the file and what is wrong.
bad() { # NAME RECENT-JSON MESSAGE
  printf '{"schema":"numaplace.state/1","claims":{%s},"recent":%s}' "$(plan a 0 3072 0)" "$2" >"$TMP/bad.json"
  for cmd in "place --state $TMP/bad.json ${G[*]}" "claim --state $TMP/bad.json --id x ${G[*]}" \
             "state show --state $TMP/bad.json --format state"; do
    run $cmd; expect_rc 2 "$1: ${cmd%% *}"; expect_one_line_err "$1: ${cmd%% *}"
    expect_err "bad.json.*$3" "$1: ${cmd%% *} names the file and the problem"
  done
}
bad "not a list" '"x"' "recent: expected a list of at most 64 claims"
bad "an entry without cells" '[{"id":"a"}]' "recent\\[0\\]: expected"
bad "a negative vCPU count" '[{"id":"a","cells":[[-1,0,1024,0]]}]' "recent\\[0\\]\\.cells\\[0\\]: expected \\[pinned, floating, memory_mb, pagesize_kb\\]"
bad "a cell without vCPUs" '[{"id":"a","cells":[[0,0,1024,0]]}]' "recent\\[0\\]\\.cells\\[0\\]"
bad "no cells" '[{"id":"a","cells":[]}]' "recent\\[0\\]\\.cells: expected 1 to"
bad "an id twice" '[{"id":"a","cells":[[1,0,1,0]]},{"id":"a","cells":[[1,0,1,0]]}]' "recent\\[1\\]\\.id"
bad "an id with a control character" '[{"id":"a\u0001","cells":[[1,0,1,0]]}]' "recent\\[0\\]\\.id"
bad "65 entries" "$(python3 -c 'import json; print(json.dumps([{"id": "g%d" % i, "cells": [[1, 0, 1, 0]]} for i in range(65)]))')" "at most 64"
# ---- the flavor catalogue (--flavors) ------------------------------------
# On s.json (node 0: 3 CPUs, 1 GiB free; node 1: 2 CPUs, 3 GiB): a catalogue
# of 3 GiB guests keeps node 1, the only node with room for one: node 0; a
# catalogue of 512 MiB guests loses 2 copies on node 0 and 1 on node 1: node 1.
cat3='[{"vcpus": 1, "memory_mb": 3072, "extra_specs": {"hw:cpu_policy": "dedicated"}}]'
cat05='{"schema": "numaplace.flavors/1", "flavors": [{"name": "tiny", "vcpus": 1, "memory_mb": 512, "weight": 9, "extra_specs": {"hw:cpu_policy": "dedicated"}}, {"name": "never", "weight": 0, "request": {"schema": "numaplace.request/1", "vcpus": 1, "memory_mb": 3072, "cpu_policy": "dedicated"}}]}'
printf '%s' "$cat3" >"$TMP/cat3.json"; printf '%s' "$cat05" >"$TMP/cat05.json"
run place "${G[@]}" --state "$TMP/s.json" --no-demand --flavors "$TMP/cat3.json" --format json
expect_rc 0 "catalogue of 3 GiB guests"; json_ok "d['cells'][0]['node'] == 0" "it keeps node 1's 3 GiB: node 0"
run place "${G[@]}" --state "$TMP/s.json" --no-demand --flavors "$TMP/cat05.json" --format json
expect_rc 0 "catalogue of 512 MiB guests"; json_ok "d['cells'][0]['node'] == 1" "it keeps node 0's two copies: node 1 (a weight 0 flavor is no demand)"
run place "${G[@]}" --state "$TMP/s.json" --no-demand --flavors "$TMP/cat05.json" --explain
expect_out "why not node 0: it leaves room for fewer of the cells in demand" "--explain names the catalogue's demand"
run place "${G[@]}" --flavors "$TMP/cat05.json" --no-demand --format json
expect_rc 0 "a catalogue without --state"
cp "$TMP/s.json" "$TMP/cf.json"
run claim --state "$TMP/cf.json" --id k "${G[@]}" --no-demand --flavors "$TMP/cat3.json" --format json
expect_rc 0 "claim with a catalogue"; json_ok "d['cells'][0]['node'] == 0" "claim: node 0 too"
badcat() { # NAME TEXT MESSAGE
  printf '%s' "$2" >"$TMP/badcat.json"
  for cmd in place claim; do
    run $cmd --state "$TMP/s.json" --id x "${G[@]}" --flavors "$TMP/badcat.json"
    [ $cmd = place ] && run place --state "$TMP/s.json" "${G[@]}" --flavors "$TMP/badcat.json"
    expect_rc 2 "$1: $cmd"; expect_one_line_err "$1: $cmd"
    expect_err "badcat.json.*$3" "$1: $cmd names the file and the problem"
  done
}
badcat "not JSON" '[{' "line 1"
badcat "empty" '[]' "the list is empty"
badcat "an unknown key" '[{"vcpus": 1, "memory_mb": 1, "ram": 2}]' "flavors\\[0\\]: unknown key 'ram'"
badcat "a negative weight" '[{"vcpus": 1, "memory_mb": 1, "weight": -2}]' "flavors\\[0\\]: expected a \"weight\""
badcat "a flavor Nova refuses" '[{"vcpus": 3, "memory_mb": 1024, "extra_specs": {"hw:numa_nodes": "2"}}]' "numa_topology_asymmetric"
mkfifo "$TMP/catfifo"
run place "${G[@]}" --flavors "$TMP/catfifo"; expect_rc 2 "a FIFO catalogue"; expect_err "not a regular file" "a FIFO is refused, not waited on"
ln -s "$TMP/catfifo" "$TMP/catlink"
run place "${G[@]}" --flavors "$TMP/catlink"; expect_rc 2 "a link to a FIFO"; expect_err "not a regular file" "a link to a FIFO is refused, not waited on"
mkdir "$TMP/catdir"
run place "${G[@]}" --flavors "$TMP/catdir"; expect_rc 2 "a directory as the catalogue"; expect_err "catdir" "the directory is named"
run place --case "$TMP/s.json" --flavors "$TMP/cat3.json"
expect_rc 2 "--case brings its own requests: no --flavors"

# schedule: the fleet's demand with the catalogue (np_fleet_sched_opts.flavors).
if have sqlite 2>/dev/null || true; then
  run fleet add --store "sqlite:$TMP/f.db" --name h1 --json "$TMP/h.json"
  if [ "$rc" = 3 ]; then
    echo "# skip: schedule --flavors needs the SQLite store (this build has none)"
  else
    expect_rc 0 "fleet host h1"
    run schedule --store "sqlite:$TMP/f.db" --id p --flavor 'vcpus=2,ram=1024,hw:cpu_policy=dedicated' --format json
    expect_rc 0 "schedule p"
    run schedule --store "sqlite:$TMP/f.db" --id q --flavor 'vcpus=1,ram=1024,hw:cpu_policy=dedicated' --flavors "$TMP/cat3.json" --no-demand --format json
    expect_rc 0 "schedule with a catalogue"
    run schedule --store "sqlite:$TMP/f.db" --id r --flavor 'vcpus=1,ram=1024,hw:cpu_policy=dedicated' --flavors "$TMP/badcat.json"
    expect_rc 2 "schedule: a bad catalogue"; expect_one_line_err "schedule: a bad catalogue"
    run state show --state "$TMP/s.json" --format state; expect_rc 0 "nothing else broke"
  fi
fi
finish
