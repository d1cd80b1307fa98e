#!/usr/bin/env bash
# tests/cli/hostile-inputs.sh - the sweep of bad input over the verbs' file
# inputs and arguments that special-files.sh (what is not a regular file)
# and hostile.sh (outputs, the run directory) leave out: NUL bytes, broken
# UTF-8, nesting deeper than any parser goes, numbers out of range,
# duplicate keys, empty and cut documents, and arguments holding a newline
# or an escape sequence.  Each must end in exit 2 with one line on stderr
# (lib.sh's expect_one_line_err), never a crash, a hang or a second line.
# The table of what each input answers is in the commit that added it.
. "$(dirname "$0")/lib.sh"

host="$NP_SRC/tests/data/json/full.json"
S="$TMP/hi"
mkdir -p "$S"
flavor=(--flavor 'vcpus=1,ram=64')

# bad WHAT ARGS...: exit 2 within a minute, one "numaplace: ..." line.
bad() {
  local what=$1; shift
  run_within 60 "$@"
  if [ "$rc" -eq 124 ]; then not_ok "$what: hangs"; return; fi
  expect_rc 2 "$what"
  expect_one_line_err "$what"
}
# shown WHAT: the last error shows a control byte as \xNN, never as itself.
shown() {
  if grep -q $'\x1b' "$TMP/err"; then not_ok "$1: an escape byte reached stderr"
  elif grep -qF '\x0a' "$TMP/err" && grep -qF '\x1b' "$TMP/err"; then ok "$1: shown as \\xNN"
  else not_ok "$1: the quoted text is not shown as \\xNN"; fi
}

# ---- arguments quoted in a message stay on its one line ----
evil=$'x\ny\x1b[31m'
if have runtime; then
  bad "apply --nodes with a newline" apply --pid $$ --json "$host" --nodes "$evil" --dry-run
  shown "apply --nodes"
  bad "observe --nodes with a newline" observe --pid $$ --json "$host" --nodes "$evil"
  shown "observe --nodes"
fi
if have sim; then
  bad "simulate --set with a newline" simulate lpc2012 --set "$evil"; shown "simulate --set"
  bad "simulate --show with a newline" simulate --show "$evil"; shown "simulate --show"
fi
if have agent; then
  bad "agent --map with a newline" agent --server unix:"$S/none.sock" --once --name h1 \
    --json "$host" --map "$evil"
  shown "agent --map"
fi
if have sqlite; then
  "$NUMAPLACE" fleet add --store "sqlite:$S/fleet.db" --name h1 --json "$host" >/dev/null 2>&1
  bad "fleet show --name with a newline" fleet show --store "sqlite:$S/fleet.db" --name "$evil"
  shown "fleet show --name"
fi
mkdir -p "$S/$evil"
run topology --json "$host" -o "$S/$evil/missing/out"; expect_rc 1 "-o in a missing directory"
expect_one_line_err "-o a path with a newline"; shown "-o a path with a newline"

# ---- duplicate keys: refused by every JSON reader, the Nova case too ----
case3="$NP_SRC/tests/data/nova/distances-3cells.json"
run place --case "$case3"; expect_rc 0 "the Nova case as it is"
python3 - "$case3" >"$S/dup-case.json" <<'PY'
import sys
text = open(sys.argv[1]).read()
# The request's vcpus once more, first: Python's reader keeps the last.
i = text.index('"request"')
j = text.index('{', i) + 1
print(text[:j] + ' "vcpus": 9999, ' + text[j:])
PY
bad "place --case with a key twice" place --case "$S/dup-case.json"
expect_err "duplicate object key" "says the key is given twice"

# ---- documents: each reader, given its good file with a NUL byte ----
# A good document per input, and a command line reading it from FILE
# (the word FILE is replaced).  Each is checked as it is first (exit 0).
"$NUMAPLACE" claim --state "$S/good.state" --id vm-1 --json "$host" "${flavor[@]}" >/dev/null
"$NUMAPLACE" place --json "$host" "${flavor[@]}" --format json >"$S/plan.json"
declare -A doc_good=(
  [topology]="$host"
  [state]="$S/good.state"
  [request]="$NP_SRC/tests/data/request/floating.json"
  [case]="$case3"
  [flavors]="$NP_SRC/tests/data/json/flavors.json"
  [domain]="$NP_SRC/tests/data/libvirt/domain-test.xml"
  [xlcfg]="$NP_SRC/tests/data/xl/guest-minimal.cfg"
  [libvirt]="$NP_SRC/tests/data/libvirt/host-4cell.xml"
)
declare -A doc_cmd=(
  [topology]="topology --json FILE"
  [state]="state show --json $host --state FILE"
  [request]="place --json $host --request FILE"
  [case]="place --case FILE"
  [flavors]="place --json $host ${flavor[*]} --flavors FILE"
  [domain]="place --json $host --domain-xml FILE"
  [xlcfg]="place --json $host --xl-config FILE"
  [libvirt]="topology --libvirt-xml FILE"
)
have xml || unset 'doc_good[domain]' 'doc_good[libvirt]'
if have runtime; then
  doc_good[plan]="$S/plan.json"; doc_cmd[plan]="apply --pid $$ --json $host --dry-run --plan FILE"
  doc_good[policy]="$NP_SRC/tests/data/runtime/balance-policy.json"
  mkdir -p "$S/run" && chmod 755 "$S/run"
  doc_cmd[policy]="balance --once --dry-run --run-dir $S/run --json $host --policy FILE"
fi
if have sim; then
  "$NUMAPLACE" simulate --show lpc2012 >"$S/exp.json"
  doc_good[experiment]="$S/exp.json"
  doc_cmd[experiment]="simulate FILE --set duration_s=1 --set repetitions=1 --set guest_counts=2"
fi
# doc_run NAME FILE: NAME's command line on FILE (a fresh copy of a state).
doc_run() {
  local cmd=${doc_cmd[$1]}
  # shellcheck disable=SC2086 # the command lines are split on purpose
  run_within 60 ${cmd//FILE/$2}
}
for d in "${!doc_good[@]}"; do
  doc_run "$d" "${doc_good[$d]}"; expect_rc 0 "$d: the good document"
  # A NUL in the middle (at a line's end) and one at the end.
  python3 - "${doc_good[$d]}" "$S/nul-mid" "$S/nul-end" <<'PY'
import sys
good = open(sys.argv[1], "rb").read()
mid = good.find(b"\n", len(good) // 2)
open(sys.argv[2], "wb").write(good[:mid] + b"\0" + good[mid:])
open(sys.argv[3], "wb").write(good + b"\0")
PY
  for where in mid end; do
    doc_run "$d" "$S/nul-$where"
    expect_rc 2 "$d: a NUL byte at the $where"; expect_one_line_err "$d: a NUL at the $where"
    expect_err "NUL byte" "$d: says it is a NUL byte"
  done
done

finish
