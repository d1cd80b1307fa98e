#!/usr/bin/env bash
# tests/cli/claim.sh - `numaplace claim`, `release` and `state show`: claims
# are recorded, idempotent per id, seen by later claims and by
# `place --state`, given back by release, and parallel claims on one host
# never over-commit it.
. "$(dirname "$0")/lib.sh"

# host NODES: NODES nodes of 2 CPUs (node n: CPUs 2n, 2n+1) and 2 GiB each.
host() {
  python3 - "$1" <<'EOF'
import json, sys
n = int(sys.argv[1])
print(json.dumps({"schema": "numaplace.topology/1", "distances_source": "firmware",
  "nodes": [{"id": i, "cpus": [2 * i, 2 * i + 1], "memory_mb": {"total": 2048},
             "distances": [10 if i == j else 20 for j in range(n)]} for i in range(n)],
  "cpus": [{"id": c, "node": c // 2, "core": c % 2, "socket": c // 2} for c in range(2 * n)]}))
EOF
}
host 2 >"$TMP/h2.json"
st="$TMP/state.json"
pinned=(--json "$TMP/h2.json" --flavor 'vcpus=2,ram=1024,hw:cpu_policy=dedicated')

# Usage.
run claim --help;                 expect_rc 0 "claim --help"; expect_out "^usage: numaplace claim" "usage"
run claim "${pinned[@]}";         expect_rc 2 "claim without --state/--id"; expect_err "--state FILE --id ID" "says what is missing"
run claim --state "$st" --id x;   expect_rc 2 "claim without a guest"
run release --state "$st";        expect_rc 2 "release without --id"
run release --help;               expect_rc 0 "release --help"
run state --state "$st";          expect_rc 2 "state without show"
run state show;                   expect_rc 2 "state show without --state"
run state list --state "$st";     expect_rc 2 "unknown state action"; expect_err "unknown state action 'list'" "names it"
run state show --state "$st" --json "$TMP/h2.json"; expect_rc 0 "a missing state file is empty"; expect_out "0 claims" "no claims"

# Claim two guests: each takes a whole node.
run claim --state "$st" --id vm-1 "${pinned[@]}" --format json
expect_rc 0 "claim vm-1"; json_ok "d['fits'] and len(d['cells']) == 1" "vm-1's plan printed"
node1=$(python3 -c "import json; print(json.load(open('$TMP/out'))['cells'][0]['node'])" 2>/dev/null || echo -1)
run claim --state "$st" --id vm-2 "${pinned[@]}" --format json
expect_rc 0 "claim vm-2"; json_ok "d['cells'][0]['node'] != $node1" "vm-2 on the other node"
cp "$st" "$TMP/after2.json"

# Idempotent: the same id again prints its claim and changes nothing.
run claim --state "$st" --id vm-1 "${pinned[@]}" --format json
expect_rc 0 "claim vm-1 again"; expect_err "already claimed" "says so"
json_ok "d['cells'][0]['node'] == $node1" "prints vm-1's own plan"
if cmp -s "$st" "$TMP/after2.json"; then ok "state file unchanged"; else not_ok "state file unchanged"; fi

# Another request under a claimed id: exit 1, one line saying what differs, nothing changed.
conflict() { # WHAT ARGS...: claim vm-1 with ARGS is refused
  local what=$1; shift
  run claim --state "$st" --id vm-1 --json "$TMP/h2.json" "$@"
  expect_rc 1 "vm-1 again, $what"; expect_one_line_err "vm-1 again, $what"
  expect_err "^numaplace: cannot claim 'vm-1': it is already claimed for another request \\(.+\\); release it first$" \
    "vm-1 again, $what: says it is claimed for another request"
  [ -z "$out" ] && ok "vm-1 again, $what: prints no plan" || not_ok "vm-1 again, $what: prints no plan"
  if cmp -s "$st" "$TMP/after2.json"; then ok "vm-1 again, $what: state unchanged"; else not_ok "vm-1 again, $what: state unchanged"; fi
}
conflict "more memory" --flavor 'vcpus=2,ram=2048,hw:cpu_policy=dedicated'
expect_err "1024 MiB recorded, 2048 asked" "more memory: names the difference"
conflict "shared vCPUs" --flavor 'vcpus=2,ram=1024'
conflict "fewer vCPUs" --flavor 'vcpus=1,ram=1024,hw:cpu_policy=dedicated'
conflict "another memory policy" "${pinned[@]:2}" --mem-policy preferred
expect_err "memory policy strict recorded, preferred asked" "another memory policy: names it"
conflict "soft affinity" "${pinned[@]:2}" --affinity soft
# The same request said another way is the same request.
run claim --state "$st" --id vm-1 --json "$TMP/h2.json" --flavor 'ram=1024,vcpus=2,hw:cpu_policy=dedicated,hw:numa_nodes=1' --mem-policy strict
expect_rc 0 "vm-1 again, the same request written otherwise"

# Full: a third guest does not fit, and the state stays as it was.
run claim --state "$st" --id vm-3 "${pinned[@]}"; expect_rc 1 "vm-3 does not fit"
if cmp -s "$st" "$TMP/after2.json"; then ok "no-fit leaves the state alone"; else not_ok "no-fit leaves the state alone"; fi
run place --state "$st" --json "$TMP/h2.json" --flavor 'vcpus=1,ram=256,hw:cpu_policy=dedicated'
expect_rc 1 "place --state sees the claims"
run place --json "$TMP/h2.json" --flavor 'vcpus=1,ram=256,hw:cpu_policy=dedicated'
expect_rc 0 "without --state the host is empty"

# state show: per node what is taken and free, the claims there; then each claim.
node2=$((1 - node1))
run state show --state "$st" --json "$TMP/h2.json"; expect_rc 0 "state show"
expect_out "^$TMP/state.json: 2 claims: 4 CPUs pinned, 0 vCPUs floating, 2.0 GiB memory$" "totals"
expect_out "^ +$node1 +2 +2 +0 +0 of 32 +1.0 GiB +1.0 GiB +- +vm-1$" "vm-1's node: both CPUs pinned, none free, half the memory"
expect_out "^  vm-1  node $node1: 1.0 GiB, 2 vCPUs pinned to CPUs $((2 * node1))-$((2 * node1 + 1))$" "vm-1: its node, memory and CPUs"
run state show --state "$st" --json "$TMP/h2.json" --format json; expect_rc 0 "state show json"
json_ok "d['schema'] == 'numaplace.usage/1' and [c['id'] for c in d['claims']] == ['vm-1', 'vm-2']" "numaplace.usage/1 with both claims"
json_ok "[n['claims'] for n in sorted(d['nodes'], key=lambda n: n['id'])] == ([['vm-1'], ['vm-2']] if $node1 == 0 else [['vm-2'], ['vm-1']])" "each node names its claim"
json_ok "all(n['cpus']['pinned_free'] == 0 and len(n['cpus']['pinned']) == 2 and n['memory_mb'] == {'total': 2048, 'used': 1024, 'free': 1024, 'reported_free': None} for n in d['nodes'])" "per node: CPUs pinned and free, memory used and free"
json_ok "d['claims'][0]['nodes'] == [$node1] and d['claims'][0]['pinned_cpus'] == [$((2 * node1)), $((2 * node1 + 1))] and d['claims'][0]['memory_mb'] == 1024" "per claim: nodes, CPUs, memory"
run state show --state "$st" --format state; expect_rc 0 "state show --format state"
json_ok "d['schema'] == 'numaplace.state/1' and sorted(d['claims']) == ['vm-1', 'vm-2']" "numaplace.state/1 with both"
run state show --state "$st" --format state --json "$TMP/h2.json"; expect_rc 2 "--format state takes no host"
if ! have hwloc; then
  # No host given and none readable here: the file itself, and a note saying why.
  for f in text json; do
    run state show --state "$st" --format $f; expect_rc 0 "no hwloc, --format $f: the file view"
    json_ok "d['schema'] == 'numaplace.state/1' and sorted(d['claims']) == ['vm-1', 'vm-2']" "no hwloc, --format $f: numaplace.state/1"
    expect_err "^numaplace: note: this numaplace has no hwloc support \(built without it\): showing the state file itself \(--format state\)$" "no hwloc, --format $f: says why"
  done
fi
# The host the claims were made on, or an error naming the claim that does not fit this one.
host 1 >"$TMP/h1.json"
run state show --state "$st" --json "$TMP/h1.json"; expect_rc 2 "state show on a host without the claims' nodes"
expect_one_line_err "a claim on a node the host lacks"
# topology --state: the same view after the topology; as SVG, pinned CPUs drawn.
run topology --json "$TMP/h2.json" --state "$st"; expect_rc 0 "topology --state"
expect_out "^distances:" "the topology first"; expect_out "^  vm-2  node $node2: " "then the usage, vm-2 in it"
run topology --json "$TMP/h2.json" --state "$st" --format svg; expect_rc 0 "topology --state --format svg"
n=$(grep -o 'class="cpu pin"' "$TMP/out" | wc -l)
[ "$n" -eq 4 ] && ok "svg: the 4 pinned CPUs drawn as pinned" || not_ok "svg: $n CPUs drawn as pinned, want 4"
run topology --json "$TMP/h2.json" --state "$st" --format json; expect_rc 2 "topology --state --format json is a usage error"
expect_err "state show --format json" "says where the JSON is"

# Release gives the node back; releasing again changes nothing.
run release --state "$st" --id vm-1; expect_rc 0 "release vm-1"; expect_out "released 'vm-1'" "says released"
run release --state "$st" --id vm-1; expect_rc 0 "release vm-1 again"; expect_out "not claimed" "says not claimed"
run claim --state "$st" --id vm-3 "${pinned[@]}" --format json
expect_rc 0 "vm-3 fits now"; json_ok "d['cells'][0]['node'] == $node1" "on vm-1's old node"

# An id with a quote and a backslash is found again (JSON escaping).
wst="$TMP/weird.json"
run claim --state "$wst" --id 'vm "7"\x' "${pinned[@]}" --format json; expect_rc 0 "claim an odd id"
cp "$TMP/out" "$TMP/weird-first.json"
run claim --state "$wst" --id 'vm "7"\x' "${pinned[@]}" --format json; expect_rc 0 "claim the odd id again"
expect_err "already claimed" "found again"
json_ok "d['cells'] == json.load(open('$TMP/weird-first.json'))['cells']" "the same cells and pins printed"

# Bad state file: exit 2, one line naming the file.
printf 'garbage' >"$TMP/bad.json"
run state show --state "$TMP/bad.json" --json "$TMP/h2.json"; expect_rc 2 "garbage state"; expect_one_line_err "garbage state"
expect_err "bad.json" "names the file"
run claim --state "$TMP/bad.json" --id x "${pinned[@]}"; expect_rc 2 "claim on a garbage state"

# One checker for every verb that reads a state: a state that over-commits
# a node's memory, or pins one CPU twice, is refused by claim, place
# --state and state show with a host alike, naming the claim; without a
# host, state show --format state and release still read it (release is how it is fixed).
plan() { # ID NODE CPU MEMORY_MB
  printf '"%s": {"schema":"numaplace.plan/1","fits":true,"memory_policy":"strict","affinity":"hard","nodeset":[%d],"fallback":[],"cells":[{"guest_cell":0,"node":%d,"memory_mb":%d,"pagesize_kb":4,"pins":[[0,%d]],"float_vcpus":[],"cpuset":[],"reserved":[],"blocked":[]}],"pci":[]}' \
    "$1" "$2" "$2" "$4" "$3"
}
printf '{"schema":"numaplace.state/1","claims":{%s,%s}}' "$(plan a 1 2 1500)" "$(plan b 1 3 1500)" >"$TMP/overmem.json"
printf '{"schema":"numaplace.state/1","claims":{%s,%s}}' "$(plan a 0 1 100)" "$(plan b 0 1 100)" >"$TMP/twice.json"
for bad in overmem twice; do
  for cmd in "claim --state $TMP/$bad.json --id c ${pinned[*]}" "place --state $TMP/$bad.json ${pinned[*]}" \
             "state show --state $TMP/$bad.json --json $TMP/h2.json"; do
    # shellcheck disable=SC2086 # split on purpose
    run $cmd; expect_rc 2 "$bad: ${cmd%% --*}"; expect_one_line_err "$bad: ${cmd%% --*}"
    expect_err "^numaplace: claim 'b' in '$TMP/$bad.json': node [01]: " "$bad: ${cmd%% --*} names claim b"
  done
  run state show --state "$TMP/$bad.json" --format state; expect_rc 0 "$bad: state show --format state (no host)"
done
run state show --state "$TMP/overmem.json" --json "$TMP/h2.json"; expect_err "3000 MiB claimed of 2048 MiB" "says how much"
run release --state "$TMP/twice.json" --id b; expect_rc 0 "release fixes it"
run state show --state "$TMP/twice.json" --json "$TMP/h2.json"; expect_rc 0 "fixed"

# Ids are never printed raw: a C1 control (U+009B, CSI) or ESC in a file's
# id is refused as bad input, shown escaped; release refuses such an id.
printf '{"schema":"numaplace.state/1","claims":{"x\\u009b2Jy":{}}}' >"$TMP/csi.json"
run state show --state "$TMP/csi.json"; expect_rc 2 "a C1 control in an id"
expect_err "claim 'x\\\\xc2\\\\x9b2Jy' in " "shown escaped"
if LC_ALL=C grep -q "$(printf '\302\233')" "$TMP/err"; then not_ok "a raw CSI on stderr"; else ok "no raw CSI on stderr"; fi
run release --state "$st" --id "$(printf 'a\033[2Jb')"; expect_rc 2 "release of an id with ESC"
if LC_ALL=C grep -q "$(printf '\033')" "$TMP/out" "$TMP/err"; then not_ok "a raw ESC printed"; else ok "no raw ESC printed"; fi

# Parallel claims: 8 boots at once on 4 nodes of 2 CPUs, 2 pinned vCPUs
# each: exactly 4 fit, and no CPU is promised twice.
host 4 >"$TMP/h4.json"
pst="$TMP/parallel.json"
for i in 1 2 3 4 5 6 7 8; do
  "$NUMAPLACE" claim --state "$pst" --id "p$i" --json "$TMP/h4.json" \
    --flavor 'vcpus=2,ram=512,hw:cpu_policy=dedicated' >/dev/null 2>&1 &
  pids+=($!)
done
fits=0 nofit=0
for p in "${pids[@]}"; do
  wait "$p"; r=$?
  [ $r -eq 0 ] && fits=$((fits + 1)); [ $r -eq 1 ] && nofit=$((nofit + 1))
done
if [ $fits -eq 4 ] && [ $nofit -eq 4 ]; then ok "4 of 8 parallel claims fit"; else not_ok "parallel claims: $fits fit, $nofit did not (want 4 and 4)"; fi
run state show --state "$pst" --format state
json_ok "len(d['claims']) == 4" "4 claims recorded"
json_ok "len([p for c in d['claims'].values() for cell in c['cells'] for v, p in cell['pins']]) == 8 == len({p for c in d['claims'].values() for cell in c['cells'] for v, p in cell['pins']})" "8 CPUs, each promised once"
if ls "$TMP" | grep -q 'parallel.json.tmp-'; then not_ok "a temporary state file was left behind"; else ok "no temporary files left"; fi
finish
