#!/usr/bin/env bash
# bench/service/run.sh BUILD [HOSTS] [OPS] - the service benchmark
# (docs/bench/service.md): `numaplace serve` over HTTP on loopback (TCP, a
# bearer token, as deployed), 16 clients (BUILD/bench/service-loadgen, C
# threads; CLIENT=python: tests/service/client.py load, the same requests:
# placements in a mix of Nova flavors, a third released again) over HOSTS
# hosts (default 1,000) of 8 nodes (16 CPUs, 64 GiB each), on SQLite and on
# PostgreSQL (fsync on), with 1 and 3 replicas; then, in the same run,
# OpenStack Placement 8.0 in-process on SQLite over the same fleet
# (bench/service/placement-anchor.py).  Prints JSON lines (also
# $OUT/results.jsonl), each case with the servers' CPU time per placement
# (their utime+stime over the load, all replicas, / POSTs) and the clients'.
# CASES="sqlite1 sqlite3 postgresql1 postgresql3" (the default) picks
# cases; ANCHOR=0 leaves Placement out (without python3-placement the run
# stops at once, exit 2); THREADS=N the servers' --threads
# (default 16).  Not a test: numbers, no assertions.
# Every line also has the disk's flush (disk_fdatasync_ms: 64 fdatasyncs
# of an 8 KiB write in the stores' folder, p50 and p90, at the start and
# before each load: a commit waits for one, so it bounds p50 from below)
# and, for PostgreSQL, its WAL syncs during the load
# (store_wal_syncs_per_placement, store_wal_sync_ms: their mean time).
# PG_STATS=1 counts PostgreSQL's statements during each load
# (pg_stat_statements, bench/pg-stats.sh): the top ones in
# $OUT/pg-stats-CASE.md, the claims', releases' and the rest's time per
# placement in the case's JSON line, and the claims sent
# (store_claims_sent_per_placement) and the host rows' UPDATE time
# (store_host_update_ms_per_placement: lock waits on other replicas'
# claims) per placement.  Every case has the claims refused and made
# again, all replicas' (claim_conflicts_per_placement).
# PERF=1 records `perf record` profiles of the servers during each load
# ($OUT/perf-CASE.data; PERF_ARGS overrides "-F 1999 --call-graph dwarf,16384",
# e.g. "-e syscalls:sys_enter_fdatasync -e syscalls:sys_exit_fdatasync":
# every call, for bench/service/waits.py).
# Every PostgreSQL case also has the rows its sequential scans read
# during the load, of np_placements and of all tables
# (store_placements_seq_rows_per_placement, store_seq_rows_per_placement):
# a claim's plan that scans every placement shows there (it did, by a
# race, in some runs before the claim's functions set enable_seqscan).
# PG_PERF=1 records a profile of PostgreSQL's processes during each
# PostgreSQL load (its backends, WAL writer, all the postmaster's children:
# $OUT/pg-perf-CASE.data; PG_PERF_ARGS overrides "-F 999 -g"; Debian's
# postgres keeps its dynamic symbols: `perf report --no-children --sort
# sym` names its functions).
# SYSCALLS=1 counts the servers' fdatasync, fsync and nanosleep calls
# during the load (`perf stat` on the syscall tracepoints: no sampling)
# into fdatasync_per_placement, fsync_per_placement and
# sleeps_per_placement (SQLite's busy handler sleeps between tries), their
# pwrite64 and pread64 calls (SQLite's page writes and reads), all their
# system calls (syscalls_per_placement).
# SYSCALLS=types counts ~60 kinds of system call one by one too
# (syscalls_by_type_per_placement, the rest as "other"): where they go;
# and the servers' context switches, CPU migrations and page faults
# (context_switches_per_placement, cpu_migrations_per_placement,
# page_faults_per_placement).  Those three events cost the servers CPU on
# every context switch (three replicas read 1.64 instead of 1.32 ms a
# placement with them, docs/bench/service.md): never in an A/B's numbers.
# The stores, logs and profiles go in a $TMPDIR/np-service-bench-* folder
# (/tmp by default; hundreds of MB), removed at exit; KEEP=1 keeps it
# (PERF=1, PG_PERF=1 and PG_STATS=1 do too: their files are their output) and names
# it.  SIGTERM or ^C stops a run within seconds, mid-load too (the long
# steps are jobs, bench/jobs.sh): the servers, clients and PostgreSQL
# stopped, the folder removed unless KEEP=1.
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:?usage: bench/service/run.sh BUILD [HOSTS] [OPS]}
hosts=${2:-1000} ops=${3:-200}
# The anchor needs Debian's python3-placement (not installed by
# scripts/setup.sh): said at once, not after the cases have run.
# PLACEMENT_PYTHON: the interpreter that has it (default /usr/bin/python3).
placement_py=${PLACEMENT_PYTHON:-/usr/bin/python3}
if [ "${ANCHOR:-1}" != 0 ] && ! "$placement_py" -c 'import placement' 2>/dev/null; then
  echo "bench/service/run.sh: the anchor needs OpenStack Placement ($placement_py cannot import placement): apt-get install python3-placement, or ANCHOR=0" >&2
  exit 2
