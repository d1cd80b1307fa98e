# bench/pg-stats.sh - sourced by benchmarks after tests/lib/pg.sh's
# pg_start: what the PostgreSQL server spends its time on, per statement
# (pg_stat_statements, in Debian's postgresql package), nested statements
# in functions included.
#
#   pg_stats_on            load pg_stat_statements (restarts the server)
#   pg_stats_reset DB      forget what was counted so far (creates the extension)
#   pg_stats_table DB N    the top statements of DB by time, as a markdown
#                          table with the time per N (e.g. placements)
#   pg_stats_split DB N    JSON fields: top-level statements' ms per N for
#                          the claim, the release and everything else
#   pg_stats_claims DB N   JSON fields: claims sent (pg_temp.np_claim_try
#                          calls) and the host rows' UPDATE ms (nested, in
#                          the claim and release: a wait on another
#                          transaction's row lock is in it) per N
#   pg_cpu                 CPU seconds of the server so far: the postmaster,
#                          its live children and those it has reaped

pg_q() { "$PG_BINDIR/psql" -X -qtA -h "$PG_DIR" -p "$PG_PORT" -U np -d "$1" -c "$2"; }

pg_stats_on() {
  pg_q postgres "ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'" >/dev/null
  pg_as "$PG_BINDIR/pg_ctl" -D "$PG_DIR/data" -w -t 60 restart >/dev/null
  pg_q postgres "ALTER SYSTEM SET pg_stat_statements.track = 'all'" >/dev/null  # known once loaded
  pg_q postgres "SELECT pg_reload_conf()" >/dev/null
}

pg_stats_reset() {
  pg_q "$1" "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" >/dev/null
  pg_q "$1" "SELECT pg_stat_statements_reset()" >/dev/null
}

_pg_stats_of() { echo "dbid = (SELECT oid FROM pg_database WHERE datname = '$1')"; }

pg_stats_table() {
  pg_q "$1" "SELECT round(total_exec_time::numeric, 1), calls, rows, toplevel,
      left(regexp_replace(query, '\s+', ' ', 'g'), 100) FROM pg_stat_statements
      WHERE $(_pg_stats_of "$1") ORDER BY total_exec_time DESC LIMIT 30" |
    awk -F'|' -v n="$2" 'BEGIN {print "| ms | calls | rows | top | ms per placement | statement |\n|---|---|---|---|---|---|"}
      {gsub(/\|/, "\\|", $5); printf "| %s | %s | %s | %s | %.3f | `%s` |\n", $1, $2, $3, $4, n ? $1 / n : 0, $5}'
}

pg_stats_split() {
  pg_q "$1" "SELECT round(coalesce(sum(total_exec_time) FILTER (WHERE query ~* 'claim'), 0)::numeric / $2, 3),
      round(coalesce(sum(total_exec_time) FILTER (WHERE query ~* 'release'), 0)::numeric / $2, 3),
      round(coalesce(sum(total_exec_time) FILTER (WHERE query !~* 'claim|release'), 0)::numeric / $2, 3)
      FROM pg_stat_statements WHERE toplevel AND $(_pg_stats_of "$1")" |
    awk -F'|' '{printf "\"claim_exec_ms\": %s, \"release_exec_ms\": %s, \"other_exec_ms\": %s", $1, $2, $3}'
}

pg_stats_claims() {
  pg_q "$1" "SELECT round(coalesce(sum(calls) FILTER (WHERE query ~* 'np_claim_try'), 0)::numeric / $2, 4),
      round(coalesce(sum(total_exec_time) FILTER (WHERE query ~* '^\s*UPDATE np_hosts'), 0)::numeric / $2, 3)
      FROM pg_stat_statements WHERE $(_pg_stats_of "$1")" |
    awk -F'|' '{printf "\"claims_sent\": %s, \"host_update_ms\": %s", $1, $2}'
}

pg_cpu() {
  local pm f t p
  pm=$(head -n1 "$PG_DIR/data/postmaster.pid")
  f=($(sed 's/^.*) //' "/proc/$pm/stat"))  # utime, stime, cutime, cstime: fields 14-17
  t=$((f[11] + f[12] + f[13] + f[14]))
  for p in $(pgrep -P "$pm"); do
    f=($(sed 's/^.*) //' "/proc/$p/stat" 2>/dev/null)) || continue
    t=$((t + f[11] + f[12]))
  done
  echo "scale=3; $t / $(getconf CLK_TCK)" | bc
}
