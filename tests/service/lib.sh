# tests/service/lib.sh - sourced by the service tests: real `numaplace
# serve` processes on loopback, and HTTP through curl.
#
#   svc_start NAME ARGS...   starts `numaplace serve ARGS...` (log in
#                            $TMP/NAME.log), waits until it answers;
#                            sets SVC_PID[NAME]; its address: what ARGS say
#   svc_addr NAME            "127.0.0.1:PORT" of a TCP server started on port 0
#   svc_stop NAME            SIGTERM, waits; $svc_rc is its exit code
#   [CT=TYPE] http METHOD URL [BODYFILE] [CURLARGS...]
#                            one request to $SVC (unix:PATH or http://H:P);
#                            sets $status and $TMP/body ($body)
#   expect_status N "what"   the last request answered N
#   expect_error CODE "what" ... with {"error": {"code": CODE, "message": ...}}
#   store_snapshot FILE      `fleet show --format json` of $STORE into FILE
#   fill_make_room NAME      host NAME (tests/data/json/make-room-2n.json)
#                            added to $STORE and filled with A, B, C, E as
#                            placement with moves needs it: a dedicated
#                            4-vCPU 8 GiB guest fits only after E moves
#   svc_keep_logs NAME       when a check failed: the servers' logs and
#                            the clients' ($TMP/*.log, $TMP/logs) copied to
#                            $NP_BUILD/meson-logs/NAME-DATE (beside meson's
#                            test log; /tmp without NP_BUILD), and the end
#                            of each server's log printed as '#' lines
. "$(dirname "${BASH_SOURCE[0]}")/../fleet/lib.sh"
declare -A SVC_PID
SVC_TOKEN=

svc_cleanup() {
  local n
  for n in "${!SVC_PID[@]}"; do kill -9 "${SVC_PID[$n]}" 2>/dev/null; done
}
trap "svc_cleanup; $(trap -p EXIT | sed -e "s/^trap -- '//" -e "s/' EXIT$//")" EXIT

# Wait until the server NAME says it serves (or died).  120 s only guard a
# hang: 10 s, as it was, were not enough for a sanitizer build opening its
# store on a loaded machine.
# BEFORE: the "serving on" lines the log held before this start (a server
# started again under the same name appends to the same log).
svc_wait() {
  local name=$1 before=${2:-0} end=$((SECONDS + 120)) n
  while [ "$SECONDS" -lt "$end" ]; do
    kill -0 "${SVC_PID[$name]}" 2>/dev/null || return 1
    n=$(grep -c "serving on" "$TMP/$name.log" 2>/dev/null)
    if [ "${n:-0}" -gt "$before" ]; then return 0; fi
    sleep 0.05
  done
  return 1
}

svc_start() {
  local name=$1 before; shift
  before=$(grep -c "serving on" "$TMP/$name.log" 2>/dev/null)
  "$NUMAPLACE" serve "$@" >>"$TMP/$name.log" 2>&1 &
  SVC_PID[$name]=$!
  svc_wait "$name" "${before:-0}" ||
    { echo "# server $name did not start:"; sed 's/^/#   /' "$TMP/$name.log"; return 1; }
}

svc_addr() {
  grep -o 'serving on [^ ]*' "$TMP/$1.log" | tail -n1 | sed 's/serving on //'
}

svc_stop() {
  local pid=${SVC_PID[$1]}
  kill -TERM "$pid" 2>/dev/null
  wait "$pid"; svc_rc=$?
  unset "SVC_PID[$1]"
}

http() {
  local method=$1 url=$2 data=${3:-}; shift 3 2>/dev/null || shift $#
  local args=(-s -o "$TMP/body" -w '%{http_code}' -X "$method" --max-time 20)
  case $SVC in
    unix:*) args+=(--unix-socket "${SVC#unix:}"); url="http://localhost$url" ;;
    *) url="$SVC$url" ;;
  esac
  [ -n "$SVC_TOKEN" ] && args+=(-H "Authorization: Bearer $SVC_TOKEN")
  [ -n "$data" ] && args+=(-H "Content-Type: ${CT:-application/json}" --data-binary "@$data")
  status=$(curl "${args[@]}" "$@" "$url")
  body=$(cat "$TMP/body" 2>/dev/null)
}

expect_status() {
  if [ "$status" = "$1" ]; then ok "$2 ($1)"; else
    not_ok "$2: want HTTP $1, got $status: $(head -c 300 "$TMP/body")"; fi
}

expect_error() {
  if python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
e = d["error"]
sys.exit(0 if e["code"] == sys.argv[2] and isinstance(e["message"], str) and e["message"] else 1)
' "$TMP/body" "$1" 2>/dev/null; then ok "$2: error $1"; else
    not_ok "$2: want a JSON error $1, got $status: $(head -c 300 "$TMP/body")"; fi
}

store_snapshot() {
  "$NUMAPLACE" fleet show --store "$STORE" --format json >"$1"
}

fill_make_room() {
  f() { echo "vcpus=$1,ram=$2,hw:cpu_policy=dedicated"; }
  sched() { "$NUMAPLACE" schedule --store "$STORE" --id "$1" --flavor "$(f "$2" "$3")" "${@:4}" >/dev/null; }
  "$NUMAPLACE" fleet add --store "$STORE" --name "$1" --host "$NP_SRC/tests/data/json/make-room-2n.json" \
    >/dev/null || { not_ok "adding the make-room host $1"; return 1; }
  sched A 4 8192 --strategy pack && sched B 2 4096 --strategy pack && sched C 4 8192 && sched E 2 2048 &&
    ok "the make-room host $1 filled" || not_ok "filling the make-room host $1"
}

svc_keep_logs() {
  [ "$failed" -gt 0 ] || return 0
  local base=${NP_BUILD:+$NP_BUILD/meson-logs}
  local keep=${base:-/tmp}/$1-$(date -u +%Y%m%dT%H%M%S)-$$ f
  mkdir -p "$keep" && cp -r "$TMP"/*.log "$TMP"/*.json "$TMP/logs" "$keep"/ 2>/dev/null
  echo "# the servers' and clients' logs are kept in $keep"
  for f in "$TMP"/r*.log; do
    [ -e "$f" ] || continue
    echo "# --- the end of $(basename "$f"):"
    tail -n 40 "$f" | sed 's/^/#   /'
  done
}
