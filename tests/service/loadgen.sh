#!/usr/bin/env bash
# tests/service/loadgen.sh OPS - the benchmark's C clients
# (bench/service/loadgen.c) against real servers: two `numaplace serve` on
# one SQLite store, one on loopback TCP with a bearer token, one on a unix
# socket; 8 clients of OPS placements each, a third released.  Their
# counts agree with the store (every placement kept is listed, no release
# is), with the servers' own request counters, and `fleet check` passes;
# their flavor mix is client.py's FLAVORS.  The benchmark script leaves
# no folder behind unless KEEP=1.
. "$(dirname "$0")/lib.sh"
need service
ops=${1:-40} clients=8
LOADGEN=${LOADGEN:-$NP_BUILD/bench/service-loadgen}
HOST=$NP_SRC/tests/data/json/64amd64-4s2n4ca2co.json
[ -x "$LOADGEN" ] || { not_ok "no load generator at $LOADGEN"; finish; }

# The same flavors, in the same order, as the Python client's.
if "$LOADGEN" --flavors | python3 -c '
import json, sys
sys.path.insert(0, sys.argv[1])
from client import FLAVORS
sys.exit(0 if [json.loads(l) for l in sys.stdin] == FLAVORS else 1)' "$(dirname "$0")"; then
  ok "the flavor mix is client.py's FLAVORS"
else not_ok "service-loadgen --flavors differs from client.py's FLAVORS"; fi

fleet_store sqlite
printf 'loadgen-test-token-0123456789\n' >"$TMP/token"; chmod 600 "$TMP/token"
svc_start tcp --store "$STORE" --listen 127.0.0.1:0 --token-file "$TMP/token" --log /dev/null ||
  { not_ok "the TCP server starts"; finish; }
svc_start unix --store "$STORE" --listen "unix:$TMP/u.sock" --log /dev/null ||
  { not_ok "the unix-socket server starts"; finish; }
tcp=$(svc_addr tcp)
SVC=unix:$TMP/u.sock
for h in $(seq 1 12); do http PUT "/v1/hosts/h$h" "$HOST"; [ "$status" = 201 ] || break; done
expect_status 201 "12 hosts registered"

mkdir -p "$TMP/logs"
"$LOADGEN" "$tcp,unix:$TMP/u.sock" --clients "$clients" --ops "$ops" --logdir "$TMP/logs" \
  --token-file "$TMP/token" --stats "$TMP/stats.json" --id-prefix lg- >"$TMP/load.out" 2>&1
lrc=$?
sed 's/^/# /' "$TMP/load.out"
[ "$lrc" = 0 ] && ok "every request got the answer it should" ||
  not_ok "load generator exit $lrc: $(grep error "$TMP/load.out" | head -5)"

# Its numbers against the store's and the servers' own.
metrics() {
  curl -s --unix-socket "$TMP/u.sock" http://localhost/v1/metrics
  curl -s -H "Authorization: Bearer $(cat "$TMP/token")" "http://$tcp/v1/metrics"
}
metrics >"$TMP/metrics.txt"
"$NUMAPLACE" fleet show --store "$STORE" --format json >"$TMP/show.json"
if python3 - "$TMP/stats.json" "$TMP/show.json" "$TMP/metrics.txt" "$clients" "$ops" <<'PY'
import json, re, sys
st, show, m = json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), open(sys.argv[3]).read()
clients, ops = int(sys.argv[4]), int(sys.argv[5])
c = st["counts"]
listed = sum(1 for h in show["hosts"] for p in h["placements"] if p["id"].startswith("lg-"))
served = lambda route: sum(int(v) for v in re.findall(
    r'^numaplace_http_requests_total\{route="%s",code="\d+"\} (\d+)$' % route, m, re.M))
posts, dels = served("placement_post"), served("placement_delete")
print("# loadgen: %s, %d requests; store: %d listed; servers: %d POST, %d DELETE"
      % (json.dumps(c), st["requests"], listed, posts, dels))
