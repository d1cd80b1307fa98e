#!/usr/bin/env bash
# tests/cli/watch.sh - `numaplace watch` end to end on libvirt's test
# driver: a test:///FILE host with 20 running domains (its own driver in
# this process) reconciled at once (--once, --until-idle), every domain
# claimed, the claims never over a node (the state read back onto the host
# by `state show`, and summed per node here), applied again on a second
# run, a stale claim released, a dry run claiming nothing, dedicated CPUs
# pinned, too many domains refused rather than squeezed in, and bad usage.
#
# The test driver's own host file has no NUMA cells, so the topology is
# the 4-cell capabilities of tests/data/libvirt/host-4cell.xml (a second
# source beside --libvirt).  Domains started while watching, at once from
# other threads, are tests/unit/test-watch.c's (one process shares one
# test:///default).
. "$(dirname "$0")/lib.sh"

need runtime
need libvirt
caps=(--libvirt-xml "$NP_SRC/tests/data/libvirt/host-4cell.xml")
py=/usr/bin/python3

# node_xml FILE COUNT MIB: a test driver host with COUNT running domains of 2 vCPUs, MIB MiB.
node_xml() {
  {
    echo "<node><cpu><mhz>2000</mhz><model>x86_64</model><nodes>4</nodes><sockets>2</sockets>"
    echo "<cores>8</cores><threads>2</threads><active>32</active></cpu><memory>117440512</memory>"
    for i in $(seq -w 1 "$2"); do
      echo "<domain type='test'><name>vm$i</name><memory unit='MiB'>$3</memory><vcpu>2</vcpu>"
      echo "<os><type>hvm</type></os></domain>"
    done
    echo "</node>"
  } >"$1"
}
# per_node STATE: every node's claimed MiB within its memory (host-4cell: 32, 32, 32, 16 GiB).
per_node() {
  "$py" - "$1" <<'EOF'
import json, sys
cap = {0: 32768, 1: 32768, 2: 32768, 3: 16384}
used = {}
for plan in json.load(open(sys.argv[1]))["claims"].values():
    for c in plan["cells"]:
        used[c["node"]] = used.get(c["node"], 0) + c["memory_mb"]
sys.exit(0 if all(used[n] <= cap[n] for n in used) else 1)
EOF
}
count_claims() { "$py" -c "import json,sys; print(len(json.load(open(sys.argv[1]))['claims']))" "$1"; }

node_xml "$TMP/node.xml" 20 2048
uri="test://$TMP/node.xml"
st="$TMP/host.state"
run watch --help; expect_rc 0 "watch --help"; expect_out "^usage: numaplace watch" "usage line"

run_within 60 watch --libvirt "$uri" "${caps[@]}" --state "$st" --once --run-dir "$TMP/run"
expect_rc 0 "20 running domains reconciled"
expect_out "^watch: 20 domains placed, 0 not" "every domain placed"
[ "$(count_claims "$st")" = 20 ] && ok "20 claims" || not_ok "20 claims: $(count_claims "$st")"
per_node "$st" && ok "no node over its memory" || not_ok "no node over its memory"
run state show --state "$st" "${caps[@]}"; expect_rc 0 "the claims charge onto the host"
expect_out "^  domain:vm20 +node [0-3]: 2\.0 GiB, 2 vCPUs floating" "a domain's claim"

# Again: claims kept and applied again, nothing new; JSON log.
cp "$st" "$TMP/before"
run_within 60 watch --libvirt "$uri" "${caps[@]}" --state "$st" --once --run-dir "$TMP/run" --format json
expect_rc 0 "second run"
lines_json() {
  if "$py" -c "import json,sys; L=[json.loads(l) for l in open('$TMP/out')]; sys.exit(0 if ($2) else 1)" 2>/dev/null; then
    ok "$1"; else not_ok "$1"; fi
}
lines_json "20 JSON records, each kept" \
  "len(L) == 20 and all(r['event'] == 'kept' and r['domain'].startswith('vm') and 'node' in r['detail'] for r in L)"
cmp -s "$st" "$TMP/before" && ok "state unchanged" || not_ok "state unchanged"

