#!/usr/bin/env bash
# tests/service/deadline.sh HOLD_LOCK - the write deadline of `numaplace
# serve` (--write-deadline) on a real SQLite store: a POST or DELETE
# whose claim or release cannot begin within the deadline of its arrival
# is answered 503 deadline_exceeded (a JSON error) and leaves the store
# as it was, so that a client that gave up and asked another replica
# cannot have it land later.  Two ways to be late: numaplace's own write
# lock held by another writer (HOLD_LOCK, tests/service/hold-lock.c:
# the wait ends at the deadline), and SQLite's write lock held by a
# writer outside numaplace (python's sqlite3) until after the deadline
# (the claim then has the lock, sees the deadline passed inside the
# transaction, and ends it empty).  Then the same requests once the
# store is free are made, a released id can be placed again, and a
# deadline not shorter than --timeout is refused.  Last, a claim with
# moves (allow_moves) behind numaplace's write lock, and behind SQLite's own
# lock held past its deadline: 503 too.
# tests/service/deadline-pg.sh does the same on PostgreSQL's row locks.
. "$(dirname "$0")/lib.sh"
HOLD=$1
HOST=$NP_SRC/tests/data/json/64amd64-4s2n4ca2co.json
fleet_store sqlite
DB=${STORE#sqlite:}
body() { printf '%s' "$1" >"$TMP/$2.json"; echo "$TMP/$2.json"; }
# placed ID: the store holds placement ID (read with fleet show, which takes no lock)
placed() {
  "$NUMAPLACE" fleet show --store "$STORE" --format json | python3 -c '
import json, sys
d = json.load(sys.stdin)
sys.exit(0 if any(p["id"] == sys.argv[1] for h in d["hosts"] for p in h["placements"]) else 1)' "$1"
}

run serve --store "$STORE" --listen "unix:$TMP/bad.sock" --timeout 3 --write-deadline 3
expect_rc 2 "--write-deadline not shorter than --timeout is refused"
expect_one_line_err "the refused deadline"

svc_start main --store "$STORE" --listen "unix:$TMP/s.sock" --log "$TMP/access.log" \
  --timeout 10 --write-deadline 1 || { not_ok "the server starts"; finish; }
SVC=unix:$TMP/s.sock
http PUT /v1/hosts/h1 "$HOST"; expect_status 201 "a host"
V1=$(body '{"id": "vm-1", "flavor": {"vcpus": 2, "memory_mb": 2048}}' v1)
V2=$(body '{"id": "vm-2", "flavor": {"vcpus": 2, "memory_mb": 2048}}' v2)
http POST /v1/placements "$V2"; expect_status 201 "vm-2 placed while the store is free"

# 1. numaplace's write lock held by another writer until we say.
# hold_lock DB: HOLD takes DB's write lock and keeps it until fd 7 (its
# stdin, a FIFO) is closed; $hold is its pid.
hold_lock() {
  rm -f "$TMP/hold.in" "$TMP/hold.out"
  mkfifo "$TMP/hold.in"
  "$HOLD" "$1" <"$TMP/hold.in" >"$TMP/hold.out" 2>&1 &
  hold=$!
  exec 7>"$TMP/hold.in"
  until grep -q held "$TMP/hold.out" 2>/dev/null || ! kill -0 "$hold" 2>/dev/null; do sleep 0.05; done
  grep -q held "$TMP/hold.out" && ok "another writer holds $1's write lock" ||
    not_ok "hold-lock: $(cat "$TMP/hold.out")"
}
hold_lock "$DB"
http POST /v1/placements "$V1"
expect_status 503 "a POST that cannot take the write lock within its deadline"
expect_error deadline_exceeded "... says its deadline passed"
placed vm-1 && not_ok "vm-1 was made anyway" || ok "... and vm-1 is not in the store"
http DELETE /v1/placements/vm-2
expect_status 503 "a DELETE that cannot take the write lock within its deadline"
expect_error deadline_exceeded "... says so"
exec 7>&-
wait "$hold" && ok "the other writer let the lock go" || not_ok "hold-lock exit"
placed vm-1 && not_ok "vm-1 landed after the lock was free" || ok "nothing landed once the lock was free"
placed vm-2 && ok "vm-2 is still there: its late DELETE did nothing" || not_ok "vm-2 gone"
http POST /v1/placements "$V1"; expect_status 201 "the POST again on a free store is made"

# 2. SQLite's own write lock held past the deadline by a writer outside
# numaplace: sqlite_holder DB takes it and keeps it 3 s past $TMP/sq.go.
sqlite_holder() {
  rm -f "$TMP/sq.ready" "$TMP/sq.go"
  python3 - "$1" "$TMP/sq.ready" "$TMP/sq.go" >"$TMP/sq.out" 2>&1 <<'EOF' &
import os, sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)
db.execute("BEGIN IMMEDIATE")
open(sys.argv[2], "w").close()
while not os.path.exists(sys.argv[3]):
    time.sleep(0.02)
time.sleep(3)  # the request sent at 'go' has a 1 s deadline: passed by then
db.execute("ROLLBACK")
EOF
  sq=$!
  until [ -e "$TMP/sq.ready" ] || ! kill -0 "$sq" 2>/dev/null; do sleep 0.05; done
}
# post_behind_sqlite DB BODYFILE: POST BODYFILE while sqlite_holder keeps
# DB's lock past the request's deadline; $status and $TMP/body as http sets them.
post_behind_sqlite() {
  sqlite_holder "$1"
  ( http POST /v1/placements "$2"; echo "$status" >"$TMP/late.status"; cp "$TMP/body" "$TMP/late.body" ) &
  local post=$!
  touch "$TMP/sq.go"
  wait "$post"; wait "$sq" || not_ok "the sqlite3 writer: $(cat "$TMP/sq.out")"
  status=$(cat "$TMP/late.status"); cp "$TMP/late.body" "$TMP/body"
}
V3=$(body '{"id": "vm-3", "flavor": {"vcpus": 2, "memory_mb": 2048}}' v3)
post_behind_sqlite "$DB" "$V3"
expect_status 503 "a POST that had SQLite's write lock only after its deadline"
expect_error deadline_exceeded "... says its deadline passed"
placed vm-3 && not_ok "vm-3 was made anyway" || ok "... and vm-3 is not in the store"
http POST /v1/placements "$V3"; expect_status 201 "both locks were given back: vm-3 made now"

