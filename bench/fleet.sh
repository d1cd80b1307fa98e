#!/usr/bin/env bash
# bench/fleet.sh - the fleet benchmark (docs/bench/fleet.md): fleets of 100,
# 1,000 and 10,000 hosts of 8 NUMA nodes with a seeded mixed load, numaplace's
# scheduler in-process (1 and 3 schedulers, SQLite and PostgreSQL), and Nova's
# NUMATopologyFilter over the same hosts and requests, in one run.
#
#   bench/fleet.sh BUILD [SIZES]       e.g. bench/fleet.sh build "100 1000 10000"
#
# Stores: a SQLite file (synchronous=FULL while measured) and a private
# PostgreSQL 15 server started with tests/lib/pg.sh (fsync on, default
# synchronous_commit while measured).  Loading uses synchronous=normal /
# synchronous_commit=off: it is set-up, not measured.  Prints JSON lines
# (also in $OUT/results.jsonl) and a markdown table.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:?usage: bench/fleet.sh BUILD [SIZES]}
sizes=${2:-100 1000 10000}
fb=$build/bench/fleet-bench
[ -x "$fb" ] || { echo "fleet.sh: build $fb first (ninja -C $build bench/fleet-bench)" >&2; exit 2; }
OUT=$(mktemp -d /tmp/np-fleet-bench-XXXXXX)
export PG_FSYNC=on
. tests/lib/pg.sh
pg_start
res=$OUT/results.jsonl
seed=42 fill=50

# The machine's commit latency now (shared machines vary by 10x within an hour).
fsync=$(cd "$OUT" && "$PG_BINDIR/pg_test_fsync" -s 1 2>/dev/null | awk '/^ +fdatasync/ {print $(NF-1); exit}')
echo "{\"fdatasync_us\": ${fsync:-null}, \"load_average\": \"$(cut -d' ' -f1-3 /proc/loadavg)\"}" | tee -a "$res"

note() { echo "$*" | tee -a "$res"; }
for n in $sizes; do
  case $n in
    100) count=300 count3=200 full=100 nreq=30 ;;
    1000) count=1000 count3=500 full=100 nreq=10 ;;
    *) count=1000 count3=700 full=20 nreq=3 ;;
  esac
  db=$OUT/fleet-$n.db
  pgdb=$(pg_createdb "fleet$n")
  echo "== $n hosts" >&2
  note "$("$fb" load "sqlite:$db?synchronous=normal" "$n" $seed $fill | sed "s/^{/{\"load\": \"sqlite\", /")"
  note "$("$fb" load "$pgdb&options=-csynchronous_commit%3Doff" "$n" $seed $fill |
    sed "s/^{/{\"load\": \"postgresql\", /")"
  for store in "sqlite:$db" "$pgdb"; do
    note "$("$fb" run "$store" "$count" 1 1 dry | sed "s/^{/{\"hosts\": $n, /")"
    note "$("$fb" run "$store" "$full" 1 1 full | sed "s/^{/{\"hosts\": $n, /")"
    note "$("$fb" run "$store" "$count" 2 1 | sed "s/^{/{\"hosts\": $n, /")"
    note "$("$fb" run "$store" "$count3" 3 3 | sed "s/^{/{\"hosts\": $n, /")"
  done
  "$fb" export "sqlite:$db" 1 "$nreq" "$OUT/nova-$n.json"
  note "$(NOVA_DIR=${NOVA_DIR:-../shared/nova} /usr/bin/python3 bench/fleet-nova "$OUT/nova-$n.json" |
    sed "s/^{/{\"nova\": true, /")"
  rm -f "$db" "$db-wal" "$db-shm"
done
/usr/bin/python3 - "$res" <<'EOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
print("\n| hosts | store | schedulers | mode | p50 ms | p99 ms | per second | no fit | retries | hosts looked | warm-up ms | RSS MiB |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|")
for r in rows:
    if "mode" in r:
        print("| %d | %s | %d | %s | %.3f | %.3f | %.0f | %d | %d | %.0f | %.0f | %.0f |" % (r["hosts"],
              r["store"], r["schedulers"], r["mode"], r["p50_ms"], r["p99_ms"], r["per_second"],
              r["nofit"], r["attempts"] - r["schedules"], r["hosts_looked_mean"], r["warmup_ms"],
              r["rss_mb"]))
print("\n| hosts | Nova filter_all median ms | per host µs | numaplace dry p50 ms | ratio | numaplace full p50 ms | ratio |")
print("|---|---|---|---|---|---|---|")
for r in rows:
    if r.get("nova"):
        n = r["hosts"]
        dry = [x for x in rows if x.get("hosts") == n and x.get("mode") == "dry" and x["store"] == "sqlite"][0]
        full = [x for x in rows if x.get("hosts") == n and x.get("mode") == "full" and x["store"] == "sqlite"][0]
        print("| %d | %.1f | %.1f | %.3f | %.0fx | %.3f | %.0fx |" % (n, r["median_ms"], r["per_host_us"],
              dry["p50_ms"], r["median_ms"] / dry["p50_ms"], full["p50_ms"], r["median_ms"] / full["p50_ms"]))
EOF
echo "results: $res" >&2