fi
case $build in /*) ;; *) build=$PWD/$build ;; esac
np=$build/cli/numaplace
OUT=$(mktemp -d "${TMPDIR:-/tmp}/np-service-bench-XXXXXX")
export PG_FSYNC=on
# The WAL's syncs timed by the server (pg_stat_wal.wal_sync_time): a
# clock read around each sync, nothing measurable beside the sync itself.
export PG_SETTINGS="-c track_wal_io_timing=on ${PG_SETTINGS:-}"
. tests/lib/pg.sh
. bench/pg-stats.sh
. bench/jobs.sh
. bench/service/hosts.sh
res=$OUT/results.jsonl
if [ "${CLIENT:-c}" = python ]; then
  client="python3 tests/service/client.py load"
else
  client=$build/bench/service-loadgen
  [ -x "$client" ] || { echo "no $client: ninja -C $build" >&2; exit 2; }
fi
cases=${CASES:-sqlite1 sqlite3 postgresql1 postgresql3}
case " $cases " in *postgresql*) pg_start; [ -n "${PG_STATS:-}" ] && pg_stats_on ;; esac
printf 'service-bench-token-0123456789\n' >"$OUT/token"; chmod 600 "$OUT/token"
pids=() helpers=()  # the servers; perf's recorders
stop_all() { stop_tree "${pids[@]}"; pids=(); }
# At exit (also on ^C or SIGTERM): the clients, servers and PostgreSQL
# stopped, the folder removed unless kept (an interrupted run's profiles
# and statement counts are partial: kept only with KEEP=1).
interrupted=0
cleanup() {
  trap '' INT TERM  # a second ^C does not cut the clean-up short
  jobs_kill; stop_tree "${helpers[@]}"; stop_all; pg_stop
  if [ "${KEEP:-0}" = 1 ] || { [ "$interrupted" = 0 ] && [ -n "${PERF:-}${PG_STATS:-}${PG_PERF:-}" ]; }; then
    echo "# kept: $OUT" >&2
  else
    rm -rf "$OUT"
  fi
}
trap cleanup EXIT
trap 'interrupted=1; exit 130' INT TERM

# One host shape (bench/service/hosts.sh).
host_json >"$OUT/host.json"

# The disk's flush right now: 64 times an 8 KiB write and its fdatasync
# in $OUT (the stores' folder), as a JSON object of the median and 90th
# percentile in ms.  A commit waits for one such flush (SQLite's WAL,
# PostgreSQL's WAL), so a placement's p50 cannot be below it; this
# machine's flush has been seen to vary several-fold from hour to hour.
disk_flush() {
  python3 - "$OUT/flush-probe" <<'PY'
import os, statistics, sys, time
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT, 0o600)
buf, ms = b"\0" * 8192, []
try:
    for _ in range(64):
        t = time.perf_counter()
        os.pwrite(fd, buf, 0)
        os.fdatasync(fd)
        ms.append((time.perf_counter() - t) * 1e3)
finally:
    os.close(fd)
    os.unlink(sys.argv[1])
ms.sort()
print('{"p50": %.3f, "p90": %.3f}' % (statistics.median(ms), ms[int(len(ms) * 0.9)]))
PY
}

# The WAL syncs PostgreSQL has made so far and their time in ms, "N MS"
# (cluster-wide: one database is loaded at a time), or "-".
wal_syncs() {
  [ -n "${PG_DIR:-}" ] || { echo -; return; }
  "$PG_BINDIR/psql" -X -qtA -F ' ' -h "$PG_DIR" -p "$PG_PORT" -U np -d postgres \
    -c "SELECT wal_sync, wal_sync_time FROM pg_stat_wal" 2>/dev/null || echo -
}

echo "{\"load_average\": \"$(cut -d' ' -f1-3 /proc/loadavg)\", \"cpus\": $(nproc), \"hosts\": $hosts, \"disk_fdatasync_ms\": $(disk_flush)}" | tee -a "$res"

# CPU seconds (user + system) of the processes PIDS so far, from /proc.
cpu_of() {
  local t=0 p f
  for p in "$@"; do
    f=($(sed 's/^.*) //' "/proc/$p/stat"))  # fields from the 3rd on: utime is the 14th
    t=$((t + f[11] + f[12]))
  done
  echo "scale=3; $t / $(getconf CLK_TCK)" | bc
}

# CPU seconds of the PostgreSQL server so far (the postmaster, its live
# children, and those it has reaped), or "-" when it is not running.
store_cpu() {
  local pm f t kids
  pm=$(head -n1 "${PG_DIR:-/nonexistent}/data/postmaster.pid" 2>/dev/null) || { echo -; return; }
  f=($(sed 's/^.*) //' "/proc/$pm/stat"))  # utime, stime, cutime, cstime: fields 14-17
  t=$((f[11] + f[12] + f[13] + f[14]))
  kids=$(pgrep -P "$pm" | tr '\n' ' ')
  echo "$(echo "scale=3; $t / $(getconf CLK_TCK)" | bc) + $(cpu_of $kids)" | bc
}

# Rows read by sequential scans in database DB so far, "PLACEMENTS ALL"
# (pg_stat_user_tables; a backend reports its counts when it goes idle,
# within a second), or "-".
seq_rows() {
  [ -n "${PG_DIR:-}" ] || { echo -; return; }
  "$PG_BINDIR/psql" -X -qtA -F ' ' -h "$PG_DIR" -p "$PG_PORT" -U np -d "$1" -c "SELECT \
    coalesce(sum(seq_tup_read) FILTER (WHERE relname = 'np_placements'), 0), \
    coalesce(sum(seq_tup_read), 0) FROM pg_stat_user_tables" 2>/dev/null || echo -
}

# serve STORE N: N replicas on TCP ports; sets addrs.
serve() {
  local store=$1 n=$2 r
  addrs=
  for r in $(seq 1 "$n"); do
    "$np" serve --store "$store" --listen 127.0.0.1:0 --token-file "$OUT/token" \
      --log /dev/null --threads "${THREADS:-16}" 2>"$OUT/serve-$r.err" &
    pids+=($!)
    for _ in $(seq 1 600); do grep -qs "serving on" "$OUT/serve-$r.err" && break; sleep 0.05; done
    addrs=${addrs:+$addrs,}$(grep -o 'serving on [^ ]*' "$OUT/serve-$r.err" | sed 's/serving on //')
  done
}

# SYSCALLS=types: these are counted one by one too (perf stat opens one
# descriptor per event and thread: ~60 events x 3 replicas' threads stays
# under the 20,000 descriptors a process may have here); what none of
# them is counts as "other".
syscall_types=(futex epoll_wait epoll_pwait epoll_ctl poll ppoll select pselect6 read write
  readv writev recvfrom sendto recvmsg sendmsg accept4 accept close shutdown setsockopt
  getsockopt fcntl newfstat newfstatat statx lseek fsync openat access faccessat unlink
  getpid gettid mmap munmap mprotect madvise brk mremap sched_yield clock_gettime
  gettimeofday time rt_sigprocmask rt_sigtimedwait flock ioctl getrandom ftruncate
  fallocate newlstat newstat)

# PG_PERF=1: perf record on the postmaster and all its children (the
# servers' connections are open by now: they connect when they start)
# into FILE; sets pg_perf_pid.
pg_perf_start() {
  local pm kids
  pm=$(head -n1 "$PG_DIR/data/postmaster.pid")
  kids=$(pgrep -d, -P "$pm")
  perf record ${PG_PERF_ARGS:--F 999 -g} -o "$1" -p "$pm,$kids" 2>"$1.err" &
  pg_perf_pid=$!
  helpers+=("$pg_perf_pid")
  sleep 0.5
}

run_case() {
  local kind=$1 store=$2 n=$3
  serve "$store" "$n"
  local t0=$(date +%s.%N)
  job load_hosts "${addrs%%,*}" "$OUT/token" "$OUT/host.json" "$hosts"
  echo "# $kind: $hosts hosts loaded in $(echo "$(date +%s.%N) - $t0" | bc) s" >&2
  mkdir -p "$OUT/logs-$kind-$n"
  local cpu0 cpu1 st0 st1 wal0 wal1 flush
  cpu0=$(cpu_of "${pids[@]}")
  if [ -n "${PERF:-}" ]; then  # PERF=1: a profile of the servers under the load
    perf record ${PERF_ARGS:--F 1999 --call-graph dwarf,16384} -o "$OUT/perf-$kind$n.data" \
      -p "$(IFS=,; echo "${pids[*]}")" 2>"$OUT/perf-$kind$n.err" &
    perf_pid=$!
    helpers+=("$perf_pid")
    sleep 0.5
  fi
  if [ -n "${PG_PERF:-}" ] && [ "$kind" = postgresql ]; then
    pg_perf_start "$OUT/pg-perf-$kind$n.data"
  fi
  if [ -n "${SYSCALLS:-}" ]; then
    local calls=(fdatasync fsync clock_nanosleep nanosleep pwrite64 pread64) ev=()
    [ "$SYSCALLS" = types ] && calls+=("${syscall_types[@]}")
    for c in "${calls[@]}"; do ev+=(-e "syscalls:sys_enter_$c"); done
    [ "$SYSCALLS" = types ] && ev+=(-e context-switches -e cpu-migrations -e page-faults)
    perf stat -x, -o "$OUT/syscalls-$kind$n.txt" "${ev[@]}" -e raw_syscalls:sys_enter \
      -p "$(IFS=,; echo "${pids[*]}")" &
    stat_pid=$!
    helpers+=("$stat_pid")
    sleep 0.3
  fi
  local db=- split={}
  if [ -n "${PG_STATS:-}" ] && [ "$kind" = postgresql ]; then
    db=$(echo "$store" | sed 's|^.*/\([^/?]*\)?.*$|\1|')
    pg_stats_reset "$db"
  fi
  local dbname seq0=- seq1=-  # the host loading's scans counted before the load
  dbname=$(echo "$store" | sed 's|^.*/\([^/?]*\)?.*$|\1|')
  [ "$kind" = postgresql ] && sleep 1.2 && seq0=$(seq_rows "$dbname")
  flush=$(disk_flush)
  st0=$(store_cpu) wal0=- wal1=-
  [ "$kind" = postgresql ] && wal0=$(wal_syncs)
  job /usr/bin/time -f '%U %S' -o "$OUT/client-time" \
    $client "$addrs" --clients 16 --ops "$ops" --logdir "$OUT/logs-$kind-$n" \
    --token-file "$OUT/token" --stats "$OUT/stats.json" --id-prefix "$kind$n-" >&2 || true
  cpu1=$(cpu_of "${pids[@]}")
  st1=$(store_cpu)
  [ "$kind" = postgresql ] && wal1=$(wal_syncs) && sleep 1.2 && seq1=$(seq_rows "$dbname")
  if [ -n "${SYSCALLS:-}" ]; then
    kill -INT "$stat_pid"; wait "$stat_pid" || true
  fi
  if [ -n "${PERF:-}" ]; then
    kill -INT "$perf_pid"; wait "$perf_pid" || true
    echo "# profile: perf report -i $OUT/perf-$kind$n.data" >&2
  fi
  if [ -n "${pg_perf_pid:-}" ]; then
    kill -INT "$pg_perf_pid"; wait "$pg_perf_pid" || true
    echo "# PostgreSQL's profile: perf report --no-children --sort sym -i $OUT/pg-perf-$kind$n.data" >&2
    pg_perf_pid=
  fi
  helpers=()
  if [ "$db" != - ]; then  # PG_STATS=1: the statements' time, over the POSTs
    local posts
    posts=$(python3 -c 'import json,sys; d = json.load(open(sys.argv[1]))["counts"]; print(sum(d.get(k, 0) for k in ("placed", "existing", "nofit")))' "$OUT/stats.json")
    pg_stats_table "$db" "$posts" >"$OUT/pg-stats-$kind$n.md"
    split="{$(pg_stats_split "$db" "$posts"), $(pg_stats_claims "$db" "$posts")}"
    echo "# PostgreSQL's statements: $OUT/pg-stats-$kind$n.md" >&2
  fi
  # The server's own time per placement (its histogram), beside the clients' view.
  local a=${addrs%%,*}
  curl -s -H "Authorization: Bearer $(cat "$OUT/token")" "http://$a/v1/metrics" >"$OUT/metrics.txt"
  local conflicts=0 r  # claims refused and made again, every replica's
  for r in ${addrs//,/ }; do
    conflicts=$((conflicts + $(curl -s -H "Authorization: Bearer $(cat "$OUT/token")" "http://$r/v1/metrics" |
      awk '$1 == "numaplace_claim_conflicts_total" {printf "%d", $2; n = 1} END {if (!n) print 0}')))
  done
  python3 - "$OUT/stats.json" "$OUT/metrics.txt" "$kind" "$n" "$hosts" "$cpu0" "$cpu1" \
    "$st0" "$st1" "$OUT/client-time" "$split" "$OUT/syscalls-$kind$n.txt" "$conflicts" \
    "$flush" "$wal0" "$wal1" "$seq0" "$seq1" <<'PY' | tee -a "$res"
import json, re, sys
d = json.load(open(sys.argv[1])); d.pop("errors")
posts = sum(d["counts"].get(k, 0) for k in ("placed", "existing", "nofit"))
d["server_cpu_s"] = round(float(sys.argv[7]) - float(sys.argv[6]), 3)
d["server_cpu_ms_per_placement"] = round(d["server_cpu_s"] * 1e3 / max(1, posts), 3)
if sys.argv[3] == "postgresql" and sys.argv[8] != "-":  # PostgreSQL's own processes (its backends, WAL writer...)
    d["store_cpu_ms_per_placement"] = round((float(sys.argv[9]) - float(sys.argv[8])) * 1e3 / max(1, posts), 3)
d.setdefault("client", "python")
d["client_cpu_s"] = round(sum(map(float, open(sys.argv[10]).read().split()[-2:])), 3)
d["client_cpu_ms_per_placement"] = round(d["client_cpu_s"] * 1e3 / max(1, posts), 3)
d["load_average"] = open("/proc/loadavg").read().split()[0]
m = open(sys.argv[2]).read()
get = lambda k: float(re.search(r'^numaplace_http_request_duration_seconds_%s\{route="placement_post"\} (\S+)' % k, m, re.M).group(1))
d["server_post_mean_ms_replica1"] = round(get("sum") / max(1, get("count")) * 1e3, 3)
# Claims refused (another scheduler took the room first) and made again, all replicas.
d["claim_conflicts_per_placement"] = round(int(sys.argv[13]) / max(1, posts), 4)
# Group commit on replica 1 (np_fleet_commit_stats): claims (and releases) per durable
# commit, and its durable commits per POST it answered.
cm = dict(re.findall(r'^numaplace_(claims_committed_total|claim_commits_total|releases_committed_total) (\S+)$', m, re.M))
if "claims_committed_total" in cm and "claim_commits_total" in cm:
    commits = max(1, float(cm["claim_commits_total"]))
    d["claims_per_commit_replica1"] = round(float(cm["claims_committed_total"]) / commits, 2)
    d["claims_releases_per_commit_replica1"] = round((float(cm["claims_committed_total"]) + float(cm.get("releases_committed_total", 0))) / commits, 2)
    d["commits_per_placement_replica1"] = round(commits / max(1, get("count")), 3)
# How replica 1 refreshed (since it started, the host loading included).
rd = dict(re.findall(r'^numaplace_ledger_reads_total\{scope="(host|all)"\} (\S+)$', m, re.M))
if rd:
    d["ledger_reads_replica1"] = {k: int(float(v)) for k, v in rd.items()}
    b = re.search(r'^numaplace_summaries_built_total (\S+)$', m, re.M)
    d["summaries_built_replica1"] = int(float(b.group(1))) if b else None
    b = re.search(r'^numaplace_summaries_shared_total (\S+)$', m, re.M)
    d["summaries_shared_replica1"] = int(float(b.group(1))) if b else None
try:  # SYSCALLS=1: perf stat's CSV lines "count,,event,..."
    calls = {}
    for line in open(sys.argv[12]):
        f = line.split(",")
        if len(f) > 2 and f[2].startswith("syscalls:sys_enter_"):
            calls[f[2][19:]] = calls.get(f[2][19:], 0) + (int(f[0]) if f[0].isdigit() else 0)
        elif len(f) > 2 and f[2] in ("raw_syscalls:sys_enter", "context-switches", "cpu-migrations", "page-faults"):
            k = {"raw_syscalls:sys_enter": "all", "context-switches": "cs", "page-faults": "faults"}.get(f[2], "migrations")
            calls[k] = calls.get(k, 0) + (int(f[0]) if f[0].isdigit() else 0)
    d["fdatasync_per_placement"] = round(calls.get("fdatasync", 0) / max(1, posts), 3)
    d["fsync_per_placement"] = round(calls.get("fsync", 0) / max(1, posts), 3)
    d["sleeps_per_placement"] = round((calls.get("clock_nanosleep", 0) + calls.get("nanosleep", 0)) / max(1, posts), 3)
    d["pwrite_per_placement"] = round(calls.get("pwrite64", 0) / max(1, posts), 2)
    d["pread_per_placement"] = round(calls.get("pread64", 0) / max(1, posts), 2)
    d["syscalls_per_placement"] = round(calls.get("all", 0) / max(1, posts), 1)
    if len(calls) > 10:  # SYSCALLS=types: each counted type per placement, the rest as "other"
        d["context_switches_per_placement"] = round(calls.get("cs", 0) / max(1, posts), 2)
        d["cpu_migrations_per_placement"] = round(calls.get("migrations", 0) / max(1, posts), 3)
        d["page_faults_per_placement"] = round(calls.get("faults", 0) / max(1, posts), 2)
        kinds = {k: v for k, v in calls.items() if k not in ("all", "cs", "migrations", "faults")}
        kinds["other"] = calls.get("all", 0) - sum(kinds.values())
        d["syscalls_by_type_per_placement"] = {k: round(v / max(1, posts), 2) for k, v in
                                               sorted(kinds.items(), key=lambda kv: -kv[1]) if v}
except OSError:
    pass
# The disk's flush just before the load, and PostgreSQL's WAL syncs during it:
# how many a placement, and their mean time (a commit waits for one).
d["disk_fdatasync_ms"] = json.loads(sys.argv[14])
if sys.argv[15] != "-" and sys.argv[16] != "-":
    (n0, t0), (n1, t1) = (map(float, a.split()) for a in sys.argv[15:17])
    d["store_wal_syncs_per_placement"] = round((n1 - n0) / max(1, posts), 3)
    d["store_wal_sync_ms"] = round((t1 - t0) / max(1, n1 - n0), 3)
if sys.argv[17] != "-" and sys.argv[18] != "-":  # rows read by sequential scans
    (p0, a0), (p1, a1) = (map(int, a.split()) for a in sys.argv[17:19])
    d["store_placements_seq_rows_per_placement"] = round((p1 - p0) / max(1, posts), 2)
    d["store_seq_rows_per_placement"] = round((a1 - a0) / max(1, posts), 2)
d.update(store=sys.argv[3], replicas=int(sys.argv[4]), hosts=int(sys.argv[5]))
d.update({"store_" + k + "_per_placement": v for k, v in json.loads(sys.argv[11]).items()})
print(json.dumps(d))
PY
  job "$np" fleet check --store "$store" >&2
  stop_all
}

for c in $cases; do
  case $c in
    sqlite[13]) run_case sqlite "sqlite:$OUT/s${c#sqlite}.db" "${c#sqlite}" ;;
    postgresql[13]) run_case postgresql "$(pg_createdb "p${c#postgresql}")" "${c#postgresql}" ;;
    *) echo "unknown case '$c'" >&2; exit 2 ;;
  esac
done
pg_stop
[ "${ANCHOR:-1}" = 0 ] && exit 0
echo "# Placement 8.0 over the same $hosts hosts (minutes: its candidate query is slow)" >&2
anchor() { "$placement_py" bench/service/placement-anchor.py "$OUT" "$hosts" 3 | tee -a "$res"; }
job anchor
[ "${KEEP:-0}" = 1 ] && echo "# results: $res" >&2
exit 0
