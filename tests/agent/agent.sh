#!/usr/bin/env bash
# tests/agent/agent.sh - `numaplace agent` against a real `numaplace serve`
# on a unix socket and on loopback TCP with a token, on this machine:
#   - it registers the host (and again after a restart: same host);
#   - a process that touched memory (--map ID=PID) is observed and
#     reported: GET /v1/placements/ID shows per node what
#     /proc/PID/numa_maps says, its threads as vCPUs, no drift;
#   - a QEMU-like process started with `-name guest=ID` is found by name,
#     another user's is ignored (--qemu-user), two claiming one guest are
#     an error; a placement found nowhere is "absent", its observation
#     stays null;
#   - PUT /v1/placements/ID/observed refuses bad bodies (400), an unknown
#     id (404), another host (409), and they change nothing;
#   - the token file is refused when others may read it, through a link,
#     or empty; a wrong token is exit 2, an unreachable server exit 1;
#   - a service that answers nonsense (hostile.py: garbage, 7 MB, deep
#     nesting, bad ids, control characters) gets exit 2 and one line;
#   - --interval with --count runs that many rounds; SIGTERM stops it.
. "$(dirname "$0")/../cli/lib.sh"
need runtime
need agent
need service
have hwloc || { echo "skipped: needs hwloc for this machine's topology"; exit 77; }
here=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3
sock=$TMP/api.sock
pids=()
cleanup_pids() { for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done; rm -rf "$TMP"; }
trap cleanup_pids EXIT

# wait_until CMD...: until CMD succeeds; 120 s only guard a hang (the 5 or
# 10 s these waits had were not enough for a sanitizer build under load).
wait_until() {
  local end=$((SECONDS + 120))
  until "$@"; do [ "$SECONDS" -lt "$end" ] || return 1; sleep 0.05; done
}

# start_serve LOG ARGS...: a server, waited for until it says "serving on".
start_serve() {
  local log=$1; shift
  "$NUMAPLACE" serve "$@" >"$log" 2>&1 &
  pids+=($!)
  wait_until grep -q "serving on" "$log" && return 0
  echo "# serve did not start:"; sed 's/^/#   /' "$log"; return 1
}

