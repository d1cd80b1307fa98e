#!/usr/bin/env bash
# tests/cli/special-files.sh - every file a verb reads, given as what is not
# a regular file: a FIFO nobody writes to, a directory, a character device
# (/dev/zero), a symbolic link to a FIFO, a missing file.  Each must end in
# exit 2 within seconds with one line on stderr naming the path - never a
# hang, never memory filled from /dev/zero.  The options come from the
# verbs' own tables (`numaplace help --options VERB`), so a file option
# added later is tested here without a line more, or fails for want of a
# working command line to put it in.  Then "-": standard input (a pipe is
# fine there) and standard output.
. "$(dirname "$0")/lib.sh"

host="$NP_SRC/tests/data/json/full.json" # 2 nodes, node 0 and 1
S="$TMP/sp"
mkdir -p "$S/dir" "$S/run"
mkfifo "$S/fifo" && ln -s fifo "$S/link" || { echo "cannot make a FIFO here"; exit 77; }
# The target of observe/apply: alive until the exit trap, however long the
# test takes (a `sleep 120` had exited in a 208-316 s ASan run under load).
sleep infinity & child=$!
trap 'kill $child 2>/dev/null; rm -rf "$TMP"' EXIT
flavor=(--flavor 'vcpus=1,ram=64')
short_sim=(--set duration_s=1 --set repetitions=1 --set guest_counts=2)
verbs=$("$NUMAPLACE" help | sed -n 's/^  \([a-z][a-z-]*\)  .*/\1/p')

# A command line that works for VERB, into which a file option is put.
declare -A verb_base=(
  [topology]="topology"
  [place]="place ${flavor[*]}"
  [claim]="claim --state $S/ok.state --id vm-1 ${flavor[*]}"
  [release]="release --id vm-1"
  [state]="state show --state $S/ok.state"
  [observe]="observe --pid $child"
  [apply]="apply --pid $child --nodes 0 --dry-run"
  [balance]="balance --once --run-dir $S/run"
  [watch]="watch --libvirt test:///default --state $S/watch.state --once --run-dir $S/run"
  [simulate]="simulate lpc2012 ${short_sim[*]}"
  [gen]="gen small --guests 2"
  [fleet]="fleet add --store sqlite:$S/fleet.db --name h1"
  [schedule]="schedule --store sqlite:$S/fleet.db --id vm-1 ${flavor[*]}"
  [agent]="agent --server unix:$S/no-service.sock --once --name h1"
)
# Where an option needs another command line than its verb's.
declare -A opt_base=(
  [place --request]="place --json $host"
  [place --case]="place"
  [claim --request]="claim --state $S/ok.state --id vm-1 --json $host"
  [claim --state]="claim --id vm-1 --json $host ${flavor[*]}"
  [place --state]="place --json $host ${flavor[*]}"
  [state --state]="state show"
  [topology --state]="topology --json $host"
  [apply --plan]="apply --pid $child --json $host --dry-run"
  [watch --state]="watch --libvirt test:///default --once --run-dir $S/run"
)
# A missing state file is an empty one (claims start from nothing).
declare -A missing_ok=([--state]=1)

kinds="fifo dir chr link missing"
path_of() {
  case $1 in
    fifo) echo "$S/fifo" ;; dir) echo "$S/dir" ;; chr) echo /dev/zero ;;
    link) echo "$S/link" ;; missing) echo "$S/missing" ;;
  esac
}

# refused WHAT PATH CMD...: CMD exits 2 at once, one line naming PATH.
refused() {
  local what=$1 path=$2; shift 2
  run_within 60 "$@"  # a hang guard: 10 s was close for a sanitizer build under load
  if [ "$rc" -eq 124 ]; then not_ok "$what: hangs"; return; fi
  expect_rc 2 "$what"
  expect_one_line_err "$what"
  if grep -qF -- "$path" "$TMP/err"; then ok "$what: names '$path'"; else not_ok "$what: does not name '$path'"; fi
}

# The feature this build lacks for source option NAME on a path of KIND:
# such a run must say so (exit 3) before it looks at the path.
lacks() {
  case $1 in
    --sysfs|--hwloc-xml) have hwloc || echo hwloc ;;
    --libvirt-xml) have xml || echo libxml2 ;;
    --host) if [ "$2" = dir ] && ! have hwloc; then echo hwloc; fi ;;
  esac
}

# unsupported WHAT FEATURE CMD...: CMD exits 3 at once, one line naming FEATURE.
unsupported() {
  local what=$1 feature=$2; shift 2
  run_within 60 "$@"  # a hang guard: 10 s was close for a sanitizer build under load
  expect_rc 3 "$what"; expect_one_line_err "$what"
  expect_err "no $feature support" "$what: says $feature is missing"
}

