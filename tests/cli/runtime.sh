#!/usr/bin/env bash
# tests/cli/runtime.sh - `numaplace observe`, `apply` and `balance` end to
# end on this machine: a real child process, libvirt's test driver for the
# domain paths, -- COMMAND, soft preferences and the balancer, and every
# kind of bad input (exit 2, one line, nothing changed).  Multi-node
# behaviour is tested on real NUMA kernels in tests/vm/runtime.sh.
. "$(dirname "$0")/lib.sh"

need runtime
need hwloc  # this machine's topology
py=/usr/bin/python3
json_ok() {  # json_ok "what" PYTHON-EXPR: the expression holds for d = JSON on stdout
  if "$py" -c "import json,sys; d=json.loads(open('$TMP/out').readline()); sys.exit(0 if ($2) else 1)" 2>/dev/null; then
    ok "$1"; else not_ok "$1"; fi
}

sleep infinity & child=$!  # alive until killed below or by the exit trap
run_dir="$TMP/run"
trap 'kill $child ${child2:-} 2>/dev/null; rm -rf "$TMP"' EXIT

# Help and usage.
for v in observe apply balance; do
  run "$v" --help; expect_rc 0 "$v --help"; expect_out "^usage: numaplace $v" "$v usage line"
done
run observe;                      expect_rc 2 "observe without a target"; expect_one_line_err "no target"
run observe --pid 1 --libvirt test:///default --domain test; expect_rc 2 "pid and domain both"
run observe --libvirt test:///default; expect_rc 2 "--libvirt without --domain"; expect_err "needs both" "says both"
run observe --pid abc;            expect_rc 2 "pid not a number"; expect_err "not 'abc'" "names the bad pid"
run observe --pid "$child" --format xml; expect_rc 2 "unknown format"
run observe --pid "$child" --interval 0; expect_rc 2 "--interval 0"
run apply --pid "$child";         expect_rc 2 "apply without a placement"; expect_err "--nodes LIST or --plan" "says what is missing"
run apply --pid "$child" --nodes 0 --plan x; expect_rc 2 "both --nodes and --plan"
run apply --pid "$child" --nodes 0 --affinity loose; expect_rc 2 "bad --affinity"
run apply --pid "$child" --nodes 0 --rate -5; expect_rc 2 "negative rate"
run apply --pid "$child" --nodes 0 --mem-policy maybe; expect_rc 2 "bad --mem-policy"
run apply --pid "$child" --nodes 0 --fallback maybe; expect_rc 2 "bad --fallback (the old name)"
run apply --pid "$child" --nodes 0 extra; expect_rc 2 "stray argument"
run balance;                      expect_rc 2 "balance needs --once or --interval"
run balance --once --interval 1;  expect_rc 2 "--once and --interval"
run balance --once --count 3;     expect_rc 2 "--count with --once"
run balance --interval 0;         expect_rc 2 "--interval 0"

# Observe a real process.
run observe --pid "$child"; expect_rc 0 "observe a child process"
expect_out "^process $child \(sleep\): 1 threads" "text header"
expect_out "^  $child +sleep " "its thread"
run observe --pid "$child" --format json; expect_rc 0 "observe --format json"
json_ok "JSON: pid, one thread with tid/cpu/node/allowed_cpus, memory per node, policy" \
  "d['pid'] == $child and len(d['threads']) == 1 and d['threads'][0]['tid'] == $child and d['threads'][0]['cpu'] >= 0 and d['threads'][0]['node'] is not None and d['threads'][0]['allowed_cpus'] and d['memory_known'] and sum(d['memory_mb'].values()) > 0 and d['policy'] == 'default'"
run observe --pid "$child" --format json --watch --interval 0.05 --count 3; expect_rc 0 "--watch --count 3"
if [ "$(wc -l <"$TMP/out")" -eq 3 ]; then ok "three JSON lines"; else not_ok "three JSON lines"; fi
run observe --pid 999999; expect_rc 2 "no such pid"; expect_one_line_err "no such pid"
expect_err "no such process 999999" "names the pid"

