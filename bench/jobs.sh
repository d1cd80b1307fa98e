# bench/jobs.sh - sourced by benchmarks whose steps run for minutes: each
# long step runs as a background job the script waits for, so that SIGTERM
# or SIGINT runs the script's trap at once.  Bash runs a trap only after
# the foreground command (or a $(...) it reads) returns: a benchmark told
# to stop mid-load would otherwise finish the load first, a minute or more,
# with its PostgreSQL server still up; and a SIGTERM sent to the script
# alone never reaches its clients.
#
#   job CMD...          runs CMD (a program or a shell function; redirect
#                       its output as usual: job f >file) in the
#                       background, waits for it, returns its status
#   jobs_kill           ends every job still running and everything it
#                       started (for the script's exit trap)
#   stop_tree PID...    TERM to each PID and its descendants, KILL to what
#                       is still running 5 s later, then reaps the PIDs
#
# Jobs are started from the script's own shell, never from a $(...)
# subshell (its list would be lost).  Processes are found by parent id
# (pgrep -P), so only what the script started is ever signalled.
# shellcheck shell=bash

np_jobs=()

job() {
  local p q rc=0 rest=()
  "$@" &
  p=$!
  np_jobs+=("$p")
  wait "$p" || rc=$?
  for q in "${np_jobs[@]}"; do [ "$q" = "$p" ] || rest+=("$q"); done
  np_jobs=("${rest[@]}")
  return "$rc"
}

# PID and its descendants, children first (collected before any is
# signalled: a child whose parent died is re-parented and lost to pgrep -P).
tree_of() {
  local c
  for c in $(pgrep -P "$1"); do tree_of "$c"; done
  echo "$1"
}

# Still running (a zombie waiting to be reaped is not).
running() {
  local s
  s=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null) || return 1
  [ "${s%% *}" != Z ]
}

stop_tree() {
  local all=() left=() p
  local tree=()
  for p in "$@"; do
    [ -n "$p" ] || continue
    mapfile -t tree < <(tree_of "$p")
    all+=("${tree[@]}")
  done
  [ ${#all[@]} -gt 0 ] || return 0
  kill -TERM "${all[@]}" 2>/dev/null || true
  for _ in $(seq 1 100); do
    left=()
    for p in "${all[@]}"; do running "$p" && left+=("$p"); done
    [ ${#left[@]} = 0 ] && break
    sleep 0.05
  done
  [ ${#left[@]} = 0 ] || kill -KILL "${left[@]}" 2>/dev/null || true
  for p in "$@"; do [ -n "$p" ] && { wait "$p" 2>/dev/null || true; }; done
  return 0
}

jobs_kill() {
  stop_tree "${np_jobs[@]}"
  np_jobs=()
}