tested=0
for verb in $verbs; do
  while read -r name letter type count; do
    case $type in input|file|dir) ;; *) continue ;; esac
    base=${opt_base["$verb $name"]:-${verb_base[$verb]:-}}
    if [ -z "$base" ]; then not_ok "no command line to test $verb $name with"; continue; fi
    for kind in $kinds; do
      p=$(path_of "$kind")
      # shellcheck disable=SC2086 # the base command lines are split on purpose
      if [ "$name" = --run-dir ]; then
        # The run directory is the library's to read; only a hang is wrong.
        run_within 60 $base "$name" "$p"
        if [ "$rc" -ne 124 ]; then ok "$verb $name $kind: no hang"; else not_ok "$verb $name $kind: hangs"; fi
      elif [ -n "$(lacks "$name" "$kind")" ]; then
        unsupported "$verb $name $kind" "$(lacks "$name" "$kind")" $base "$name" "$p"
      elif [ "$kind" = missing ] && [ -n "${missing_ok[$name]:-}" ]; then
        run_within 60 $base "$name" "$p"
        if [ "$rc" -ne 2 ] && [ "$rc" -ne 124 ]; then ok "$verb $name missing: fine"; else not_ok "$verb $name missing: rc $rc"; fi
        rm -f "$p" "$p.lock"
      else
        refused "$verb $name $kind" "$p" $base "$name" "$p"
      fi
      tested=$((tested + 1))
    done
  done < <("$NUMAPLACE" help --options "$verb")
done
# Every verb that reads a host has the source options: a floor on what ran
# (200 with all nine verbs; a build without the runtime or the simulator has fewer).
floor=$((200 * $(wc -w <<<"$verbs") / 9))
if [ "$tested" -ge "$floor" ]; then ok "$tested file options x kinds tested"; else not_ok "only $tested tested"; fi

# Operands and spellings that name files without a file option.
for kind in $kinds; do
  p=$(path_of "$kind")
  if have sim; then refused "simulate EXPERIMENT $kind" "$p" simulate "$p"; fi
  refused "topology --source json:PATH $kind" "$p" topology --source "json:$p"
  if have hwloc; then
    refused "topology --source hwloc-xml:PATH $kind" "$p" topology --source "hwloc-xml:$p"
  else
    unsupported "topology --source hwloc-xml:PATH $kind" hwloc topology --source "hwloc-xml:$p"
  fi
done

# The state's lock file: never a FIFO, never followed through a link.
st="$S/locked.state"
mkfifo "$st.lock"
for cmd in "claim --state $st --id vm-1 --json $host ${flavor[*]}" "release --state $st --id vm-1" \
           "state show --state $st" "place --state $st --json $host ${flavor[*]}"; do
  # shellcheck disable=SC2086
  refused "lock FIFO: ${cmd%% *}" "$st.lock" $cmd
done
rm -f "$st.lock"; ln -s "$S/elsewhere" "$st.lock"
# shellcheck disable=SC2086
refused "lock link: claim" "$st.lock" claim --state "$st" --id vm-1 --json "$host" "${flavor[@]}"
if [ ! -e "$S/elsewhere" ] && [ ! -e "$st" ]; then ok "nothing written through the link"; else not_ok "written through the link"; fi
rm -f "$st.lock"

# A sqlite: store's lock file (PATH-nplock, lib/fleet/store-lock.c) and its
# change ring (PATH-npring, made with it): a FIFO, a folder or a link is
# refused, nothing written through the link.
# store_file_refused STORE FILE WHAT: FILE made hostile three ways, each refused.
store_file_refused() {
  local sq=$1 file=$2 what=$3 kind
  for kind in fifo dir link; do
    rm -rf "$file"
    case $kind in fifo) mkfifo "$file" ;; dir) mkdir "$file" ;; link) ln -s "$file-elsewhere" "$file" ;; esac
    refused "store $what $kind: fleet list" "$file" fleet list --store "sqlite:$sq"
  done
  if [ ! -e "$file-elsewhere" ]; then ok "nothing written through the store's $what link"; else not_ok "written through the store's $what link"; fi
  rm -rf "$file"
}
if have sqlite; then
  sq="$S/lk.db"
  "$NUMAPLACE" fleet add --store "sqlite:$sq" --name h1 --json "$host" >/dev/null 2>&1
  store_file_refused "$sq" "$sq-nplock" lock
  run fleet add --store "sqlite:$sq" --name h0 --json "$host"; expect_rc 0 "fleet add makes the lock and the ring"
  if [ -f "$sq-npring" ]; then ok "the change ring's file is made"; else not_ok "no '$sq-npring' after fleet add"; fi
  store_file_refused "$sq" "$sq-npring" "change ring"
  rm -rf "$sq-nplock"
  run fleet list --store "sqlite:$sq"; expect_rc 0 "the store opens once its lock file is gone"
  # Verbs that only read do not make the lock file; the first write does.
  run fleet show --store "sqlite:$sq" --name h1; expect_rc 0 "fleet show without a lock file"
  run fleet check --store "sqlite:$sq"; expect_rc 0 "fleet check without a lock file"
  if [ ! -e "$sq-nplock" ]; then ok "list, show and check made no lock file"
  else not_ok "a verb that only reads made '$sq-nplock'"; fi
  run fleet add --store "sqlite:$sq" --name h2 --json "$host"; expect_rc 0 "fleet add"
  if [ -f "$sq-nplock" ]; then ok "the first write made the lock file"; else not_ok "no lock file after fleet add"; fi
