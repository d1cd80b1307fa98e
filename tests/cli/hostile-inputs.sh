#!/usr/bin/env bash
# tests/cli/hostile-inputs.sh - the sweep of bad input over the verbs' file
# inputs and arguments that special-files.sh (what is not a regular file)
# and hostile.sh (outputs, the run directory) leave out: NUL bytes, broken
# UTF-8, nesting deeper than any parser goes, numbers out of range,
# duplicate keys, empty and cut documents, and arguments holding a newline
# or an escape sequence.  Each must end in exit 2 with one line on stderr
# (lib.sh's expect_one_line_err), never a crash, a hang or a second line.
# The table of what each input answers is in the commit that added it.
. "$(dirname "$0")/lib.sh"

host="$NP_SRC/tests/data/json/full.json"
S="$TMP/hi"
mkdir -p "$S"
flavor=(--flavor 'vcpus=1,ram=64')

# bad WHAT ARGS...: exit 2 within a minute, one "numaplace: ..." line.
bad() {
  local what=$1; shift
  run_within 60 "$@"
  if [ "$rc" -eq 124 ]; then not_ok "$what: hangs"; return; fi
  expect_rc 2 "$what"
  expect_one_line_err "$what"
}
# shown WHAT: the last error shows a control byte as \xNN, never as itself.
shown() {
  if grep -q $'\x1b' "$TMP/err"; then not_ok "$1: an escape byte reached stderr"
  elif grep -qF '\x0a' "$TMP/err" && grep -qF '\x1b' "$TMP/err"; then ok "$1: shown as \\xNN"
  else not_ok "$1: the quoted text is not shown as \\xNN"; fi
}

# ---- arguments quoted in a message stay on its one line ----
evil=$'x\ny\x1b[31m'
if have runtime; then
  bad "apply --nodes with a newline" apply --pid $$ --json "$host" --nodes "$evil" --dry-run
  shown "apply --nodes"
  bad "observe --nodes with a newline" observe --pid $$ --json "$host" --nodes "$evil"
  shown "observe --nodes"
fi
if have sim; then
  bad "simulate --set with a newline" simulate lpc2012 --set "$evil"; shown "simulate --set"
  bad "simulate --show with a newline" simulate --show "$evil"; shown "simulate --show"
fi
if have agent; then
  bad "agent --map with a newline" agent --server unix:"$S/none.sock" --once --name h1 \
    --json "$host" --map "$evil"
  shown "agent --map"
  bad "agent --map with a spaced pid" agent --server unix:"$S/none.sock" --once --name h1 \
    --json "$host" --map "vm1= 5"
  expect_err "ID=PID" "says what --map takes"
  # Another user's token file (the agent's check, np_read_trusted): refused
  # before any connection.  Only root can give a file away.
  if [ "$(id -u)" = 0 ]; then
    printf 'tok-0123456789abcdef\n' >"$S/token"; chmod 600 "$S/token"; chown 65534:65534 "$S/token"
    bad "agent --token-file of another user" agent --server http://127.0.0.1:1 --once --name h1 \
      --json "$host" --token-file "$S/token"
    expect_err "owned by uid 65534" "says whose it is"
  else echo "skip: another user's token file (giving a file away needs root)"; fi
  # A server URL curl would refuse only at the first round (exit 1): bad input now.
  for srv in http://h1:99999 http://h1:0 http://:8080 http://h1: "http://[::1]x" "http://[::1" \
    "unix:/$(printf 'd%.0s' {1..120})"; do
    bad "agent --server ${srv:0:30}" agent --server "$srv" --once --name h1 --json "$host"
    expect_err "server '.*': (no host|a socket path)" "agent --server ${srv:0:30}: says why"
  done
fi
if have sqlite; then
  "$NUMAPLACE" fleet add --store "sqlite:$S/fleet.db" --name h1 --json "$host" >/dev/null 2>&1
  bad "fleet show --name with a newline" fleet show --store "sqlite:$S/fleet.db" --name "$evil"
  shown "fleet show --name"
fi
mkdir -p "$S/$evil"
run topology --json "$host" -o "$S/$evil/missing/out"; expect_rc 1 "-o in a missing directory"
expect_one_line_err "-o a path with a newline"; shown "-o a path with a newline"