ok = (c["placed"] + c["nofit"] == clients * ops and c["existing"] == 0 and c["errors"] == 0
      and listed == c["placed"] - c["released"] and c["released"] > 0
      and posts == clients * ops and dels == c["released"] and st["requests"] == posts + dels
      and st["post_p50_ms"] > 0 and st["post_p99_ms"] >= st["post_p50_ms"])
sys.exit(0 if ok else 1)
PY
then ok "its counts agree with the store and with the servers' counters"
else not_ok "the load generator's counts disagree with the store or the servers"; fi
fleet_verify 0 "$TMP"/logs/*.log
# A token file it cannot use: exit 2 and one line, never waiting on a FIFO.
# Read as serve reads its own (np_read_trusted): a link to a good token, or
# one other users may read or write, is refused too.
mkfifo "$TMP/fifo"; mkdir "$TMP/dir"; printf 'ab\001c\n' >"$TMP/ctl"; ln -s "$TMP/fifo" "$TMP/link"
ln -s "$TMP/token" "$TMP/goodlink"
cp "$TMP/token" "$TMP/shared"; chmod 644 "$TMP/shared"
cp "$TMP/token" "$TMP/writable"; chmod 602 "$TMP/writable"
for bad in fifo dir ctl link goodlink shared writable; do
  timeout -k 2 60 "$LOADGEN" "unix:$TMP/u.sock" --token-file "$TMP/$bad" --ops 1 \
    >"$TMP/out" 2>"$TMP/err" </dev/null
  lgrc=$?
  if [ "$lgrc" = 2 ] && [ "$(wc -l <"$TMP/err")" = 1 ] && grep -q '^service-loadgen: --token-file' "$TMP/err"
  then ok "--token-file $bad: exit 2, one line"
  else not_ok "--token-file $bad: exit $lgrc, stderr: $(head -c 200 "$TMP/err")"; fi
done
# The benchmark without Placement for its anchor: one line, exit 2, at once.
PLACEMENT_PYTHON=/bin/false CASES=sqlite1 timeout -k 5 60 \
  bash "$NP_SRC/bench/service/run.sh" "$NP_BUILD" 4 2 >"$TMP/bench.out" 2>"$TMP/bench.err"
brc=$?
if [ "$brc" = 2 ] && [ "$(wc -l <"$TMP/bench.err")" = 1 ] && grep -q "python3-placement" "$TMP/bench.err" &&
  [ ! -s "$TMP/bench.out" ]
then ok "bench/service/run.sh without Placement: exit 2, one line naming python3-placement"
else not_ok "bench/service/run.sh without Placement: exit $brc: $(head -c 300 "$TMP/bench.err")"; fi
# The benchmark (bench/service/run.sh, one small case) removes its folder
# at exit, and keeps it with KEEP=1.
if command -v bc >/dev/null && command -v curl >/dev/null && [ -x /usr/bin/time ]; then
  for keep in 0 1; do
    mkdir -p "$TMP/bench$keep"
    KEEP=$keep TMPDIR="$TMP/bench$keep" CASES=sqlite1 ANCHOR=0 timeout -k 5 300 \
      bash "$NP_SRC/bench/service/run.sh" "$NP_BUILD" 4 2 >"$TMP/bench.out" 2>"$TMP/bench.err"
    brc=$?
    left=$(find "$TMP/bench$keep" -mindepth 1 -maxdepth 1 | wc -l)
    if [ "$brc" = 0 ] && grep -q '"store": "sqlite"' "$TMP/bench.out" && [ "$left" = "$keep" ]
    then ok "bench/service/run.sh KEEP=$keep: $left folder(s) left"
    else not_ok "bench/service/run.sh KEEP=$keep: exit $brc, $left folder(s) left: $(tail -c 300 "$TMP/bench.err")"; fi
  done
else
  echo "# bench/service/run.sh not run: it needs bc, curl and /usr/bin/time"
fi
for r in tcp unix; do
  svc_stop "$r"
  [ "$svc_rc" = 0 ] && ok "server $r stops cleanly" || not_ok "server $r exit $svc_rc"
done
finish
