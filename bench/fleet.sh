#!/usr/bin/env bash
# bench/fleet.sh - the fleet benchmark (docs/bench/fleet.md): fleets of 100,
# 1,000 and 10,000 hosts of 8 NUMA nodes with a seeded mixed load, numaplace's
# scheduler in-process (1 and 3 schedulers, SQLite and PostgreSQL), and Nova's
# NUMATopologyFilter over the same hosts and requests, in one run.
#
#   bench/fleet.sh BUILD [SIZES]       e.g. bench/fleet.sh build "100 1000 10000"
#   bench/fleet.sh BUILD               builds BUILD first (fleet-bench and the
#                                      store modules it loads) when BUILD is a
#                                      Meson build folder
#   STORES=sqlite bench/fleet.sh ...   only these stores (default "sqlite
#                                      postgresql"); NOVA=0 leaves Nova out
#
# Group commit: every claim row runs 1 and 3 scheduler processes of one
# thread (a group of one handle: one commit per claim, as before group
# commit) and of THREADS threads (default 8), each thread with its own
# handle in its process's group, whose claims share commits.  Each claim
# row says the commits per placement (the group's own counters), the WAL
# syncs per placement (PostgreSQL: pg_stat_wal's wal_sync over the run;
# SQLite: fsync+fdatasync calls counted with strace -f in a separate,
# untimed run of the same shape, less one per placement for the untimed
# clean-up, which releases each placement in its own transaction; for
# PostgreSQL the clean-up's are in, as its own group commit may flush
# several releases at once),
# and the schedulers' CPU per schedule (not the PostgreSQL server's).
#
# Stores: a SQLite file (synchronous=FULL while measured) and a private
# PostgreSQL 15 server started with tests/lib/pg.sh (fsync on, default
# synchronous_commit while measured).  Loading uses synchronous=normal /
# synchronous_commit=off: it is set-up, not measured.  Prints JSON lines
# (also in $OUT/results.jsonl) and a markdown table.
#
# SIGTERM or ^C stops a run within seconds (the long steps are jobs,
# bench/jobs.sh): fleet-bench, Nova and PostgreSQL stopped, the SQLite
# fleets removed; the results so far stay in $OUT.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:?usage: bench/fleet.sh BUILD [SIZES]}
sizes=${2:-100 1000 10000}
fb=$build/bench/fleet-bench
threads=${THREADS:-8}
stores=${STORES:-sqlite postgresql}
with_pg() { case " $stores " in *" postgresql "*) return 0 ;; *) return 1 ;; esac; }
with_sqlite() { case " $stores " in *" sqlite "*) return 0 ;; *) return 1 ;; esac; }
[ -f "$build/build.ninja" ] && ninja -C "$build" >&2  # fleet-bench and the store modules
[ -x "$fb" ] || { echo "fleet.sh: build $fb first (ninja -C $build bench/fleet-bench)" >&2; exit 2; }
OUT=$(mktemp -d /tmp/np-fleet-bench-XXXXXX)
export PG_FSYNC=on
. tests/lib/pg.sh
. bench/jobs.sh
res=$OUT/results.jsonl
if with_pg; then pg_start; else PG_BINDIR=$(pg_bin); fi  # pg_test_fsync below
# At exit (also on ^C or SIGTERM; replaces pg_start's traps): what runs stopped.
trap 'trap "" INT TERM; jobs_kill; pg_stop; rm -f "$OUT"/fleet-*.db*; echo "results: $res" >&2' EXIT
trap 'exit 130' INT TERM
seed=42 fill=50

# A long step as a job (bench/jobs.sh), its output in $OUT/step; a failed
# one is said and the run goes on (its row noted as far as it got).
step() {
  local rc=0
  job "$@" >"$OUT/step" || rc=$?
  [ "$rc" = 0 ] || echo "# fleet.sh: '$*' exited $rc" >&2
}
# The machine's commit latency now (shared machines vary by 10x within an hour).
fsync_us() { cd "$OUT" && "$PG_BINDIR/pg_test_fsync" -s 1 2>/dev/null | awk '/^ +fdatasync/ {print $(NF-1); exit}'; }
step fsync_us
fsync=$(cat "$OUT/step")
echo "{\"fdatasync_us\": ${fsync:-null}, \"load_average\": \"$(cut -d' ' -f1-3 /proc/loadavg)\"}" | tee -a "$res"

