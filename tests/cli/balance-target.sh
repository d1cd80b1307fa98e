#!/usr/bin/env bash
# tests/cli/balance-target.sh - `numaplace balance` aimed at one guest
# (--pid, --libvirt URI --domain NAME) or at every recorded one, and its
# JSON log, whose last line is a summary record even when nothing was done
# (what a service's journal shows for each run).
. "$(dirname "$0")/lib.sh"

need runtime
need hwloc  # this machine's topology
py=/usr/bin/python3
# last_json "what" PYTHON-EXPR: the expression holds for d = the last line of stdout.
last_json() {
  if "$py" -c "import json,sys; d=json.loads(open('$TMP/out').read().splitlines()[-1]); sys.exit(0 if ($2) else 1)" 2>/dev/null; then
    ok "$1"; else not_ok "$1"; fi
}
# lines_json "what" PYTHON-EXPR: the expression holds for L = every line of stdout as JSON.
lines_json() {
  if "$py" -c "import json,sys; L=[json.loads(l) for l in open('$TMP/out')]; sys.exit(0 if ($2) else 1)" 2>/dev/null; then
    ok "$1"; else not_ok "$1"; fi
}

sleep infinity & a=$!  # both alive until the exit trap, however slow the run
sleep infinity & b=$!
run_dir="$TMP/run"
trap 'kill $a $b 2>/dev/null; rm -rf "$TMP"' EXIT
printf '{"params": {"stuck_ms": 200, "rescue_ms": 100}}\n' >"$TMP/pol.json"
fast=(--run-dir "$run_dir" --policy "$TMP/pol.json")

# Nothing recorded: still a summary record, naming the target.
run balance --once "${fast[@]}" --format json; expect_rc 0 "every guest, none recorded"
last_json "JSON summary when nothing was done" \
  "d['action'] == 'summary' and d['target'] == '*' and d['guests'] == 0 and d['actions'] == 0 and d['dry_run'] is False"
run balance --once "${fast[@]}" --pid "$a" --format json --dry-run; expect_rc 0 "--pid without a preference"
lines_json "a skip saying it has no preference, then the summary" \
  "L[0]['action'] == 'skip' and L[0]['guest'] == 'pid:$a' and 'no soft preference' in L[0]['reason'] and L[-1]['action'] == 'summary' and L[-1]['target'] == 'pid:$a' and L[-1]['dry_run'] is True"
run balance --once "${fast[@]}" --pid "$a"; expect_rc 0 "--pid, text"
expect_out "^balance: 0 guests, 0 actions" "text summary"

# Two recorded guests: the default looks at both, --pid at one.
run apply --pid "$a" --nodes 0 --affinity soft --run-dir "$run_dir"; expect_rc 0 "soft preference for a"
run apply --pid "$b" --nodes 0 --affinity soft --run-dir "$run_dir"; expect_rc 0 "soft preference for b"
run balance --once "${fast[@]}" --format json; expect_rc 0 "every recorded guest"
last_json "both guests looked at" "d['guests'] == 2 and d['target'] == '*'"
run balance --once "${fast[@]}" --pid "$b" --format json; expect_rc 0 "balance --once --pid"
last_json "only the one --pid names" "d['guests'] == 1 and d['target'] == 'pid:$b'"
if ! grep -q "pid:$a" "$TMP/out"; then ok "the other guest is not named"; else not_ok "the other guest is not named"; fi
run balance --interval 0.1 --count 2 "${fast[@]}" --pid "$a" --format json
expect_rc 0 "--interval with --pid"
last_json "one summary after the rounds" "d['action'] == 'summary' and d['guests'] == 1"

# Bad targets: exit 2, one line.
run balance --once "${fast[@]}" --pid 2147483600; expect_rc 2 "--pid of no process"
expect_one_line_err "no process"; expect_err "no process 2147483600" "names the pid"
run balance --once "${fast[@]}" --domain test; expect_rc 2 "--domain without --libvirt"
expect_one_line_err "--domain without --libvirt"
run balance --once "${fast[@]}" --pid "$a" --libvirt test:///default --domain test
expect_rc 2 "--pid and --domain both"
run balance --once "${fast[@]}" --pid 0; expect_rc 2 "--pid 0"

# A domain: only that one, through libvirt's test driver.
if have libvirt; then
  run balance --once "${fast[@]}" --libvirt test:///default --domain test --format json
  expect_rc 0 "balance --once --domain"
  lines_json "the domain has no preference: a skip, then the summary" \
    "L[0]['guest'] == 'domain:test' and L[0]['action'] == 'skip' and L[-1]['target'] == 'domain:test' and L[-1]['guests'] == 0"
  run apply --libvirt test:///default --domain test --nodes 0 --affinity soft --run-dir "$run_dir"
  expect_rc 0 "soft preference for the domain"
  run balance --once "${fast[@]}" --pid "$a" --format json; expect_rc 0 "--pid leaves the domain alone"
  if ! grep -q "domain:test" "$TMP/out"; then ok "the domain is not named"; else not_ok "the domain is not named"; fi
fi

finish