# ---- duplicate keys: refused by every JSON reader, the Nova case too ----
case3="$NP_SRC/tests/data/nova/distances-3cells.json"
run place --case "$case3"; expect_rc 0 "the Nova case as it is"
python3 - "$case3" >"$S/dup-case.json" <<'PY'
import sys
text = open(sys.argv[1]).read()
# The request's vcpus once more, first: Python's reader keeps the last.
i = text.index('"request"')
j = text.index('{', i) + 1
print(text[:j] + ' "vcpus": 9999, ' + text[j:])
PY
bad "place --case with a key twice" place --case "$S/dup-case.json"
expect_err "duplicate object key" "says the key is given twice"

# ---- documents: each reader, given its good file made bad ----
# A good document per input, and a command line reading it from FILE
# (the word FILE is replaced).  Each is checked as it is first (exit 0).
"$NUMAPLACE" claim --state "$S/good.state" --id vm-1 --json "$host" "${flavor[@]}" >/dev/null
"$NUMAPLACE" place --json "$host" "${flavor[@]}" --format json >"$S/plan.json"
declare -A doc_good=(
  [topology]="$host"
  [state]="$S/good.state"
  [request]="$NP_SRC/tests/data/request/floating.json"
  [case]="$case3"
  [flavors]="$NP_SRC/tests/data/json/flavors.json"
  [domain]="$NP_SRC/tests/data/libvirt/domain-test.xml"
  [xlcfg]="$NP_SRC/tests/data/xl/guest-minimal.cfg"
  [libvirt]="$NP_SRC/tests/data/libvirt/host-4cell.xml"
)
declare -A doc_cmd=(
  [topology]="topology --json FILE"
  [state]="state show --json $host --state FILE"
  [request]="place --json $host --request FILE"
  [case]="place --case FILE"
  [flavors]="place --json $host ${flavor[*]} --flavors FILE"
  [domain]="place --json $host --domain-xml FILE"
  [xlcfg]="place --json $host --xl-config FILE"
  [libvirt]="topology --libvirt-xml FILE"
)
have xml || unset 'doc_good[domain]' 'doc_good[libvirt]'
if have runtime; then
  doc_good[plan]="$S/plan.json"; doc_cmd[plan]="apply --pid $$ --json $host --dry-run --plan FILE"
  doc_good[policy]="$NP_SRC/tests/data/runtime/balance-policy.json"
  mkdir -p "$S/run" && chmod 755 "$S/run"
  doc_cmd[policy]="balance --interval 0.1 --count 1 --dry-run --run-dir $S/run --json $host --policy FILE"
fi
if have sim; then
  "$NUMAPLACE" simulate --show lpc2012 >"$S/exp.json"
  doc_good[experiment]="$S/exp.json"
  doc_cmd[experiment]="simulate FILE --set duration_s=1 --set repetitions=1 --set guest_counts=2"