# api METHOD PATH [BODY]: one request to the unix socket; $status, $TMP/body.
api() {
  local args=(-s -o "$TMP/body" -w '%{http_code}' -X "$1" --max-time 20 --unix-socket "$sock")
  [ $# -ge 3 ] && args+=(-H 'Content-Type: application/json' --data-binary "$3")
  status=$(curl "${args[@]}" "http://localhost$2")
}
expect_status() {
  if [ "$status" = "$1" ]; then ok "$2 (HTTP $1)"; else not_ok "$2: want HTTP $1, got $status: $(head -c 300 "$TMP/body")"; fi
}

# A process holding MB MiB it touched, named NAME (argv[0]), extra arguments
# after; as user $HOLD_UID when that is set (setpriv, as root).
hold() {
  local mb=$1 name=$2 as=(); shift 2
  [ -n "${HOLD_UID:-}" ] && as=(setpriv --reuid="$HOLD_UID" --regid="$HOLD_UID" --clear-groups)
  (exec "${as[@]}" bash -c 'exec -a "$0" "$@"' "$name" "$PY" -c '
import sys, time
b = bytearray(int(sys.argv[1]) << 20)
for i in range(0, len(b), 4096): b[i] = 1
print("ready", flush=True)
time.sleep(3600)' "$mb" "$@" >"$TMP/hold.$mb") &
  pids+=($!)
  wait_until grep -q ready "$TMP/hold.$mb" 2>/dev/null
  held=$!
}

# MiB per node of process $1 from its numa_maps, as JSON {"0": MiB}, rounded as the agent does.
maps_mb() {
  "$PY" - "$1" <<'EOF'
import re, sys, json
kb = {}
for line in open("/proc/%s/numa_maps" % sys.argv[1]):
    page = 4
    m = re.search(r"kernelpagesize_kB=(\d+)", line)
    if m: page = int(m.group(1))
    for n, c in re.findall(r"\bN(\d+)=(\d+)", line):
        kb[n] = kb.get(n, 0) + int(c) * page
print(json.dumps({n: (v + 512) // 1024 for n, v in kb.items() if (v + 512) // 1024}))
EOF
}

start_serve "$TMP/serve.log" --store "sqlite:$TMP/f.db" --listen "unix:$sock" || { finish; }

# ---- registering ---------------------------------------------------------------
run agent --server "unix:$sock" --once --name h1
expect_rc 0 "agent --once registers the host"
expect_out "host 'h1' registered" "it says so"
api GET /v1/hosts/h1
expect_status 200 "the service knows host h1"
run agent --server "unix:$sock" --once --name h1
expect_rc 0 "a restarted agent registers the same host again"

# ---- a process, reported --------------------------------------------------------
api POST /v1/placements '{"id": "vm-1", "host": "h1", "flavor": {"vcpus": 2, "memory_mb": 256}}'
expect_status 201 "vm-1 placed on h1"
api PUT /v1/hosts/h1 "$("$NUMAPLACE" topology --format json)"
expect_status 409 "(the host's topology cannot change under a placement: why the agent registers without free memory)"
run agent --server "unix:$sock" --once --name h1
expect_rc 0 "an agent finding a placement nowhere exits 0"
expect_out "vm-1: not found on this host" "vm-1 is absent"
api GET /v1/placements/vm-1
expect_status 200 "GET vm-1"
if $PY -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(not (d["observed"] is None and d["drift"] is None and "plan" in d))' "$TMP/body"
then ok "never observed: observed and drift are null"; else not_ok "observed/drift null: $(cat "$TMP/body")"; fi

hold 96 np-holder
run agent --server "unix:$sock" --once --name h1 --map "vm-1=$held"
expect_rc 0 "agent --once --map vm-1=PID reports it"
expect_out "vm-1: reported process $held" "the log names the process"
want=$(maps_mb "$held")
api GET /v1/placements/vm-1
if $PY - "$TMP/body" "$want" "$held" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1])); want = json.loads(sys.argv[2]); pid = int(sys.argv[3])
o, dr = d["observed"], d["drift"]
ok = (o["pid"] == pid and o["source"] == "process" and o["host"] == "h1"
      and set(o["memory_mb"]) == set(want)
      and all(abs(o["memory_mb"][n] - want[n]) <= 1 for n in want)
      and sum(want.values()) >= 96 and sum(o["vcpus"].values()) == 1
      and dr == {"memory_elsewhere_mb": 0, "memory_mb": sum(o["memory_mb"].values()),
                 "vcpus_outside": 0, "vcpus": 1, "drifted": False})
print("# observed %s, numa_maps %s, drift %s" % (o["memory_mb"], want, dr))
sys.exit(0 if ok else 1)
EOF
then ok "GET shows what numa_maps says, per node; no drift"; else not_ok "observed == numa_maps: $(cat "$TMP/body")"; fi

# ---- QEMU-like processes by -name / -uuid; absent ones --------------------------------
# Names unique to this run: the agent scans every process of the machine,
# and another run of this test may hold its own vm-q at the same time.
qid=vm-q-$$
quuid=6f1e0c9a-2b7d-4c1e-9a55-$(printf %012x $$)
api POST /v1/placements '{"id": "'"$qid"'", "host": "h1", "flavor": {"vcpus": 1, "memory_mb": 64}}'
api POST /v1/placements "{\"id\": \"$quuid\", \"host\": \"h1\", \"flavor\": {\"vcpus\": 1, \"memory_mb\": 64}}"
hold 16 qemu-system-x86_64 -name guest=$qid,debug-threads=on
q1=$held
hold 8 /usr/bin/qemu-kvm -name other -uuid $quuid
q2=$held
run agent --server "unix:$sock" --once --name h1
expect_rc 0 "agent --once finds QEMU processes by themselves"
expect_out "$qid: reported process $q1" "-name guest=$qid is placement $qid"
expect_out "$quuid: reported process $q2" "-uuid U is placement U"
expect_out "round: 3 placements on 'h1': 2 reported, 1 absent, 0 failed" "vm-1 (not mapped now) is absent"
run agent --server "unix:$sock" --once --name h1 --no-qemu-scan
expect_out "3 absent" "--no-qemu-scan finds none of them"

# ---- a QEMU-like process of another user claiming a guest: ignored --------------------
# Anyone can start a program named qemu* with -name guest=ID: believed, it
# would report its memory as the guest's.  Only the users QEMU runs as
# (--qemu-user; root's and the agent's own) are believed.
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
  qx_id=vm-qx-$$
  api POST /v1/placements '{"id": "'"$qx_id"'", "host": "h1", "flavor": {"vcpus": 1, "memory_mb": 64}}'
  HOLD_UID=65534 hold 12 qemu-system-x86_64 -name guest=$qx_id
  qx=$held
  run agent --server "unix:$sock" --once --name h1
  expect_rc 0 "a round with another user's QEMU-like process"
  expect_out "$qx_id: not found on this host; ignored process $qx of user 65534" \
    "user 65534's process claiming $qx_id is named and ignored"
  api GET /v1/placements/$qx_id
  if $PY -c 'import json,sys; sys.exit(json.load(open(sys.argv[1]))["observed"] is not None)' "$TMP/body"
  then ok "nothing observed for $qx_id"; else not_ok "observed from an ignored process: $(cat "$TMP/body")"; fi
  run agent --server "unix:$sock" --once --name h1 --qemu-user 65534
  expect_out "$qx_id: reported process $qx" "--qemu-user 65534 believes it"
  # A second believed process claiming $qid: neither is reported.
  hold 4 qemu-system-x86_64 -name guest=$qid
  run agent --server "unix:$sock" --once --name h1
  expect_rc 1 "two processes claiming one guest: the round fails"
  expect_err "processes ($q1 and $held|$held and $q1) both say they are guest '$qid'" \
    "both named, neither reported"
  kill -9 "$held" "$qx"
  run agent --server "unix:$sock" --once --name h1 --qemu-user no-such-user-$$
  expect_rc 2 "--qemu-user naming no user"
  expect_one_line_err "--qemu-user naming no user"
  api DELETE /v1/placements/$qx_id
else
  echo "# not root (or no setpriv): another user's process cannot be started here"
fi

# ---- libvirt domains by name and by UUID (the test driver's domain "test") -----------
if have libvirt; then
  uuid=6695eb01-f6a4-8304-79aa-97f2502e193f  # test:///default's domain "test"
  api POST /v1/placements '{"id": "test", "host": "h1", "flavor": {"vcpus": 1, "memory_mb": 64}}'
  api POST /v1/placements "{\"id\": \"$uuid\", \"host\": \"h1\", \"flavor\": {\"vcpus\": 1, \"memory_mb\": 64}}"
  run agent --server "unix:$sock" --once --name h1 --libvirt test:///default --no-qemu-scan
  expect_rc 0 "agent --libvirt test:///default"
  expect_out "test: reported domain test" "a domain named as the placement"
  expect_out "$uuid: reported domain" "a domain whose UUID is the placement's id"
  api GET /v1/placements/test
  if $PY -c 'import json,sys; o=json.load(open(sys.argv[1]))["observed"]; sys.exit(not (o["source"] == "libvirt" and o["domain"] == "test" and "pid" not in o))' "$TMP/body"
  then ok "observed from libvirt, the domain named"; else not_ok "libvirt observation: $(cat "$TMP/body")"; fi
  api DELETE /v1/placements/test
  api DELETE "/v1/placements/$uuid"
fi

# ---- the route refuses bad reports, and they change nothing --------------------------
api GET /v1/placements/vm-1; cp "$TMP/body" "$TMP/before.json"
good='"host": "h1", "at": 1, "source": "process"'
bad_bodies=(
  '{"host": "h1", "at": 1, "source": "process", "memory_mb": {"0": 1}'
  '[1, 2]'
  "{$good, \"color\": \"blue\"}"
  "{$good, \"memory_mb\": {\"01\": 5}}"
  "{$good, \"memory_mb\": {\"-1\": 5}}"
  "{$good, \"memory_mb\": {\"0\": -5}}"
  "{$good, \"memory_mb\": {\"0\": 1.5}}"
  "{$good, \"memory_mb\": {\"0\": 1099511627777}}"
  "{$good, \"vcpus\": {\"0\": 70000}}"
  "{$good, \"memory_mb\": {\"4194305\": 1}}"
  "{$good, \"memory_mb\": {\"7\": 1}}"
  "{$good, \"memory_mb\": {\"0\": 100000000}}"
  "{$good, \"pid\": -3}"
  "{$good, \"pid\": \"12\"}"
  '{"host": "h1", "at": -1, "source": "process"}'
  '{"host": "h1", "at": 1, "source": "xen"}'
  '{"at": 1, "source": "process"}'
  "{$good, \"domain\": \"a\\u0001b\"}"
)
for b in "${bad_bodies[@]}"; do
  api PUT /v1/placements/vm-1/observed "$b"
  if [ "$status" = 400 ] && $PY -c 'import json,sys; e=json.load(open(sys.argv[1]))["error"]; sys.exit(e["code"] not in ("bad_request","bad_json") or "\n" in e["message"])' "$TMP/body"
  then ok "refused with 400: ${b:0:60}"; else not_ok "400 for ${b:0:60}: HTTP $status $(head -c 200 "$TMP/body")"; fi
done
api PUT /v1/placements/no-such/observed "{$good}"
expect_status 404 "an unknown placement"
api PUT /v1/placements/vm-1/observed '{"host": "h2", "at": 1, "source": "process"}'
expect_status 409 "a report from another host"
api GET /v1/placements/vm-1
if cmp -s "$TMP/body" "$TMP/before.json"; then ok "the refused reports changed nothing"; else not_ok "vm-1 changed: $(cat "$TMP/body")"; fi
api PUT /v1/placements/vm-1/observed "{$good, \"pid\": 5, \"memory_mb\": {\"0\": 7}, \"vcpus\": {\"0\": 2}}"
expect_status 204 "a good report by hand"
api GET /v1/placements/vm-1
if $PY -c 'import json,sys; o=json.load(open(sys.argv[1]))["observed"]; sys.exit(o != {"host":"h1","at":1,"source":"process","pid":5,"memory_mb":{"0":7},"vcpus":{"0":2}})' "$TMP/body"
then ok "replaces the agent's"; else not_ok "by hand: $(cat "$TMP/body")"; fi
api DELETE /v1/placements/vm-1
api POST /v1/placements '{"id": "vm-1", "host": "h1", "flavor": {"vcpus": 2, "memory_mb": 256}}'
api GET /v1/placements/vm-1
if $PY -c 'import json,sys; sys.exit(json.load(open(sys.argv[1]))["observed"] is not None)' "$TMP/body"
then ok "released and placed again: no observation of the old one"; else not_ok "stale observation: $(cat "$TMP/body")"; fi
run fleet check --store "sqlite:$TMP/f.db"
expect_rc 0 "fleet check is clean with observations in the store"

# ---- tokens, TCP, unreachable ----------------------------------------------------------
printf 'a-token-of-thirty-two-characters\n' >"$TMP/tok"; chmod 600 "$TMP/tok"
start_serve "$TMP/serve-tcp.log" --store "sqlite:$TMP/f.db" --listen 127.0.0.1:0 --token-file "$TMP/tok" || finish
addr=$(grep -o 'serving on [^ ]*' "$TMP/serve-tcp.log" | tail -n1 | sed 's/serving on //')
run agent --server "http://$addr" --token-file "$TMP/tok" --once --name h1 --map "vm-1=$q1"
expect_rc 0 "over TCP with the token"
expect_out "vm-1: reported" "and it reports"
cp "$TMP/tok" "$TMP/tok-open"; chmod 644 "$TMP/tok-open"
run agent --server "http://$addr" --token-file "$TMP/tok-open" --once --name h1
expect_rc 2 "a token file others may read is refused"
expect_one_line_err "the open token file"
expect_err "readable by others \\(mode 0644" "and it says why"
ln -s "$TMP/tok" "$TMP/tok-link"
run agent --server "http://$addr" --token-file "$TMP/tok-link" --once --name h1
expect_rc 2 "a token file through a symbolic link is refused"
: >"$TMP/tok-empty"; chmod 600 "$TMP/tok-empty"
run agent --server "http://$addr" --token-file "$TMP/tok-empty" --once --name h1
expect_rc 2 "an empty token file is refused"
printf 'the-wrong-token-of-32-characters\n' >"$TMP/tok-wrong"; chmod 600 "$TMP/tok-wrong"
run agent --server "http://$addr" --token-file "$TMP/tok-wrong" --once --name h1
expect_rc 2 "a wrong token: the service refuses, exit 2"
expect_err "HTTP 401" "it names the status"
run agent --server "http://$addr" --once --name h1
expect_rc 2 "no token on TCP: refused"
run agent --server http://127.0.0.1:1 --once --name h1
expect_rc 1 "an unreachable service is exit 1"
expect_one_line_err "unreachable"
for s in ftp://x/y unix:relative 'http://a b' ''; do
  run agent --server "$s" --once
  expect_rc 2 "server '$s' is refused"
done
run agent --server "unix:$sock" --once --map vm-1
expect_rc 2 "--map without a pid"
run agent --server "unix:$sock" --once --name 'bad
name'
expect_rc 2 "a host name with a control character"

# ---- a service answering nonsense -------------------------------------------------------
for mode in garbage huge notarray badid ctrlid deep manyids nul html500 badnl; do
  hs=$TMP/hostile-$mode.sock
  "$PY" "$here/hostile.py" "$hs" "$mode" >"$TMP/hostile.out" 2>&1 &
  pids+=($!)
  wait_until [ -S "$hs" ]
  run_within 30 agent --server "unix:$hs" --once --name h1
  if [ "$rc" -eq 2 ] && [ "$(wc -l <"$TMP/err")" -eq 1 ] && ! grep -q $'\x1b' "$TMP/err"; then
    ok "a service answering '$mode': exit 2, one line"
  else
    not_ok "hostile '$mode'"
  fi
done

# The agent asks for the placements' ids only: the whole host (a plan each)
# of 12,000 placements is past its 4 MiB and failed every round.  A service
# older than ?placements=ids refuses it (400): the agent asks again without.
# The ids of the 100,000 placements it looks after at most, UUIDs, are 4.6 MB:
# read whole (they were past the 4 MiB of the other answers).
for mode in whole old uuids; do
  hs=$TMP/hostile-$mode.sock
  "$PY" "$here/hostile.py" "$hs" "$mode" >"$TMP/hostile-$mode.out" 2>&1 &
  pids+=($!)
  wait_until [ -S "$hs" ]
  run_within 30 agent --server "unix:$hs" --once --name h1 --no-qemu-scan
  n=12000; [ "$mode" = old ] && n=1; [ "$mode" = uuids ] && n=100000
  if [ "$rc" -eq 0 ] && grep -q "round: $n placements on 'h1': 0 reported, $n absent" "$TMP/out"; then
    ok "a service answering '$mode': $n placements listed, each looked for"
  else
    not_ok "'$mode': rc $rc, $(tail -n1 "$TMP/out") $(head -c 300 "$TMP/err")"
  fi
done
grep -qx '/v1/hosts/h1?placements=ids' "$TMP/hostile-whole.out" &&
  ! grep -qx '/v1/hosts/h1' "$TMP/hostile-whole.out" && ok "... by ?placements=ids alone" ||
  not_ok "the agent asked: $(grep '^/' "$TMP/hostile-whole.out" | tr '\n' ' ')"
[ "$(grep -c '^/v1/hosts/h1' "$TMP/hostile-old.out")" = 2 ] &&
  ok "... and an older service's 400 asked the whole host again" ||
  not_ok "old service: $(grep '^/' "$TMP/hostile-old.out" | tr '\n' ' ')"

# ---- the loop ----------------------------------------------------------------------------
run agent --server "unix:$sock" --name h1 --interval 0.2 --count 3 --quiet --map "vm-1=$q1"
expect_rc 0 "--interval 0.2 --count 3"
if [ "$(grep -c '^agent: round:' "$TMP/out")" -eq 3 ]; then ok "three rounds"; else not_ok "three rounds"; fi
"$NUMAPLACE" agent --server "unix:$sock" --name h1 --interval 30 >"$TMP/loop.out" 2>&1 &
lp=$!; pids+=($lp)
wait_until grep -q 'round:' "$TMP/loop.out"
# "At once": well within its 30 s interval (10 s: an ASan exit on a loaded
# machine has taken more than the 3 s this was).
kill -TERM "$lp"; t0=$SECONDS; wait "$lp"; lrc=$?
if [ "$lrc" -eq 0 ] && [ $((SECONDS - t0)) -le 10 ]; then ok "SIGTERM stops a waiting agent at once, exit 0"; else not_ok "SIGTERM: exit $lrc after $((SECONDS - t0)) s"; fi
run agent --server "unix:$sock" --once --interval 3
expect_rc 2 "--once with --interval is a usage error"
finish