# Ten domains gone: their claims are released at the next start.
node_xml "$TMP/node.xml" 10 2048
run_within 60 watch --libvirt "$uri" "${caps[@]}" --state "$st" --until-idle 0.5 --run-dir "$TMP/run"
expect_rc 0 "--until-idle"
[ "$(grep -c ': released: ' "$TMP/out")" = 10 ] && ok "10 stale claims released" ||
  not_ok "10 stale claims released: $(grep -c ': released: ' "$TMP/out")"
[ "$(count_claims "$st")" = 10 ] && ok "10 claims left" || not_ok "10 claims left"

# A dry run claims nothing; dedicated CPUs are pinned, one CPU each.
run watch --libvirt "$uri" "${caps[@]}" --state "$TMP/dry.state" --once --dry-run
expect_rc 0 "dry run"; expect_out "dry run: nothing claimed" "says so"
[ ! -e "$TMP/dry.state" ] && ok "no state written" || not_ok "no state written"
run watch --libvirt "$uri" "${caps[@]}" --state "$TMP/ded.state" --once \
  --extra-specs 'hw:cpu_policy=dedicated' --run-dir "$TMP/run"
expect_rc 0 "dedicated CPUs"; expect_out "vCPUs pinned to CPUs [0-9]+,[0-9]+$" "two vCPUs pinned"
run state show --state "$TMP/ded.state" "${caps[@]}"; expect_rc 0 "dedicated claims charge onto the host"
expect_out "^  domain:vm[0-9]+ +node [0-3]: [0-9.]+ GiB, 2 vCPUs pinned to CPUs" "claims pin"

# Too many: 20 domains of 8 GiB on 112 GiB of nodes (4 + 4 + 4 + 2 fit): refused, not squeezed.
node_xml "$TMP/big.xml" 20 8192
run_within 60 watch --libvirt "test://$TMP/big.xml" "${caps[@]}" --state "$TMP/big.state" --once --run-dir "$TMP/run"
expect_rc 1 "some domains do not fit"
expect_out "^watch: 14 domains placed, 6 not" "14 placed, 6 refused"
expect_out ": no-fit: 2 vCPUs, 8192 MiB: " "a refusal says what was asked"
per_node "$TMP/big.state" && ok "still no node over its memory" || not_ok "still no node over its memory"

# Without --once it watches until SIGTERM, then ends cleanly (exit 0, the summary line).
"$NUMAPLACE" watch --libvirt test:///default --state "$TMP/sig.state" --run-dir "$TMP/run" \
  >"$TMP/sig.out" 2>&1 &
wpid=$!
for _ in $(seq 600); do grep -q ': placed: ' "$TMP/sig.out" && break; sleep 0.1; done
kill -TERM "$wpid"; wait "$wpid"; rc=$?
expect_rc 0 "watch stopped by SIGTERM"
if tail -n1 "$TMP/sig.out" | grep -q '^watch: 1 domains placed, 0 not'; then ok "it says what it did"; else not_ok "SIGTERM summary: $(cat "$TMP/sig.out")"; fi

# Bad usage and input: exit 2, one line.
run watch --libvirt "$uri" --once; expect_rc 2 "no --state"; expect_one_line_err "no --state"
run watch --state "$st" --once; expect_rc 2 "no --libvirt"; expect_one_line_err "no --libvirt"
run watch --libvirt "$uri" --state "$st" --once --until-idle 1; expect_rc 2 "--once and --until-idle"
run watch --libvirt "$uri" "${caps[@]}" --state "$st" --once --extra-specs 'hw:cpu_policy=bogus'
expect_rc 2 "bad extra specs"; expect_one_line_err "bad extra specs"; expect_err "hw:cpu_policy" "names the spec"
printf 'not json' >"$TMP/bad.state"
run watch --libvirt "$uri" "${caps[@]}" --state "$TMP/bad.state" --once
expect_rc 2 "a broken state file"; expect_one_line_err "broken state"; expect_err "bad.state" "names the file"
run watch --libvirt bogus:///nothing "${caps[@]}" --state "$st" --once
if [ "$rc" -ne 0 ]; then ok "a URI libvirt cannot open fails (exit $rc)"; else not_ok "bogus URI"; fi
expect_one_line_err "bogus URI"
finish
