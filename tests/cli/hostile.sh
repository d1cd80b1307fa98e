#!/usr/bin/env bash
# tests/cli/hostile.sh - what the tool writes and where it takes orders
# from, against a hostile file system (the quick probes; the slow suite
# adds an unprivileged attacker and long fuzzing): outputs (-o, --log)
# never written through a link, with explicit modes; the run directory
# refused when others may write it or when it is no directory, before
# anything changes; request keys Nova ignores named in a warning.
. "$(dirname "$0")/lib.sh"

host="$NP_SRC/tests/data/json/full.json"
S="$TMP/h"
mkdir -p "$S"
sleep infinity & child=$!  # alive until the exit trap, however slow the run
trap 'kill $child 2>/dev/null; rm -rf "$TMP"' EXIT

# ---- outputs ----
printf 'keep\n' >"$S/victim"
ln -s victim "$S/link"
run topology --json "$host" -o "$S/link"; expect_rc 2 "-o a symbolic link"
expect_one_line_err "-o a symbolic link"; expect_err "symbolic link" "says why"
if [ "$(cat "$S/victim")" = keep ] && [ -L "$S/link" ]; then ok "nothing written through the link"
else not_ok "written through the link"; fi
ln "$S/victim" "$S/hard"
run topology --json "$host" -o "$S/hard"; expect_rc 0 "-o a file with another hard link"
if [ "$(cat "$S/victim")" = keep ] && grep -q '^host: 2 nodes' "$S/hard"; then
  ok "the file is replaced; its other link still holds the old content"
else not_ok "the other hard link was written"; fi
(umask 000; "$NUMAPLACE" topology --json "$host" -o "$S/new.txt" 2>/dev/null)
m=$(stat -c %a "$S/new.txt" 2>/dev/null)
if [ "$m" = 644 ]; then ok "umask 000: -o file is 0644"; else not_ok "umask 000: -o file is $m"; fi
if have runtime; then
  run balance --once --run-dir "$S/run" --json "$host" --log "$S/link"; expect_rc 2 "--log a symbolic link"
  ln "$S/victim" "$S/hard2"
  run balance --once --run-dir "$S/run" --json "$host" --log "$S/victim"; expect_rc 2 "--log a hard-linked file"
  expect_err "other hard links" "says why"
  if [ "$(cat "$S/victim")" = keep ]; then ok "no log appended through a link"; else not_ok "log written through a link"; fi
  (umask 000; "$NUMAPLACE" balance --once --run-dir "$S/run" --json "$host" --log "$S/new.log" >/dev/null 2>&1)
  m=$(stat -c %a "$S/new.log" 2>/dev/null)
  if [ "$m" = 644 ]; then ok "umask 000: --log file is 0644"; else not_ok "umask 000: --log file is $m"; fi
fi
mkfifo "$S/fifo"
run_within 60 topology --json "$host" -o "$S/fifo"; expect_rc 2 "-o a FIFO nobody reads"
expect_err "no reader" "says why"
run topology --json "$host" -o /dev/null; expect_rc 0 "-o /dev/null"
printf 'old\n' >"$S/old.txt"
run topology --json "$S/missing.json" -o "$S/old.txt"; expect_rc 2 "a failed run"
if [ "$(cat "$S/old.txt")" = old ]; then ok "a failed run leaves the old output"; else not_ok "a failed run clobbered -o"; fi

# ---- the run directory ----
run_dir_tests() {
mkdir -p "$S/ww" && chmod 777 "$S/ww"
run balance --once --run-dir "$S/ww" --json "$host"; expect_rc 2 "balance: a world-writable run directory"
expect_one_line_err "balance: world-writable"; expect_err "writable by others \(mode 0777\)" "says why"
before=$(taskset -pc "$child" 2>/dev/null | sed 's/.*: //')
run apply --pid "$child" --json "$host" --nodes 0 --affinity soft --run-dir "$S/ww"
expect_rc 2 "apply --affinity soft: a world-writable run directory"
after=$(taskset -pc "$child" 2>/dev/null | sed 's/.*: //')
if [ "$before" = "$after" ]; then ok "refused before the affinity changed"; else not_ok "affinity changed: $before -> $after"; fi
if [ -z "$(ls "$S/ww")" ]; then ok "nothing written there"; else not_ok "written in the world-writable directory"; fi
printf 'x\n' >"$S/file"
run observe --pid "$child" --json "$host" --diagnose --window 200 --run-dir "$S/file"
expect_rc 2 "observe --diagnose --run-dir FILE"; expect_err "not a directory \(a regular file\)" "says why"
run apply --pid "$child" --json "$host" --nodes 0 --run-dir "$S/file"; expect_rc 2 "apply --run-dir FILE"
ln -s "$S/ww" "$S/runlink"
run balance --once --run-dir "$S/runlink" --json "$host"; expect_rc 2 "balance: a run directory that is a link"
(umask 000; "$NUMAPLACE" apply --pid "$child" --json "$host" --nodes 0 --affinity soft --run-dir "$S/fresh" >/dev/null 2>&1)
m="$(stat -c %a "$S/fresh" 2>/dev/null) $(stat -c %a "$S/fresh/pid-$child.json" 2>/dev/null)"
if [ "$m" = "755 644" ]; then ok "umask 000: run directory 0755, preference 0644"; else not_ok "umask 000: modes $m"; fi
run balance --once --run-dir "$S/fresh" --json "$host" --dry-run; expect_rc 0 "balance on its own run directory"
# A domain preference names a URI the balancer was not given: skipped, no connection.
printf '{"schema":"numaplace.pref/1","kind":"domain","uri":"test:///default","domain":"test","nodes":[0],"migrate":false,"last_action_ms":0}' \
  >"$S/fresh/domain-test.json"
run balance --once --run-dir "$S/fresh" --json "$host" --dry-run --format json; expect_rc 0 "balance with a domain preference"
expect_out '"guest":"domain:test","action":"skip".*was not given to the balancer' "its URI is not taken from the file"
if have libvirt; then
  run balance --once --run-dir "$S/fresh" --libvirt test:///default --dry-run --format json
  expect_rc 0 "balance --libvirt URI"
  if grep -q 'was not given' "$TMP/out"; then not_ok "the command line's URI is refused"; else ok "the command line's URI is taken"; fi
fi
}
if have runtime; then run_dir_tests; else echo "skip: the run directory (this build has no runtime)"; fi

# ---- requests: keys Nova ignores are named ----
run place --json "$host" --flavor 'vcpus=2,ram=1024,hw:numa_nodes=2,hw:numa_cpus.5=0'
expect_rc 0 "an ignored hw:numa_cpus.5 changes nothing"
expect_err "^numaplace: warning: hw:numa_cpus.5 is ignored: the guest has 2 NUMA nodes" "warns, naming the key"
run place --json "$host" --flavor 'vcpus=4,ram=4096,hw:numa_nodes=9223372036854775808'
expect_rc 2 "hw:numa_nodes=2^63"; expect_err "hw:numa_nodes=9223372036854775808 does not divide" "the number as written"

finish