fi
# doc_run NAME FILE: NAME's command line on FILE.
doc_run() {
  local cmd=${doc_cmd[$1]}
  # shellcheck disable=SC2086 # the command lines are split on purpose
  run_within 60 ${cmd//FILE/$2}
}
# Every bad document, made in one go ($S/bad/NAME-KIND; python starts
# slowly on a loaded machine).  nul-mid, nul-end: a NUL byte at a line's
# end in the middle, at the end.  deep: nesting past any parser's limit;
# dup: a key (an attribute) twice; big, huge, neg: the first number that
# is a value past 2^64, past a double, below zero; utf8: a broken byte in
# a key or a name; empty; top: an array; cut: the first half; loop: XML
# entities that refer to each other.
mkdir -p "$S/bad"
docs=()
for d in "${!doc_good[@]}"; do docs+=("$d=${doc_good[$d]}"); done
python3 - "$S/bad" "${docs[@]}" <<'PY'
import re, sys
outdir = sys.argv[1]
for arg in sys.argv[2:]:
    name, path = arg.split("=", 1)
    good = open(path, "rb").read()
    mid = good.find(b"\n", len(good) // 2)
    cases = {"nul-mid": good[:mid] + b"\0" + good[mid:], "nul-end": good + b"\0",
             "empty": b"", "cut": good[: len(good) // 2]}
    if good.lstrip().startswith(b"{"):
        cases["deep"] = b"[" * 100000 + b"]" * 100000
        cases["top"] = b"[]"
        q = good.index(b'"')
        cases["utf8"] = good[:q + 1] + b"\xff" + good[q + 1:]
        m = re.search(rb'\{\s*("[^"]+"\s*:\s*("[^"]*"|-?\d+|true|false))\s*,', good)
        cases["dup"] = good[:m.end()] + m.group(1) + b"," + good[m.end():]
        m = re.search(rb'([:\[,]\s*)(\d+)(?=\s*[,\]}])', good)
        for k, v in (("big", b"18446744073709551616"), ("huge", b"1e400"), ("neg", b"-1")):
            cases[k] = good[:m.start(2)] + v + good[m.end(2):]
    elif good.lstrip().startswith(b"<"):
        cases["deep"] = b"<a>" * 100000 + b"</a>" * 100000
        cases["loop"] = (b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "&b;">'
                         b'<!ENTITY b "&a;">]><domain>&a;</domain>')
        cases["utf8"] = good.replace(b"<name>", b"<name>\xff", 1) if b"<name>" in good else good + b"\xff"
        m = re.search(rb"<(\w+)\s+(\w+=['\"][^'\"]*['\"])", good)
        if m:
            cases["dup"] = good[:m.end()] + b" " + m.group(2) + good[m.end():]
    for k, v in cases.items():
        open("%s/%s-%s" % (outdir, name, k), "wb").write(v)
PY
for d in "${!doc_good[@]}"; do
  doc_run "$d" "${doc_good[$d]}"; expect_rc 0 "$d: the good document"
  for f in "$S/bad/$d"-*; do
    k=${f#"$S/bad/$d-"}
    # The first half of an xl.cfg is one too (it ends in a comment).
    [ "$d $k" = "xlcfg cut" ] && continue
    doc_run "$d" "$f"
    if [ "$rc" -eq 124 ]; then not_ok "$d $k: hangs"; continue; fi
    expect_rc 2 "$d: $k"; expect_one_line_err "$d: $k"
    case $k in nul-*) expect_err "NUL byte" "$d $k: says it is a NUL byte" ;; esac
  done
done

# ---- the service: each route's body made bad, names in paths ----
# Every answer must be a 4xx with {"error": {"code", "message"}}, the
# message one line (openapi.py covers the good answers and the routes'
# own refusals).
http_tests() {
  local sock="$S/api.sock" db="$S/svc.db" pid i=0 route bodies
  "$NUMAPLACE" fleet add --store "sqlite:$db" --name h1 --json "$host" >/dev/null 2>&1
  "$NUMAPLACE" serve --store "sqlite:$db" --listen "unix:$sock" >"$S/serve.log" 2>&1 &
  pid=$!
  while [ ! -S "$sock" ] && [ $i -lt 1200 ] && kill -0 $pid 2>/dev/null; do sleep 0.1; i=$((i + 1)); done
  if [ ! -S "$sock" ]; then not_ok "the server starts: $(cat "$S/serve.log")"; return; fi
  # One good body per route, made bad as the documents were.
  mkdir -p "$S/body"
  printf '{"id": "g1", "flavor": {"vcpus": 1, "memory_mb": 64}}' >"$S/body/placements.json"
  printf '{"flavor": {"vcpus": 1, "memory_mb": 64}, "hosts": ["h1"], "pending": {"h1": 1}}' >"$S/body/fit.json"
  printf '{"host": "h1", "at": 1733400000, "source": "process", "pid": 4242, "memory_mb": {"0": 64}, "vcpus": {"0": 1}}' \
    >"$S/body/observed.json"
  python3 - "$S/body" "$host" <<'PY'
import json, re, sys
d = sys.argv[1]
bodies = {n: open("%s/%s.json" % (d, n), "rb").read() for n in ("placements", "fit", "observed")}
bodies["host"] = json.dumps(json.load(open(sys.argv[2]))).encode()
for name, good in bodies.items():
    m = re.search(rb'(:\s*)(\d+)', good)
    cases = {"nul-mid": good[:len(good) // 2] + b"\0" + good[len(good) // 2:],
             "nul-end": good + b"\0", "utf8": good[:2] + b"\xff" + good[2:],
             "deep": b"[" * 100000 + b"]" * 100000, "dup": b"{" + good[1:good.index(b",")] + b"," + good[1:],
             "big": good[:m.start(2)] + b"18446744073709551616" + good[m.end(2):],
             "huge": good[:m.start(2)] + b"1e400" + good[m.end(2):],
             "neg": good[:m.start(2)] + b"-1" + good[m.end(2):],
             "top": b"[]", "null": b"null", "cut": good[:len(good) // 2],
             "bom": b"\xef\xbb\xbf" + good, "utf16": good.decode().encode("utf-16")}
    for k, v in cases.items():
        open("%s/%s-%s" % (d, name, k), "wb").write(v)
PY
  declare -A route=([placements]="POST /v1/placements" [fit]="POST /v1/fit"
                    [observed]="PUT /v1/placements/g1/observed" [host]="PUT /v1/hosts/hx")
  # The observed body needs the placement it reports on.
  curl -s -o /dev/null --unix-socket "$sock" -X POST -H 'Content-Type: application/json' \
    --data-binary "@$S/body/placements.json" http://localhost/v1/placements
  for b in placements fit observed host; do
    for f in "$S/body/$b"-*; do
      http_bad "${route[$b]} ${f#"$S/body/$b-"}" "$sock" ${route[$b]} "@$f"
    done
  done
  # Names in paths: a NUL, a newline and an escape, broken UTF-8, too long.
  for path in /v1/hosts/%00 /v1/hosts/%0a%1b /v1/hosts/%ff "/v1/hosts/$(printf 'a%.0s' {1..300})" \
              /v1/placements/%0a%1b /v1/placements/%ff%fe "/v1/placements/$(printf 'a%.0s' {1..5000})"; do
    http_bad "GET ${path:0:24}" "$sock" GET "$path"
    http_bad "DELETE ${path:0:24}" "$sock" DELETE "$path"
  done
  http_bad "PUT a host named with a newline" "$sock" PUT /v1/hosts/a%0ab "@$host"
  http_bad "PUT a host named in broken UTF-8" "$sock" PUT /v1/hosts/%ff%fe "@$host"
  http_bad "PUT a host, cpu_ratio NaN" "$sock" PUT "/v1/hosts/hq?cpu_ratio=nan" "@$host"
  http_bad "PUT a host, cpu_ratio 1e400" "$sock" PUT "/v1/hosts/hq?cpu_ratio=1e400" "@$host"
  http_answers_json
  kill $pid 2>/dev/null; wait $pid 2>/dev/null
  if grep -qiE "sanitizer|runtime error|assert" "$S/serve.log"; then not_ok "the server's log: $(grep -m1 -iE "sanitizer|runtime error|assert" "$S/serve.log")"
  else ok "the server logged no sanitizer report or assertion"; fi
}
# http_bad WHAT SOCK METHOD PATH [@BODYFILE]: a 4xx with a JSON error of
# one line (its message has no "\n"); every answer is kept in $S/answers
# and read as JSON once, at the end (http_answers_json).
http_bad() {
  local what=$1 sock=$2 method=$3 path=$4 data=${5:-} args=() st n
  [ -n "$data" ] && args=(-H 'Content-Type: application/json' --data-binary "$data")
  mkdir -p "$S/answers"; n=$(ls "$S/answers" | wc -l)
  st=$(curl -s -o "$S/answers/$n" -w '%{http_code}' --max-time 30 --unix-socket "$sock" -X "$method" \
    "${args[@]}" "http://localhost$path")
  if [ "${st:0:1}" = 4 ] && grep -q '"code"' "$S/answers/$n" && grep -q '"message"' "$S/answers/$n" &&
     ! grep -qF '\n' "$S/answers/$n"; then
    ok "$what: $st, a one-line error"
  else not_ok "$what: HTTP $st: $(head -c 200 "$S/answers/$n")"; fi
}
http_answers_json() {
  local bad
  bad=$(python3 - "$S/answers" <<'PY'
import json, os, sys
for f in sorted(os.listdir(sys.argv[1])):
    try:
        e = json.load(open(os.path.join(sys.argv[1], f)))["error"]
        assert isinstance(e["code"], str) and isinstance(e["message"], str) and e["message"]
    except Exception as x:
        print("answer %s: %r" % (f, x))
PY
)
  if [ -z "$bad" ]; then ok "every answer is {\"error\": {\"code\", \"message\"}}"; else not_ok "$bad"; fi
}
if have service && have sqlite && command -v curl >/dev/null; then http_tests
else echo "skip: the service (this build has no service, no sqlite or no curl)"; fi

# ---- a state file named through a symbolic link ----
# A writer replaces the file: through a link it would cut the link (the
# claim in a new file, the linked one never seeing it), so it is refused;
# a reader may follow it.
mkdir -p "$S/lk"
cp "$S/good.state" "$S/lk/real.state"
ln -s real.state "$S/lk/link.state"
before=$(cat "$S/lk/real.state")
bad "claim through a linked state" claim --state "$S/lk/link.state" --id vm-7 --json "$host" "${flavor[@]}"
expect_err "symbolic link" "says it is a link"
bad "release through a linked state" release --state "$S/lk/link.state" --id vm-1
if [ -L "$S/lk/link.state" ] && [ "$(cat "$S/lk/real.state")" = "$before" ]; then
  ok "the link and the file it names are as they were"
else not_ok "the link was cut or the file changed"; fi
run state show --state "$S/lk/link.state" --json "$host"; expect_rc 0 "state show follows the link"
if have libvirt && have runtime; then
  # watch claims for every domain: a linked state is refused once, at start,
  # not answered as every domain failing (exit 1, a line each on stdout).
  bad "watch through a linked state" watch --libvirt test:///default --state "$S/lk/link.state" \
    --once --run-dir "$S/run"
  expect_err "symbolic link" "watch: says it is a link"
  if [ "$(cat "$S/lk/real.state")" = "$before" ]; then ok "watch: the linked file is as it was"
  else not_ok "watch changed the linked file"; fi
fi

# ---- serve's own files (text options, so special-files.sh's sweep skips them) ----
if have service && have sqlite; then
  mkdir -p "$S/sv/dir"; mkfifo "$S/sv/fifo"
  cp "$NP_SRC/tests/data/json/flavors.json" "$S/sv/flavors.json"; ln -s flavors.json "$S/sv/flavors.link"
  cp "$S/sv/flavors.json" "$S/sv/flavors-open.json"; chmod 666 "$S/sv/flavors-open.json"
  printf 'tok-0123456789abcdef\n' >"$S/sv/token"; chmod 600 "$S/sv/token"
  printf 'keep\n' >"$S/sv/victim"; ln -s victim "$S/sv/log.link"
  svc=(serve --store "sqlite:$S/sv/f.db" --listen "unix:$S/sv/none.sock")
  for f in fifo dir /dev/zero flavors.link flavors-open.json missing; do
    case $f in /*) p=$f ;; *) p=$S/sv/$f ;; esac
    bad "serve --flavors $f" "${svc[@]}" --flavors "$p"
  done
  for f in fifo dir /dev/zero missing; do
    case $f in /*) p=$f ;; *) p=$S/sv/$f ;; esac
    bad "serve --token-file $f" serve --store "sqlite:$S/sv/f.db" --listen 127.0.0.1:0 --token-file "$p"
  done
  for f in fifo dir log.link; do bad "serve --log $f" "${svc[@]}" --log "$S/sv/$f"; done
  if [ "$(cat "$S/sv/victim")" = keep ]; then ok "serve wrote no log through a link"; else not_ok "a log written through a link"; fi
fi

# ---- a store named through what is not its file, or a URL libpq cannot parse ----
# Every verb that opens a store (fleet, schedule, serve: claim and release
# take a state file) answers exit 2 and one line saying what is wrong, and
# nothing is written through a link (SQLite follows none; it used to say
# only "cannot open: unable to open database file").
store_verbs() { # store_verbs URL: each verb's command line on store URL, one a line
  printf '%s\n' "fleet list --store $1" "fleet add --store $1 --name h9 --json $host" \
    "schedule --store $1 --id vm-9 ${flavor[*]}"
  have service && printf '%s\n' "serve --store $1 --listen unix:$S/st/none.sock"
}
# store_bad WHAT URL PATTERN: every store verb on URL refused with PATTERN in its line.
store_bad() {
  local what=$1 url=$2 pattern=$3 cmd
  while read -r cmd; do
    # shellcheck disable=SC2086 # the command lines are split on purpose
    bad "$what: ${cmd%% --*}" $cmd
    expect_err "$pattern" "$what: ${cmd%% --*}: says why"
  done < <(store_verbs "$url")
}
if have sqlite; then
  mkdir -p "$S/st/dir" "$S/st/real"
  "$NUMAPLACE" fleet add --store "sqlite:$S/st/real/f.db" --name h1 --json "$host" >/dev/null 2>&1
  ln -s real/f.db "$S/st/link.db"; ln -s real "$S/st/dlink"; mkfifo "$S/st/fifo.db"
  ls -lA --time-style=full-iso "$S/st/real" >"$S/st/before"
  store_bad "a linked store" "sqlite:$S/st/link.db" "link.db': is a symbolic link"
  store_bad "a store in a linked folder" "sqlite:$S/st/dlink/f.db" "folder on its path is a symbolic link"
  # A new store (what fleet add and serve make) in a linked folder: not made there.
  bad "a new store in a linked folder" fleet add --store "sqlite:$S/st/dlink/new.db" --name h9 --json "$host"
  expect_err "folder on its path is a symbolic link" "a new store in a linked folder: says why"
  store_bad "a FIFO store" "sqlite:$S/st/fifo.db" "not a regular file"
  store_bad "a folder store" "sqlite:$S/st/dir" "not a regular file"
  store_bad "a device store" "sqlite:/dev/null" "not a regular file"
  # Its WAL and shared-memory files, made hostile (SQLite said "PRAGMA
  # journal_mode = WAL: unable to open database file").
  for f in wal shm; do
    ln -s ../dir "$S/st/real/f.db-$f"
    store_bad "a linked -$f" "sqlite:$S/st/real/f.db" "f.db-$f' is a symbolic link"
    rm "$S/st/real/f.db-$f"
  done
  ls -lA --time-style=full-iso "$S/st/real" >"$S/st/after"
  if cmp -s "$S/st/before" "$S/st/after"; then ok "nothing made or changed beside the linked store"
  else not_ok "the linked store's folder changed: $(diff "$S/st/before" "$S/st/after" | tail -n +2)"; fi
  # World-writable: anyone could rewrite the fleet.  Group-writable is a
  # choice (a group sharing it); another user's file is root's to look after.
  cp "$S/st/real/f.db" "$S/st/open.db"; chmod 666 "$S/st/open.db"
  store_bad "a world-writable store" "sqlite:$S/st/open.db" "writable by every user \(mode 0666\)"
  chmod 664 "$S/st/open.db"
  run fleet list --store "sqlite:$S/st/open.db"; expect_rc 0 "a group-writable store opens"
  if [ "$(id -u)" = 0 ]; then
    chown 65534:65534 "$S/st/open.db"; chmod 644 "$S/st/open.db"
    run fleet list --store "sqlite:$S/st/open.db"; expect_rc 0 "root opens another user's store"
  fi
fi
if have postgresql; then
  # Parsed before any connection: nothing listens, and none is tried.
  store_bad "a PostgreSQL URL with a bad escape" "postgresql://%zz/db" "bad URL: invalid percent-encoded"
  store_bad "a PostgreSQL URL with an unknown parameter" "postgresql://localhost/db?colour=red" \
    "bad URL: invalid URI query parameter"
  store_bad "a PostgreSQL URL with port 99999" "postgresql://localhost:99999/db" "bad URL: port '99999'"
  store_bad "a PostgreSQL URL with port abc" "postgres://localhost:abc/db" "bad URL: port 'abc'"
  run fleet list --store "postgresql://u:pa%zzss@localhost/db"; expect_rc 2 "a bad escape in a password"
  if grep -q "pa%zzss" "$TMP/err"; then not_ok "the password is shown: $(cat "$TMP/err")"
  else ok "a bad escape in a password: the password is not shown"; fi
fi

# ---- the root balancer's policy: libvirt URIs only from a file no one else wrote ----
if have runtime && [ "$(id -u)" = 0 ]; then
  printf '{"libvirt": ["test:///default"]}\n' >"$S/policy.json"; chown 65534:65534 "$S/policy.json"
  bad "balance --policy of another user naming libvirt URIs" balance --once --dry-run \
    --run-dir "$S/run" --json "$host" --policy "$S/policy.json"
  expect_err "owned by uid 65534" "says whose it is"
fi

# ---- an option that names what is not there is not ignored ----
if have runtime; then
  bad "apply --move-guest with nothing to move" apply --pid $$ --json "$host" --nodes 0 \
    --dry-run --move-guest "E=pid:$$"
  expect_err "moves no guest" "says the plan moves no such guest"
fi

finish