fi

# "-" is standard input: a file or a pipe.
run_stdin "$host" topology --json -; expect_rc 0 "--json -"; expect_out "^host: 2 nodes" "reads the host from stdin"
run_stdin "$host" topology --host -; expect_rc 0 "--host -"
if have xml; then
  run_stdin "$NP_SRC/tests/data/libvirt/host-4cell.xml" topology --libvirt-xml -; expect_rc 0 "--libvirt-xml -"
fi
run_stdin "$host" topology --source json:-; expect_rc 0 "--source json:-"
if "$NUMAPLACE" topology --json - --format json <"$host" | "$NUMAPLACE" topology --json - >"$TMP/out" 2>"$TMP/err"
then ok "--json - from a pipe"; else not_ok "--json - from a pipe: $(cat "$TMP/err")"; fi
run_stdin "$NP_SRC/tests/data/request/floating.json" place --json "$host" --request -
expect_rc 0 "place --request -"; expect_out "node" "places the request read from stdin"
"$NUMAPLACE" place --json "$host" "${flavor[@]}" --format json >"$TMP/plan.json"
run_stdin "$TMP/plan.json" place --json "$host" --request - ; expect_rc 2 "a plan is not a request"
expect_one_line_err "a plan is not a request"; expect_err "<stdin>" "names standard input"
cat >"$TMP/case.json" <<'EOF'
{"host": {"cells": [{"id": 0, "cpus": [0, 1, 2, 3], "memory_mb": 4096}]},
 "request": {"vcpus": 2, "memory_mb": 1024}}
EOF
run_stdin "$TMP/case.json" place --case -; expect_rc 0 "place --case -"
if have runtime; then
  run_stdin "$TMP/plan.json" apply --pid "$child" --json "$host" --plan - --dry-run
  if [ "$rc" -ne 124 ] && ! grep -q "cannot read" "$TMP/err"; then ok "apply --plan - reads stdin"; else not_ok "apply --plan -"; fi
fi
if have sim; then
  "$NUMAPLACE" simulate --show lpc2012 >"$TMP/lpc.json"
  run_stdin "$TMP/lpc.json" simulate - "${short_sim[@]}"; expect_rc 0 "simulate -"
  expect_out "lpc2012" "runs the experiment read from stdin"
fi
printf '[' | "$NUMAPLACE" topology --json - >"$TMP/out" 2>"$TMP/err"; rc=$?
expect_rc 2 "broken JSON from a pipe"; expect_err "<stdin>" "names standard input"

# Files that take no "-": refused as a usage error.
if have runtime; then
  run balance --once --policy -; expect_rc 2 "--policy -"; expect_err "needs a file" "says so"
fi
run claim --state - --id x "${flavor[@]}"; expect_rc 2 "--state -"; expect_one_line_err "--state -"

# Size: over the cap is bad input, refused before reading; out of memory
# is exit 1 (operation failed), never 2.  Sparse files: no disk is used.
truncate -s 300M "$S/huge" && truncate -s 200M "$S/big"
run place --json "$host" --request "$S/huge"; expect_rc 2 "a request over the size cap"
expect_err "larger than" "says it is too large"; expect_one_line_err "too large"
if ldd "$NUMAPLACE" 2>/dev/null | grep -q libasan; then
  echo "skip: out of memory under AddressSanitizer (it needs the address space)"
else
  (ulimit -v 150000; exec "$NUMAPLACE" place --json "$host" --request "$S/big") >"$TMP/out" 2>"$TMP/err"
  rc=$?; expect_rc 1 "out of memory reading a file"; expect_err "out of memory" "says so"
fi
rm -f "$S/huge" "$S/big"

# "-o -" and "--output -" are standard output.
run topology --json "$host" -o -; expect_rc 0 "topology -o -"; expect_out "^host: 2 nodes" "-o - writes stdout"
run topology --json "$host" --output - --format json; expect_rc 0 "topology --output -"
expect_out "numaplace.topology/1" "--output - writes stdout"
[ ! -e ./- ] && ok "no file named -" || not_ok "a file named - was written"
if have sim; then
  run simulate lpc2012 "${short_sim[@]}" --format json -o -; expect_rc 0 "simulate -o -"
  expect_out '"experiment"' "simulate -o - writes stdout"
fi
run gen --seed 1 --guests 2 -o -; expect_rc 0 "gen -o -"; expect_out '"numaplace.workload/1"' "gen -o - writes stdout"
if have runtime; then
  mkdir -p "$S/run"
  run balance --interval 0.1 --count 1 --run-dir "$S/run" --log -; expect_rc 0 "balance --log -"
  expect_out "^balance: 0 guests, 0 actions$" "balance --log - writes stdout"
fi
[ ! -e ./- ] && ok "still no file named -" || not_ok "a file named - was written"
run topology --json "$host" -o "$S/dir"; expect_rc 1 "-o a directory"; expect_one_line_err "-o a directory"

finish
