#!/usr/bin/env bash
# bench/pg-claim.sh - where the PostgreSQL server's time goes per claim
# (docs/bench/fleet.md, "The claim's server cost"): a private PostgreSQL
# (tests/lib/pg.sh, fsync on) with pg_stat_statements counting every
# statement, nested ones in functions included (bench/pg-stats.sh); a
# fleet of HOSTS hosts loaded by fleet-bench as bench/fleet.sh loads it;
# then fleet-bench's claim run (NSCHED processes of THREADS threads, group
# commit) and its untimed release of what it placed.  Prints the top
# statements as a markdown table on stderr and one JSON line: the server's
# CPU (postmaster and backends, from /proc) per placement, over the run's
# warm-up, claims and releases; and the top-level statements' own time per
# placement for the claims, the releases and the rest (the reads).
#
#   bench/pg-claim.sh BUILD [HOSTS] [COUNT] [NSCHED]   defaults 1000 800 1
#   THREADS=8 (default)   threads per scheduler process
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:?usage: bench/pg-claim.sh BUILD [HOSTS] [COUNT] [NSCHED]}
hosts=${2:-1000} count=${3:-800} nsched=${4:-1} threads=${THREADS:-8}
fb=$build/bench/fleet-bench
[ -x "$fb" ] || { echo "pg-claim.sh: build $fb first (ninja -C $build)" >&2; exit 2; }
export PG_FSYNC=on
. tests/lib/pg.sh
. bench/pg-stats.sh
pg_start
pg_stats_on
url=$(pg_createdb bench)
"$fb" load "$url&options=-csynchronous_commit%3Doff" "$hosts" 42 50 >/dev/null
pg_q bench "VACUUM ANALYZE" >/dev/null

# Until no more than N backends are left (the run's have exited, their CPU reaped).
settle() {
  local pm
  pm=$(head -n1 "$PG_DIR/data/postmaster.pid")
  for _ in $(seq 1 100); do
    [ "$(pgrep -P "$pm" | wc -l)" -le "$1" ] && return
    sleep 0.1
  done
}
pg_stats_reset bench
settle 99
kids=$(pgrep -P "$(head -n1 "$PG_DIR/data/postmaster.pid")" | wc -l)
c0=$(pg_cpu)
line=$("$fb" run "$url" "$((count / threads))" 2 "$nsched" claim "$threads")
settle "$kids"
c1=$(pg_cpu)
placed=$(echo "$line" | python3 -c 'import json,sys; print(json.load(sys.stdin)["placed"])')
pg_stats_table bench "$placed" >&2
split=$(pg_stats_split bench "$placed")
python3 - "$line" "$c0" "$c1" "$hosts" "$(cut -d' ' -f1-3 /proc/loadavg)" "{$split}" <<'PY'
import json, sys
d = json.loads(sys.argv[1]); p = max(1, d["placed"])
out = {"hosts": int(sys.argv[4])}
for k in ("schedulers", "threads", "placed", "per_second", "p50_ms", "p99_ms", "commits_per_placement"):
    out[k] = d.get(k)
out["server_cpu_ms_per_placement"] = round((float(sys.argv[3]) - float(sys.argv[2])) * 1e3 / p, 3)
out.update({k + "_per_placement": v for k, v in json.loads(sys.argv[6]).items()})
out["load_average"] = sys.argv[5]
print(json.dumps(out))
PY
