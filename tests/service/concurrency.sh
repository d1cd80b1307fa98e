#!/usr/bin/env bash
# tests/service/concurrency.sh KIND OPS - 16 HTTP clients (client.py load),
# OPS placements each and a third of them released again, on one store
# (KIND sqlite or postgresql) served by 3 replicas; one is killed with
# SIGKILL mid-run and started again, its clients move to the others and
# repeat what was cut, which the ids make safe.  On SQLite the killed
# replica may hold the write lock the replicas hand to each other
# (lib/fleet/store-lock.c): the others must go on.  Then every placement
# answered 200/201 is in the store, every release answered is gone,
# nothing else is there, and `fleet check` finds no over-commit.  The
# replicas log every request (route, status, time) to $TMP/rN.log; when a
# check fails those logs and the clients' are kept (svc_keep_logs).
. "$(dirname "$0")/lib.sh"
kind=$1 ops=${2:-100}
HOST=$NP_SRC/tests/data/json/64amd64-4s2n4ca2co.json
fleet_store "$kind"
n=3
addrs=
for r in $(seq 1 "$n"); do
  svc_start "r$r" --store "$STORE" --listen "unix:$TMP/r$r.sock" ||
    { not_ok "replica $r starts"; finish; }
  addrs=${addrs:+$addrs,}unix:$TMP/r$r.sock
done
SVC=unix:$TMP/r1.sock
for h in $(seq 1 12); do http PUT "/v1/hosts/h$h" "$HOST"; [ "$status" = 201 ] || break; done
expect_status 201 "12 hosts registered over HTTP"

mkdir -p "$TMP/logs"
python3 "$(dirname "$0")/client.py" load "$addrs" --clients 16 --ops "$ops" \
  --logdir "$TMP/logs" --stats "$TMP/stats.json" >"$TMP/load.out" 2>&1 &
load=$!
if [ "$n" -gt 1 ]; then
  # Kill replica 2 once the clients are well under way, start it again.
  for i in $(seq 1 200); do
    [ "$(cat "$TMP"/logs/*.log 2>/dev/null | wc -l)" -gt $((ops * 3)) ] && break; sleep 0.05
  done
  kill -9 "${SVC_PID[r2]}"; wait "${SVC_PID[r2]}" 2>/dev/null
  unset "SVC_PID[r2]"
  sleep 0.5
  svc_start r2 --store "$STORE" --listen "unix:$TMP/r2.sock" &&
    ok "a replica killed with SIGKILL mid-run starts again on its socket" ||
    not_ok "the killed replica does not start again"
fi
wait $load; lrc=$?
sed 's/^/# /' "$TMP/load.out"
if [ "$lrc" = 0 ]; then ok "every request got the answer it should"
else not_ok "client errors: $(grep error "$TMP/load.out" | head -5)"; fi
placed=$(python3 -c "import json; print(json.load(open('$TMP/stats.json'))['counts'].get('placed', 0))")
if [ "$placed" -gt $((4 * ops)) ]; then ok "$placed placements made"; else not_ok "only $placed placements made"; fi
if [ "$n" -gt 1 ]; then
  fo=$(python3 -c "import json; print(json.load(open('$TMP/stats.json'))['failovers'])")
  [ "$fo" -gt 0 ] && ok "clients moved to another replica $fo times" ||
    not_ok "no client noticed the killed replica"
fi
fleet_verify 0 "$TMP"/logs/*.log
for r in $(seq 1 "$n"); do
  svc_stop "r$r"
  [ "$svc_rc" = 0 ] && ok "replica $r stops cleanly on SIGTERM" || not_ok "replica $r exit $svc_rc"
done
svc_keep_logs "service-concurrency-$kind"
finish