# Apply to a real process: dry run, hard, soft (recorded), bad nodes.
run apply --pid "$child" --nodes 0 --dry-run; expect_rc 0 "apply --dry-run"
expect_out "^would: thread $child \(sleep\): CPUs" "dry run says what it would do"
run apply --pid "$child" --nodes 7 --dry-run; expect_rc 2 "node the host lacks"; expect_one_line_err "missing node"
run apply --pid 999999 --nodes 0; expect_rc 2 "apply to no such pid"; expect_one_line_err "apply no such pid"
run apply --pid "$child" --nodes 0 --mem-policy strict; expect_rc 3 "memory policy of a running process"
expect_err "cannot set the memory policy of running process" "says why"
run apply --pid "$child" --nodes 0 --migrate --rate 100 --format json; expect_rc 0 "apply hard with migration"
json_ok "apply JSON: steps, moved_kb, seconds" "len(d['steps']) >= 2 and 'moved_kb' in d and 'seconds' in d"
run apply --pid "$child" --nodes 0 --affinity soft --run-dir "$run_dir"; expect_rc 0 "apply soft"
if grep -q '"nodes":\[0\]' "$run_dir/pid-$child.json" 2>/dev/null; then ok "soft preference recorded"; else not_ok "soft preference recorded"; fi
run observe --pid "$child" --diagnose --window 300 --run-dir "$run_dir" --format json; expect_rc 0 "observe --diagnose"
json_ok "diagnosis with advice (release order, fallback, I/O)" "'findings' in d and d['advice'] is not None and d['advice']['release_first']"
run apply --pid "$child" --nodes 0 --run-dir "$run_dir"; expect_rc 0 "hard apply again"
if [ ! -e "$run_dir/pid-$child.json" ]; then ok "hard apply drops the soft preference"; else not_ok "hard apply drops the soft preference"; fi

# Old names (0.1) still work for one release, with one line saying what to use.
old_name() { # OLD NEW ARGS...: numaplace ARGS (with OLD) works and says to use NEW
  local old=$1 new=$2; shift 2
  run "$@"; expect_rc 0 "$old (old name) still works"
  expect_one_line_err "$old (old name)"
  expect_err "^numaplace: warning: $old is an old name, use $new; it goes in the next release$" "$old: says to use $new"
}
old_name --policy --mem-policy apply --nodes 0 --policy strict --dry-run -- true
old_name --fallback "--mem-policy preferred \\(nearest\\) or strict \\(fail\\)" apply --nodes 0 --fallback nearest --dry-run -- true
expect_out "memory preferred on nodes 0$" "--fallback nearest is --mem-policy preferred"
old_name --every --interval observe --pid "$child" --every 0.05 --count 1 --watch
run apply --nodes 0 --fallback fail --mem-policy strict --dry-run -- true; expect_rc 2 "an old and a new name at once"
expect_err "give --mem-policy only once" "as one option given twice"
run help --options apply; expect_rc 0 "help --options apply"
if grep -Eq -- '^--(policy|fallback) ' "$TMP/out"; then not_ok "old names are not listed"; else ok "old names are not listed"; fi
run help --options observe
if grep -q -- '^--every ' "$TMP/out"; then not_ok "--every is not listed"; else ok "--every is not listed"; fi

# Dry runs name the nodes and CPUs.
cpus0=$(cat /sys/devices/system/node/node0/cpulist 2>/dev/null || echo "")
run apply --nodes 0 --mem-policy preferred --dry-run -- ./server; expect_rc 0 "-- COMMAND dry run"
expect_out "^would: run './server' on CPUs [0-9][-0-9,]* \\(nodes 0\\); memory preferred on nodes 0$" "says the CPUs and nodes"
[ -z "$cpus0" ] || expect_out "on CPUs $cpus0 " "the CPUs of node 0"
# More nodes than CPUs (memory-only nodes): the node list fits too (ASan would see it not).
printf '{"schema":"numaplace.topology/1","nodes":[%s,%s,%s,%s]}' '{"id":0,"cpus":[0],"memory_mb":{"total":1024}}' \
  '{"id":1,"cpus":[],"memory_mb":{"total":1024}}' '{"id":2,"cpus":[],"memory_mb":{"total":1024}}' \
  '{"id":3,"cpus":[],"memory_mb":{"total":1024}}' >"$TMP/memnodes.json"
