#!/usr/bin/env bash
# tests/service/deadline-pg.sh - the write deadline of `numaplace serve`
# (--write-deadline) on a real PostgreSQL server this script starts:
# there a claim or release waits for row locks inside its transaction (a
# host's row, a placement's), which another transaction may hold past
# the deadline - here an operator's psql session that locks every host
# row and keeps its transaction open until the script ends it.  Each
# POST or DELETE made meanwhile must answer 503 deadline_exceeded (a JSON
# error) and leave the store as it was, so that a client that gave up and
# asked another replica cannot have it land later: a lone claim, several
# at once (the server's group commit puts them in one transaction), a
# release, and a claim that moves another placement (allow_moves, on the
# simulator's make-room host, as tests/service/moves.sh).  Without the
# bound these requests would wait for the lock, so the 503s themselves
# prove it; no time is measured.  Then the lock is let go: the same
# requests are made (201, 204), and `fleet check` passes.
. "$(dirname "$0")/lib.sh"
fleet_store postgresql
DB=fleet
H1=$NP_SRC/tests/data/json/64amd64-4s2n4ca2co.json
body() { printf '%s' "$1" >"$TMP/$2.json"; echo "$TMP/$2.json"; }
placed() {
  "$NUMAPLACE" fleet show --store "$STORE" --format json | python3 -c '
import json, sys
d = json.load(sys.stdin)
sys.exit(0 if any(p["id"] == sys.argv[1] for h in d["hosts"] for p in h["placements"]) else 1)' "$1"
}

# h2 filled as moves.sh fills it (A and B on node 0, C and E on node 1):
# D fits there only after E moves.  Alone in the store while it is filled.
fill_make_room h2 || finish
"$NUMAPLACE" fleet add --store "$STORE" --name h1 --host "$H1" >/dev/null ||
  { not_ok "adding h1"; finish; }

svc_start main --store "$STORE" --listen "unix:$TMP/s.sock" --log "$TMP/access.log" \
  --timeout 10 --write-deadline 1 || { not_ok "the server starts"; finish; }
SVC=unix:$TMP/s.sock
vm() { body "{\"id\": \"$1\", \"host\": \"h1\", \"flavor\": {\"vcpus\": 2, \"memory_mb\": 2048}}" "$1"; }
D=$(body '{"id": "D", "host": "h2", "allow_moves": 1, "flavor": {"vcpus": 4, "memory_mb": 8192,
  "extra_specs": {"hw:cpu_policy": "dedicated"}}}' D)
http POST /v1/placements "$(vm vm-2)"; expect_status 201 "vm-2 placed while the store is free"

# Every host row locked by a psql session whose transaction stays open
# until we send it ROLLBACK.
mkfifo "$TMP/psql.in"
"$PG_BINDIR/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_DIR" -p "$PG_PORT" -U np -d "$DB" \
  <"$TMP/psql.in" >"$TMP/psql.out" 2>&1 &
psql=$!
exec 8>"$TMP/psql.in"
printf '%s\n' "BEGIN;" "SELECT id FROM np_hosts FOR UPDATE;" '\echo rows-held' >&8
until grep -q rows-held "$TMP/psql.out" 2>/dev/null || ! kill -0 "$psql" 2>/dev/null; do sleep 0.05; done
grep -q rows-held "$TMP/psql.out" && ok "psql holds every host row" ||
  { not_ok "psql: $(cat "$TMP/psql.out")"; finish; }
store_snapshot "$TMP/before.json"

http POST /v1/placements "$(vm vm-1)"
expect_status 503 "a POST whose host row stays locked past its deadline"
expect_error deadline_exceeded "... says its deadline passed"
http DELETE /v1/placements/vm-2
expect_status 503 "a DELETE whose host row stays locked past its deadline"
expect_error deadline_exceeded "... says so"
http POST /v1/placements "$D"
expect_status 503 "a POST with allow_moves whose host row stays locked"
expect_error deadline_exceeded "... says its deadline passed"
# Four at once, a little apart: those that queue behind the first are
# claimed together, under the earliest deadline among them (each
# client's answer in a folder of its own).
for i in 1 2 3 4; do
  V=$(vm "vm-b$i")
  (TMP=$TMP/b$i; mkdir -p "$TMP"; http POST /v1/placements "$V"; echo "$status" >"$TMP.status"
   cp "$TMP/body" "$TMP.body") &
  sleep 0.2
done
wait_ok=0
for i in 1 2 3 4; do
  while [ ! -s "$TMP/b$i.status" ] && [ "$wait_ok" -lt 600 ]; do sleep 0.1; wait_ok=$((wait_ok + 1)); done
done
n503=0
for i in 1 2 3 4; do
  [ "$(cat "$TMP/b$i.status" 2>/dev/null)" = 503 ] &&
    grep -q '"deadline_exceeded"' "$TMP/b$i.body" && n503=$((n503 + 1))
done
[ "$n503" = 4 ] && ok "four POSTs at once: each 503 deadline_exceeded" ||
  not_ok "four POSTs at once: $n503 of 4 were 503 ($(cat "$TMP"/b?.status 2>/dev/null | tr '\n' ' '))"
kill -0 "$psql" 2>/dev/null && ok "psql still holds the rows (its transaction was not touched)" ||
  not_ok "psql ended: $(cat "$TMP/psql.out")"
store_snapshot "$TMP/during.json"
cmp -s "$TMP/before.json" "$TMP/during.json" && ok "the store is as it was: nothing half made" ||
  not_ok "the store changed while the rows were locked"

printf '%s\n' "ROLLBACK;" >&8
exec 8>&-
wait "$psql" && ok "psql let the rows go" || not_ok "psql: $(cat "$TMP/psql.out")"
store_snapshot "$TMP/after.json"
cmp -s "$TMP/before.json" "$TMP/after.json" && ok "nothing landed once the rows were free" ||
  not_ok "a late request landed after the lock was let go"
for id in vm-1 vm-b1 vm-b2 vm-b3 vm-b4 D; do
  placed "$id" && not_ok "$id is in the store"
done
placed vm-2 && ok "vm-2 is still there: its late DELETE did nothing" || not_ok "vm-2 gone"

http POST /v1/placements "$(vm vm-1)"; expect_status 201 "the POST again on free rows is made"
http DELETE /v1/placements/vm-2; expect_status 204 "the DELETE again releases vm-2"
http POST /v1/placements "$D"; expect_status 201 "D with its move is made now"
python3 -c "import json; d = json.load(open('$TMP/body')); import sys
sys.exit(0 if [m['guest'] for m in d['plan']['moves']] == ['E'] else 1)" &&
  ok "... moving E" || not_ok "D's plan: $(head -c 300 "$TMP/body")"
http GET /v1/metrics
echo "# the most claims in one transaction: $(sed -n 's/^numaplace_claim_commit_largest //p' "$TMP/body")"
grep -q 'numaplace_http_requests_total{route="placement_post",code="503"} 6$' "$TMP/body" &&
  ok "the six late POSTs are counted as 503s" || not_ok "metrics: $(grep 'placement_post' "$TMP/body")"
run fleet check --store "$STORE"
expect_rc 0 "fleet check: usage is the sum of the placements"
svc_stop main
[ "$svc_rc" = 0 ] && ok "the server stops cleanly" || not_ok "server exit $svc_rc"
svc_keep_logs service-deadline-postgresql
finish