note() { echo "$*" | tee -a "$res"; }
# PostgreSQL's WAL syncs so far (pg_stat_wal, cluster-wide; only this benchmark runs there).
wal_syncs() {
  with_pg || { echo 0; return; }
  "$PG_BINDIR/psql" -X -qtA -h "$PG_DIR" -p "$PG_PORT" -U np -d postgres \
    -c "SELECT wal_sync FROM pg_stat_wal" 2>/dev/null || echo 0
}
# One claim run: fleet-bench's JSON line with the hosts and the WAL syncs per
# placement added, noted (called from the script's shell: its runs are jobs).
claim_row() {
  local n=$1 store=$2 count=$3 seed=$4 nsched=$5 nthr=$6 w0 w1 line syncs=null
  w0=$(wal_syncs)
  step "$fb" run "$store" "$count" "$seed" "$nsched" claim "$nthr"
  line=$(cat "$OUT/step")
  w1=$(wal_syncs)
  case $store in
    sqlite:*)
      if command -v strace >/dev/null; then
        # The same run again, untimed, counting the sync calls of its processes.
        step strace -f -c -e trace=fsync,fdatasync -o "$OUT/strace" \
          "$fb" run "$store" "$count" "$((seed + 100))" "$nsched" claim "$nthr"
        syncs=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["placed"])' <"$OUT/step") || true
        syncs=$(awk -v p="$syncs" '$NF ~ /^(fsync|fdatasync)$/ {s += $4} END {printf "%.3f", p ? (s - p) / p : 0}' "$OUT/strace")
      fi ;;
    # PostgreSQL flushes for several transactions at once, releases too: all counted.
    *) syncs=$(echo "$line" | python3 -c 'import json,sys; p = json.load(sys.stdin)["placed"]; print("%.3f" % (('"$w1"' - '"$w0"') / p if p else 0))') || syncs=null ;;
  esac
  note "$(echo "$line" | sed "s/^{/{\"hosts\": $n, \"syncs_per_placement\": $syncs, /")"
}
for n in $sizes; do
  case $n in
    100) count=300 count3=200 full=100 nreq=30 ;;
    1000) count=1000 count3=500 full=100 nreq=10 ;;
    *) count=1000 count3=700 full=20 nreq=3 ;;
  esac
  db=$OUT/fleet-$n.db
  echo "== $n hosts" >&2
  # The SQLite fleet is loaded always: Nova's requests are exported from it.
  step "$fb" load "sqlite:$db?synchronous=normal" "$n" $seed $fill
  note "$(sed "s/^{/{\"load\": \"sqlite\", /" "$OUT/step")"
  urls=()
  with_sqlite && urls+=("sqlite:$db")
  if with_pg; then
    pgdb=$(pg_createdb "fleet$n")
    urls+=("$pgdb")
    step "$fb" load "$pgdb&options=-csynchronous_commit%3Doff" "$n" $seed $fill
    note "$(sed "s/^{/{\"load\": \"postgresql\", /" "$OUT/step")"
    # Statistics as autovacuum would have them a minute later: right after a
    # bulk load the planner still plans with the empty tables' statistics and
    # the change scan (np_hosts.change_seq > N) takes ~37 ms instead of 0.07.
    job "$PG_BINDIR/psql" -X -qtA -h "$PG_DIR" -p "$PG_PORT" -U np -d "fleet$n" -c "VACUUM ANALYZE" >&2
  fi
  for store in "${urls[@]}"; do
    step "$fb" run "$store" "$count" 1 1 dry
    note "$(sed "s/^{/{\"hosts\": $n, /" "$OUT/step")"
    step "$fb" run "$store" "$full" 1 1 full
    note "$(sed "s/^{/{\"hosts\": $n, /" "$OUT/step")"
    claim_row "$n" "$store" "$count" 2 1 1
    claim_row "$n" "$store" "$((count / threads))" 2 1 "$threads"
    claim_row "$n" "$store" "$count3" 3 3 1
    claim_row "$n" "$store" "$((count3 / threads))" 3 3 "$threads"
  done
  if [ "${NOVA:-1}" != 0 ]; then
    job "$fb" export "sqlite:$db" 1 "$nreq" "$OUT/nova-$n.json"
    NOVA_DIR=${NOVA_DIR:-../shared/nova} step /usr/bin/python3 bench/fleet-nova "$OUT/nova-$n.json"
    note "$(sed "s/^{/{\"nova\": true, /" "$OUT/step")"
  fi
  rm -f "$db" "$db-wal" "$db-shm"
done
/usr/bin/python3 - "$res" <<'EOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
print("\n| hosts | store | schedulers x threads | mode | p50 ms | p99 ms | per second | no fit | retries | hosts looked | commits/placement | syncs/placement | CPU ms/schedule | warm-up ms | RSS MiB |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
for r in rows:
    if "mode" in r:
        claim = r["mode"] == "claim"
        print("| %d | %s | %d x %d | %s | %.3f | %.3f | %.0f | %d | %d | %.0f | %s | %s | %.3f | %.0f | %.0f |" % (r["hosts"],
              r["store"], r["schedulers"], r["threads"], r["mode"], r["p50_ms"], r["p99_ms"], r["per_second"],
              r["nofit"], r["attempts"] - r["schedules"], r["hosts_looked_mean"],
              "%.2f" % r["commits_per_placement"] if claim else "-",
              "%.2f" % r["syncs_per_placement"] if claim and r.get("syncs_per_placement") is not None else "-",
              r["cpu_ms_per_schedule"], r["warmup_ms"], r["rss_mb"]))
if any(r.get("nova") for r in rows):
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