run apply --json "$TMP/memnodes.json" --nodes 0,1,2,3 --mem-policy interleave --dry-run -- ./server
expect_rc 0 "dry run, more nodes than CPUs"
expect_out "^would: run './server' on CPUs 0 \\(nodes 0-3\\); memory interleave on nodes 0-3$" "names all four nodes"
run apply --nodes 0 --affinity soft --dry-run -- ./server
expect_out "^would: run './server' on every CPU, nodes 0 preferred \\(soft affinity" "soft: every CPU, the nodes preferred"

# -- COMMAND: the policy and affinity a new process starts with.
run apply --nodes 0 --mem-policy strict -- cat /proc/self/numa_maps; expect_rc 0 "apply -- COMMAND"
expect_out " bind:0 " "the command's memory is bound to node 0"
run apply --nodes 0 --mem-policy preferred -- grep Cpus_allowed_list /proc/self/status; expect_rc 0 "-- COMMAND affinity"
expect_out "Cpus_allowed_list:" "it ran"
run apply --nodes 0 -- /nonexistent/cmd; expect_rc 127 "a command that does not exist"
run apply --nodes 0 --migrate -- true; expect_rc 2 "--migrate with a hard -- COMMAND"
run apply --pid "$child" --nodes 0 -- true; expect_rc 2 "--pid with -- COMMAND"

# The balancer on this machine (one node: nothing to do, but it runs).
run apply --pid "$child" --nodes 0 --affinity soft --run-dir "$run_dir"; expect_rc 0 "soft again"
printf '{"params": {"stuck_ms": 200, "rescue_ms": 100}}\n' >"$TMP/pol.json"
run balance --once --run-dir "$run_dir" --policy "$TMP/pol.json"; expect_rc 0 "balance --once"
expect_out "^balance: 1 guests, 0 actions" "one guest, nothing to do on one node"
run balance --interval 0.1 --count 2 --dry-run --run-dir "$run_dir" --format json; expect_rc 0 "balance --interval --count"
printf '{"gusets": ["*"]}\n' >"$TMP/bad.json"
run balance --once --run-dir "$run_dir" --policy "$TMP/bad.json"; expect_rc 2 "policy with a typo"
expect_one_line_err "bad policy"; expect_err "unknown key 'gusets'" "names the key"
run balance --once --policy "$TMP/none.json"; expect_rc 2 "missing policy file"; expect_one_line_err "missing policy"
kill "$child"; wait "$child" 2>/dev/null
run balance --once --run-dir "$run_dir" --policy "$TMP/pol.json"; expect_rc 0 "balance after the process ended"
if [ ! -e "$run_dir/pid-$child.json" ]; then ok "a gone process's preference is removed"; else not_ok "a gone process's preference is removed"; fi

# libvirt's test driver: observe and apply a domain through libvirt's API.
if have libvirt; then
lv=(--libvirt test:///default --domain test)
run observe "${lv[@]}" --format json; expect_rc 0 "observe a libvirt domain"
json_ok "domain: 2 vCPUs, memory unknown, strict policy" \
  "d['kind'] == 'domain' and [t['vcpu'] for t in d['threads']] == [0, 1] and not d['memory_known'] and d['policy'].startswith('strict')"
run observe --libvirt test:///default --domain nosuch; expect_rc 2 "no such domain"
expect_one_line_err "no such domain"; expect_err "no domain 'nosuch'" "names the domain"
run observe --libvirt bogus:///x --domain test; expect_rc 3 "a libvirt URI nobody serves here"; expect_one_line_err "libvirt URI nobody serves"
run apply --libvirt bogus:///x --domain test --nodes 0 --dry-run; expect_rc 3 "apply: a libvirt URI nobody serves here"
run apply "${lv[@]}" --nodes 0 --dry-run; expect_rc 0 "apply to a domain, dry run"
expect_out "^would: domain test vCPU 1: pin to CPUs 0-7" "vCPU pin planned"
run apply "${lv[@]}" --nodes 1 --mem-policy interleave --affinity soft --dry-run --run-dir "$run_dir"
expect_out "^would: domain test vCPU 0: may run on every CPU, 0-15 \\(soft affinity: nodes 1 preferred\\)$" "soft: names every CPU and the nodes"
expect_out "^would: domain test: memory on nodes 1, mode interleave$" "the memory's nodes named"
run apply "${lv[@]}" --nodes 1 --io-threads --dry-run; expect_rc 0 "--io-threads, dry run"
expect_out "^would: domain test emulator threads: pin to CPUs 8-15 \\(nodes 1\\)$" "the emulator's CPUs named"
# A domain with a PCI device on node 0 (the host's JSON says where it is):
# its emulator goes to node 0's CPUs though the guest is placed on node 1.
"$NUMAPLACE" topology --libvirt test:///default --format json >"$TMP/lv-host.json"
python3 - "$TMP/lv-host.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["devices"] = [{"address": "0000:03:00.0", "vendor": "0x15b3", "device": "0x1017",
                 "class": "0x020000", "node": 0}]