# 3. A released id is free: placed again by a new POST (the deadline, not
# a tombstone, is what keeps a stale POST from landing after its DELETE).
http DELETE /v1/placements/vm-1; expect_status 204 "vm-1 released"
placed vm-1 && not_ok "vm-1 still there" || ok "vm-1 gone"
http POST /v1/placements "$V1"; expect_status 201 "a new POST of a released id places it again"
http GET /v1/metrics
grep -q 'numaplace_http_requests_total{route="placement_post",code="503"} 2$' "$TMP/body" &&
  ok "the two late POSTs are counted as 503s in the metrics" ||
  not_ok "metrics: no 503"

run fleet check --store "$STORE"
expect_rc 0 "fleet check: usage is the sum of the placements"
svc_stop main
[ "$svc_rc" = 0 ] && ok "the server stops cleanly" || not_ok "server exit $svc_rc"

# 4. A claim that moves another placement (allow_moves) waits for the same
# lock: on a store of its own, the simulator's make-room host filled as
# tests/service/moves.sh fills it (D fits only after E moves).
STORE=sqlite:$TMP/moves.db
fill_make_room h2
svc_start moves --store "$STORE" --listen "unix:$TMP/m.sock" --timeout 10 --write-deadline 1 ||
  { not_ok "the second server starts"; finish; }
SVC=unix:$TMP/m.sock
D=$(body '{"id": "D", "allow_moves": 1, "flavor": {"vcpus": 4, "memory_mb": 8192,
  "extra_specs": {"hw:cpu_policy": "dedicated"}}}' d)
store_snapshot "$TMP/before.json"
hold_lock "${STORE#sqlite:}"
http POST /v1/placements "$D"
expect_status 503 "a POST with allow_moves that cannot take the write lock within its deadline"
expect_error deadline_exceeded "... says its deadline passed"
exec 7>&-
wait "$hold" && ok "the other writer let the lock go" || not_ok "hold-lock exit"
store_snapshot "$TMP/after.json"
cmp -s "$TMP/before.json" "$TMP/after.json" && ok "D was not made and E did not move" ||
  not_ok "the store changed"
# ... and SQLite's own lock, held by a writer outside numaplace past the
# deadline: the claim with moves gets it late and makes nothing.
post_behind_sqlite "${STORE#sqlite:}" "$D"
expect_status 503 "a POST with allow_moves that had SQLite's write lock only after its deadline"
expect_error deadline_exceeded "... says its deadline passed"
store_snapshot "$TMP/after2.json"
cmp -s "$TMP/before.json" "$TMP/after2.json" && ok "... D was not made and E did not move" ||
  not_ok "the store changed behind SQLite's lock"
http POST /v1/placements "$D"; expect_status 201 "the same POST on a free store moves E and places D"
run fleet check --store "$STORE"
expect_rc 0 "fleet check of the second store"
svc_stop moves
[ "$svc_rc" = 0 ] && ok "the second server stops cleanly" || not_ok "second server exit $svc_rc"
finish
