#!/usr/bin/env bash
# tests/slow/attack.sh - an unprivileged user attacks root's numaplace
# through shared directories: preferences planted in a world-writable run
# directory, links planted where root writes, a run directory of the
# attacker's own, a preference of the attacker's in root's directory.  Root
# must refuse, never write through a link, and never act on a process for
# someone who may not control it.  Needs root (to create the user with
# useradd and to be the victim): exit 77 otherwise.
. "$(dirname "$0")/../cli/lib.sh"

need runtime
if [ "$(id -u)" -ne 0 ] || ! command -v useradd >/dev/null || ! command -v runuser >/dev/null; then
  echo "skip: needs root, useradd and runuser"; exit 77
fi
user="npatk$$"
useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$user" ||
  { echo "skip: useradd failed"; exit 77; }
host="$NP_SRC/tests/data/json/full.json"
chmod 755 "$TMP"
sleep infinity & victim=$!  # killed at exit: a fixed sleep can run out under load
trap 'kill $victim 2>/dev/null; userdel "$user" 2>/dev/null; rm -rf "$TMP"' EXIT
as_user() { runuser -u "$user" -- "$@"; }
affinity() { taskset -pc "$1" 2>/dev/null | sed 's/.*: //'; }
before=$(affinity "$victim")
pref() { # PID NODES: a preference file's text
  printf '{"schema":"numaplace.pref/1","kind":"pid","pid":%d,"start":0,"nodes":[%s],"migrate":true,"last_action_ms":0}' "$1" "$2"
}
as_user true || { echo "skip: cannot run as $user"; exit 77; }
if ! as_user test -x "$NUMAPLACE"; then echo "skip: $user cannot run $NUMAPLACE"; exit 77; fi

# A. A world-writable run directory (a misconfigured /run/numaplace): the
#    attacker asks for root's process; the balancer refuses to start.
W="$TMP/world"; mkdir -m 1777 "$W"
as_user sh -c "printf '%s' '$(pref "$victim" 1)' >'$W/pid-$victim.json'"
if [ -s "$W/pid-$victim.json" ]; then ok "the attacker planted a preference"; else not_ok "could not plant"; fi
run balance --once --run-dir "$W" --json "$host"; expect_rc 2 "balance refuses a world-writable run directory"
expect_err "writable by others" "says why"
# B. Links planted where root would write its preference: refused, nothing written.
printf 'root data\n' >"$TMP/rootfile"; chmod 644 "$TMP/rootfile"
for i in 0 1 2 3; do as_user ln -s "$TMP/rootfile" "$W/.pid-$victim.json.tmp-$i"; done
as_user ln -sf "$TMP/rootfile" "$W/pid-$victim.json"
run apply --pid "$victim" --json "$host" --nodes 0 --affinity soft --run-dir "$W"
expect_rc 2 "apply --affinity soft refuses the world-writable run directory"
if [ "$(cat "$TMP/rootfile")" = "root data" ]; then ok "no write through the planted links"; else not_ok "root's file was overwritten"; fi
if [ "$(affinity "$victim")" = "$before" ]; then ok "the victim's affinity is unchanged"; else not_ok "the victim's affinity changed"; fi

# C. Root's own run directory: the attacker cannot write there at all.
R="$TMP/run"
run apply --pid "$victim" --json "$host" --nodes 0 --affinity soft --run-dir "$R"
expect_rc 0 "root's soft apply makes its run directory"
if as_user sh -c "printf x >'$R/pid-1.json'" 2>/dev/null; then not_ok "the attacker wrote in root's run directory"
else ok "the attacker cannot write in root's run directory"; fi
# A preference in root's directory that the attacker owns (left by a
# careless chown): it may not make root act on root's process.
pref "$victim" 1 >"$R/pid-$victim.json"; chown "$user" "$R/pid-$victim.json"
run balance --once --run-dir "$R" --json "$host" --format json
expect_rc 0 "balance runs on root's directory"
expect_out "\"guest\":\"pid:$victim\",\"action\":\"skip\".*may not control process $victim" "the attacker's preference is not honoured"
if grep -q "\"guest\":\"pid:$victim\",\"action\":\"\(follow-memory\|migrate-home\|rescue-pin\|relieve\)\"" "$TMP/out"; then
  not_ok "root acted for the attacker"; else ok "root did not act for the attacker"; fi
rm -f "$R/pid-$victim.json"

# D. The attacker's own run directory: root's balancer will not read it; the
#    attacker's own balancer may read it, but not act on root's process.
A="$TMP/attacker-run"; mkdir -m 755 "$A"; chown "$user" "$A"
as_user sh -c "printf '%s' '$(pref "$victim" 1)' >'$A/pid-$victim.json'"
run balance --once --run-dir "$A" --json "$host"; expect_rc 2 "root refuses another user's run directory"
expect_err "owned by uid [0-9]+, not by this user" "says why"
as_user "$NUMAPLACE" balance --once --run-dir "$A" --json "$host" --format json >"$TMP/out" 2>"$TMP/err"
rc=$?; expect_rc 0 "the attacker's own balancer runs"
expect_out "may not control process $victim" "but skips root's process"
if [ "$(affinity "$victim")" = "$before" ]; then ok "the victim's affinity is unchanged"; else not_ok "the victim's affinity changed"; fi

# E. An output path the attacker planted as a link, in a sticky shared
#    directory (/tmp): root's -o and --log refuse it and write nothing.
T="$TMP/tmp"; mkdir -m 1777 "$T"
as_user ln -s "$TMP/rootfile" "$T/out.json"
run topology --json "$host" -o "$T/out.json"; expect_rc 2 "-o a link the attacker planted"
run balance --once --run-dir "$R" --json "$host" --log "$T/out.json"; expect_rc 2 "--log a link the attacker planted"
if [ "$(cat "$TMP/rootfile")" = "root data" ]; then ok "root's file is untouched"; else not_ok "root's file was written"; fi
# A state file there: the lock is never a link, the commit never writes through one.
as_user ln -s "$TMP/rootfile" "$T/host.state.lock"
run claim --state "$T/host.state" --id vm-1 --json "$host" --flavor 'vcpus=1,ram=64'
expect_rc 2 "a state whose lock the attacker planted as a link"
if [ "$(cat "$TMP/rootfile")" = "root data" ]; then ok "root's file is untouched"; else not_ok "root's file was written"; fi
finish