json.dump(d, open(sys.argv[1], "w"))
PY
cat >"$TMP/lv-nic.xml" <<'XML'
<node><domain type='test'><name>nic</name><memory>1048576</memory><vcpu>2</vcpu>
<os><type>hvm</type></os><devices><hostdev mode='subsystem' type='pci' managed='yes'>
<source><address domain='0x0000' bus='0x03' slot='0x00' function='0x0'/></source>
</hostdev></devices></domain></node>
XML
run apply --json "$TMP/lv-host.json" --libvirt "test://$TMP/lv-nic.xml" --domain nic --nodes 1 --io-threads --dry-run
expect_rc 0 "--io-threads, a domain with a PCI device"
expect_out "^would: domain nic emulator threads: pin to CPUs 0-7 \\(nodes 0, its PCI devices'\\)$" "the emulator near its device, not on the guest's node"
run apply "${lv[@]}" --nodes 0 --mem-policy interleave; expect_rc 0 "apply to a domain"
expect_out "^domain test: memory on nodes 0, mode interleave$" "NUMA parameters set"
run apply "${lv[@]}" --nodes 0 --affinity soft --run-dir "$run_dir"; expect_rc 0 "soft affinity for a domain"
if grep -q '"kind":"domain"' "$run_dir/domain-test.json" 2>/dev/null; then ok "domain preference recorded"; else not_ok "domain preference recorded"; fi
run apply "${lv[@]}" --nodes 5; expect_rc 2 "domain: node the host lacks"
else
  run observe --libvirt test:///default --domain test; expect_rc 3 "a domain without libvirt"
  expect_one_line_err "a domain without libvirt"
fi

# Plans: one made here is carried out; one made for another host is refused.
run place --flavor 'vcpus=1,ram=64' --format json; expect_rc 0 "a plan for this host"
cp "$TMP/out" "$TMP/here.json"
sleep infinity & child2=$!
run apply --pid "$child2" --plan "$TMP/here.json" --dry-run; expect_rc 0 "apply --plan --dry-run"
expect_out "^would: thread $child2 \(sleep\): CPUs" "the plan's nodes are used"
kill "$child2"
root=$(fixture 64amd64-4s2n4ca2co)
"$NUMAPLACE" place --sysfs "$root" --flavor 'vcpus=4,ram=1024,hw:numa_nodes=2' --format json \
  >"$TMP/plan.json" 2>"$TMP/plan.err"
run apply --pid $$ --plan "$TMP/plan.json" --dry-run; expect_rc 2 "a plan for another host"
expect_one_line_err "plan for another host"; expect_err "not in the host topology" "says the plan names a node this host lacks"
run apply --pid $$ --plan "$TMP/nope.json"; expect_rc 2 "missing plan file"
printf '{"schema": "numaplace.plan/1", "fits": tru' >"$TMP/broken.json"
run apply --pid $$ --plan "$TMP/broken.json"; expect_rc 2 "broken plan"; expect_one_line_err "broken plan"

finish
