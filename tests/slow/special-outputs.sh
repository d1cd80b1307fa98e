#!/usr/bin/env bash
# tests/slow/special-outputs.sh - every option that names a file to write
# (-o, --log) or a directory (--run-dir, --sysfs), taken from the verbs'
# own tables (`numaplace help --options VERB`), given what it should not
# be: for outputs a symbolic link (2, nothing written through it), a FIFO
# nobody reads (2 at once, never a hang), a directory (1), a hard-linked
# file to append to (2); /dev/null and a new file (0, mode 0644 whatever
# the umask).  For directories: a regular file, a FIFO, a character device
# (2 at once); --run-dir also a symbolic link to a directory (2).  The
# inputs are tests/cli/special-files.sh's.
. "$(dirname "$0")/../cli/lib.sh"
need runtime # --run-dir, --log

host="$NP_SRC/tests/data/json/full.json"
S="$TMP/so"
mkdir -p "$S/dir" "$S/run"
mkfifo "$S/fifo" || { echo "cannot make a FIFO here"; exit 77; }
printf 'keep\n' >"$S/victim"
ln -s victim "$S/link"
ln -s dir "$S/dirlink"
sleep infinity & child=$!  # killed at exit: a fixed sleep can run out under load
trap 'kill $child 2>/dev/null; rm -rf "$TMP"' EXIT
short_sim=(--set duration_s=1 --set repetitions=1 --set guest_counts=2)

# A command line that works for VERB (and uses the option put into it).
declare -A verb_base=(
  [topology]="topology --json $host"
  [place]="place --json $host --flavor vcpus=1,ram=64"
  [claim]="claim --state $S/ok.state --id vm-1 --flavor vcpus=1,ram=64"
  [state]="state show --state $S/ok.state"
  [observe]="observe --pid $child --json $host --diagnose --window 200"
  [apply]="apply --pid $child --json $host --nodes 0"
  [balance]="balance --once --json $host --run-dir $S/run"
  [watch]="watch --libvirt test:///default --state $S/watch.state --once --run-dir $S/run"
  [simulate]="simulate lpc2012 ${short_sim[*]}"
  [gen]="gen --count 1 --seed 1 --guests 2"
  [agent]="agent --server unix:$S/no-service.sock --once --name h1"
)
# The fleet's verbs where this build has a store.
have sqlite && verb_base[fleet]="fleet add --store sqlite:$S/fleet.db --name h1"
# schedule: a store with one host, one guest scheduled again and again (the same answer).
if have sqlite && "$NUMAPLACE" fleet add --store "sqlite:$S/sched.db" --name h0 --json "$host" >/dev/null; then
  verb_base[schedule]="schedule --store sqlite:$S/sched.db --id vm-1 --flavor vcpus=1,ram=64"
fi

tested=0
verbs=$("$NUMAPLACE" help | sed -n 's/^  \([a-z][a-z-]*\)  .*/\1/p')
for verb in $verbs; do
  while read -r name letter type count; do
    case $type in output|dir) ;; *) continue ;; esac
    base=${verb_base[$verb]:-}
    if [ -z "$base" ]; then not_ok "no command line to test $verb $name with"; continue; fi
    if [ "$type" = output ]; then
      for kind in link fifo dir; do
        p="$S/$kind"
        # shellcheck disable=SC2086 # the base command lines are split on purpose
        run_within 20 $base "$name" "$p"
        want=2; [ "$kind" = dir ] && want=1
        if [ "$rc" -eq 124 ]; then not_ok "$verb $name $kind: hangs"; continue; fi
        expect_rc "$want" "$verb $name $kind"; expect_one_line_err "$verb $name $kind"
        tested=$((tested + 1))
      done
      [ "$(cat "$S/victim")" = keep ] && ok "$verb $name: nothing written through the link" ||
        not_ok "$verb $name: written through the link"
      # shellcheck disable=SC2086
      run_within 60 $base "$name" /dev/null; expect_rc 0 "$verb $name /dev/null"
      rm -f "$S/new"
      # shellcheck disable=SC2086
      (umask 000; timeout 60 "$NUMAPLACE" $base "$name" "$S/new" >/dev/null 2>&1)
      m=$(stat -c %a "$S/new" 2>/dev/null)
      [ "$m" = 644 ] && ok "$verb $name: a new file is 0644 under umask 000" ||
        not_ok "$verb $name: a new file is '$m' under umask 000"
      if [ "$name" = --log ]; then
        ln -f "$S/victim" "$S/hard"
        # shellcheck disable=SC2086
        run_within 20 $base "$name" "$S/hard"; expect_rc 2 "$verb $name a hard-linked file"
      fi
    else
      for kind in victim fifo chr; do
        p="$S/$kind"; [ "$kind" = chr ] && p=/dev/null
        # shellcheck disable=SC2086
        run_within 20 $base "$name" "$p"
        if [ "$rc" -eq 124 ]; then not_ok "$verb $name $kind: hangs"; continue; fi
        expect_rc 2 "$verb $name $kind"; expect_one_line_err "$verb $name $kind"
        tested=$((tested + 1))
      done
      if [ "$name" = --run-dir ]; then
        # shellcheck disable=SC2086
        run_within 20 $base "$name" "$S/dirlink" --affinity soft
        [ "$verb" = balance ] && run_within 20 $base "$name" "$S/dirlink"
        if [ "$verb" = observe ] || [ "$rc" -eq 2 ]; then ok "$verb --run-dir a link: refused"
        else not_ok "$verb --run-dir a link to a directory: rc $rc"; fi
      fi
    fi
  done < <("$NUMAPLACE" help --options "$verb")
done
if [ "$tested" -ge 30 ]; then ok "$tested output and directory options x kinds tested"; else not_ok "only $tested tested"; fi
finish
