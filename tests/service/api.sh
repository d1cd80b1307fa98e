#!/usr/bin/env bash
# tests/service/api.sh KIND - `numaplace serve` on a real store (KIND sqlite,
# or postgresql: a server this script starts), over real HTTP: every route's
# answers, then hostile clients (bad bodies, unknown hosts and ids, oversize
# bodies and headers, wrong types, missing or wrong token, a client that
# sends a byte a second) each get the right 4xx (or a closed connection)
# with a JSON error, and the store is byte for byte what it was; SIGHUP
# reopens the log, SIGTERM finishes a request in flight and exits 0;
# PostgreSQL rows edited by hand (pins, a host's last change) are not
# trusted; a store a newer numaplace migrated is 503 schema_too_new.
. "$(dirname "$0")/lib.sh"
kind=$1
CLIENT="python3 $(dirname "$0")/client.py"
HOST=$NP_SRC/tests/data/json/64amd64-4s2n4ca2co.json
SMALL=$NP_SRC/tests/data/json/minimal.json
fleet_store "$kind"
svc_start main --store "$STORE" --listen "unix:$TMP/s.sock" --log "$TMP/access.log" \
  --timeout 3 --max-body 65536 || { not_ok "the server starts"; finish; }
SVC=unix:$TMP/s.sock
body() { printf '%s' "$1" >"$TMP/req.json"; echo "$TMP/req.json"; }

http GET /v1/health
expect_status 200 "health"
json() { python3 -c "import json,sys; d=json.load(open('$TMP/body')); sys.exit(0 if ($1) else 1)"; }
json "d['status'] == 'ok' and d['store'] == '$kind' and d['hosts'] == 0" &&
  ok "health names the store" || not_ok "health: $body"

# Hosts.
http PUT /v1/hosts/h1 "$HOST"; expect_status 201 "PUT a new host"
json "d == {'name': 'h1', 'generation': d['generation']}" && ok "PUT answers name and generation" ||
  not_ok "PUT answer: $body"
http PUT /v1/hosts/h1 "$HOST"; expect_status 200 "PUT the same topology again changes nothing"
http PUT /v1/hosts/h2 "$SMALL"; expect_status 201 "PUT a second host"
http PUT /v1/hosts/h2 "$HOST"; expect_status 200 "PUT another topology replaces an unused host"
http GET /v1/hosts; expect_status 200 "list hosts"
json "sorted(h['name'] for h in d['hosts']) == ['h1', 'h2'] and len(d['hosts'][0]['nodes']) == 8 and
      all(k in d['hosts'][0]['nodes'][0] for k in ('id','cpus','cpus_pinned','vcpus_shared','memory_mb','memory_used_mb','pages'))" &&
  ok "the list has both hosts with 8 nodes and their usage" || not_ok "list: $(head -c 300 "$TMP/body")"

# Placements.
P1=$(body '{"id": "vm-1", "flavor": {"vcpus": 4, "memory_mb": 4096, "extra_specs": {"hw:numa_nodes": "2"}}}')
cp "$P1" "$TMP/p1.json"; P1=$TMP/p1.json
http POST /v1/placements "$P1"; expect_status 201 "a placement is scheduled and claimed"
json "d['id'] == 'vm-1' and d['host'] in ('h1','h2') and d['plan']['fits'] and len(d['plan']['cells']) == 2" &&
  ok "201 carries the host and a 2-cell plan" || not_ok "placement: $(head -c 300 "$TMP/body")"
vmhost=$(python3 -c "import json; print(json.load(open('$TMP/body'))['host'])")
http POST /v1/placements "$P1"; expect_status 200 "the same request again is idempotent"
json "d['host'] == '$vmhost'" && ok "... on the same host" || not_ok "repeat moved: $body"
cp "$TMP/body" "$TMP/posted.json"
http POST /v1/placements "$(body '{"id": "vm-1", "flavor": {"vcpus": 2, "memory_mb": 2048}}')"
expect_status 409 "another request under a placed id"; expect_error conflict "id conflict"
http POST /v1/placements "$(body '{"id": "vm-big", "flavor": {"vcpus": 2, "memory_mb": 4000000}}')"
expect_status 409 "a guest that fits nowhere"; expect_error no_valid_host "nothing fits"
json "d['error']['reasons'][0]['hosts'] == 2 and d['error']['reasons'][0]['reason']" &&
  ok "no_valid_host counts the hosts per reason" || not_ok "reasons: $body"
http POST /v1/placements "$(body '{"id": "vm-2", "host": "h1", "flavor": {"vcpus": 2, "memory_mb": 2048}}')"
expect_status 201 "a placement on a named host"
json "d['host'] == 'h1'" && ok "... lands there" || not_ok "host ignored: $body"
http GET /v1/placements/vm-1; expect_status 200 "GET a placement"
json "d['id'] == 'vm-1' and d['host'] == '$vmhost' and d['plan']['fits'] and 'observed' in d and 'drift' in d" &&
  ok "GET has host, plan, observed and drift" || not_ok "GET placement: $(head -c 300 "$TMP/body")"
python3 -c 'import json, sys; sys.exit(json.load(open(sys.argv[1]))["plan"] != json.load(open(sys.argv[2]))["plan"])' \
  "$TMP/posted.json" "$TMP/body" && ok "the POST answer's plan is the GET's" ||
  not_ok "POST and GET plans differ: $(head -c 300 "$TMP/posted.json")"
http GET "/v1/hosts/$vmhost"; expect_status 200 "GET a host"
json "d['name'] == '$vmhost' and 'vm-1' in [p['id'] for p in d['placements']] and len(d['topology']['nodes']) == 8
      and sum(n['memory_used_mb'] for n in d['nodes']) >= 4096" &&
  ok "GET host has topology, usage and its placements" || not_ok "GET host: $(head -c 300 "$TMP/body")"
cp "$TMP/body" "$TMP/host.json"
# The host agent's list: the same placements, their ids alone.
http GET "/v1/hosts/$vmhost?placements=ids"; expect_status 200 "GET a host's placement ids"
python3 -c 'import json, sys; a, b = (json.load(open(p)) for p in sys.argv[1:])
sys.exit(not (sorted(b) == ["generation", "name", "placements"] and b["name"] == a["name"] and
              b["generation"] == a["generation"] and b["placements"] == [{"id": p["id"]} for p in a["placements"]]))' \
  "$TMP/host.json" "$TMP/body" && ok "... name, generation and the ids, as the whole host lists them" ||
  not_ok "placements=ids: $(head -c 300 "$TMP/body")"
http GET "/v1/hosts/$vmhost?placements=all"; expect_status 400 "placements=all"; expect_error bad_request "placements=all"
http GET "/v1/hosts/nope?placements=ids"; expect_status 404 "the ids of an unknown host"
http DELETE "/v1/hosts/$vmhost"; expect_status 409 "removing a host with placements"; expect_error conflict "host in use"
http PUT "/v1/hosts/$vmhost" "$SMALL"; expect_status 409 "replacing a host with placements"

# The POST answer is written in one pass (service/hosts.c: svc_plan_answer):
# an id with a quote and a backslash comes back as sent, and it is compact.
qid='"vm-" + chr(34) + "q" + chr(92) + "x"'
python3 -c "import json, sys; json.dump({'id': $qid, 'flavor': {'vcpus': 1, 'memory_mb': 512}}, sys.stdout)" >"$TMP/q.json"
http POST /v1/placements "$TMP/q.json"; expect_status 201 "an id with a quote and a backslash"
json "d['id'] == $qid and d['plan']['fits']" && ! grep -q '[[:space:]]' "$TMP/body" &&
  ok "... comes back as sent, in compact JSON" || not_ok "escaped id: $(head -c 300 "$TMP/body")"
http DELETE "/v1/placements/$(python3 -c "import urllib.parse; print(urllib.parse.quote($qid, safe=''))")"
expect_status 204 "... and is released by its id"

# Hostile requests: the store must not change.
store_snapshot "$TMP/before.json"
http POST /v1/placements "$(body '{"id": "x", "flavor": ')"; expect_status 400 "truncated JSON"; expect_error bad_json "truncated JSON"
http POST /v1/placements "$(body '[1, 2]')"; expect_status 400 "an array body"; expect_error bad_request "array body"
http POST /v1/placements "$(body '{"id": "x", "id": "y", "flavor": {"vcpus": 1, "memory_mb": 512}}')"
expect_status 400 "a duplicate key"
http POST /v1/placements "$(body '{"flavor": {"vcpus": 1, "memory_mb": 512}}')"; expect_status 400 "no id"; expect_error bad_request "no id"
http POST /v1/placements "$(body '{"id": "x"}')"; expect_status 400 "no flavor"
http POST /v1/placements "$(body '{"id": "x", "flavor": {"vcpus": "4", "memory_mb": 512}}')"; expect_status 400 "vcpus as a string"
http POST /v1/placements "$(body '{"id": "x", "flavor": {"vcpus": 4, "memory_mb": -5}}')"; expect_status 400 "negative memory"
http POST /v1/placements "$(body '{"id": "x", "flavor": {"vcpus": 4, "memory_mb": 512, "extra_specs": [1]}}')"; expect_status 400 "extra_specs not an object"
http POST /v1/placements "$(body '{"id": "x", "flavor": {"vcpus": 4, "memory_mb": 512, "extra_specs": {"hw:numa_nodes": {"a": 1}}}}')"; expect_status 400 "an extra spec that is an object"
http POST /v1/placements "$(body '{"id": "x", "flavor": {"vcpus": 3, "memory_mb": 4096, "extra_specs": {"hw:numa_nodes": "2"}}}')"
expect_status 400 "a flavor Nova refuses"; expect_error bad_request "Nova's rule"
http POST /v1/placements "$(body '{"id": "x", "host": "nope", "flavor": {"vcpus": 1, "memory_mb": 512}}')"
expect_status 404 "a placement on an unknown host"; expect_error not_found "unknown host"
http POST /v1/placements "$(body '{"id": "", "flavor": {"vcpus": 1, "memory_mb": 512}}')"; expect_status 400 "an empty id"
CT=text/plain http POST /v1/placements "$(body '{"id": "x", "flavor": {"vcpus": 1, "memory_mb": 512}}')"
expect_status 415 "a body that is not JSON by type"; expect_error unsupported_media_type "content type"
http POST /v1/placements; expect_status 400 "no body"
http GET /v1/hosts/nope; expect_status 404 "GET an unknown host"; expect_error not_found "unknown host"
http DELETE /v1/hosts/nope; expect_status 404 "DELETE an unknown host"
http DELETE "/v1/hosts/$vmhost?force=maybe"; expect_status 400 "force must be true or false"
http GET /v1/placements/nope; expect_status 404 "GET an unknown placement"
http DELETE /v1/placements/nope; expect_status 404 "DELETE an unknown placement"; expect_error not_found "unknown placement"
http PUT /v1/hosts/h3 "$(body '{"schema": "numaplace.topology/1", "nodes": "many"}')"; expect_status 400 "a bad topology"
http PUT /v1/hosts/h3 "$(body 'not json')"; expect_status 400 "a topology that is not JSON"
CT=application/xml http PUT /v1/hosts/h3 "$HOST"; expect_status 415 "a topology typed as XML"
# Names no URL path can address: a dot segment, white space at an end
# (a no-break space too); a '/' makes another path (404).
for p in . .. %2E%2E %20h4 h4%20 h4%C2%A0; do
  http PUT "/v1/hosts/$p" "$HOST" --path-as-is; expect_status 400 "PUT a host named '$p'"
  expect_error bad_request "PUT '$p'"
done
http PUT /v1/hosts/a%2Fb "$HOST"; expect_status 400 "PUT a host named 'a%2Fb': the name a/b"
expect_error bad_request "PUT 'a%2Fb'"
for id in .. a/b ' x' 'x '; do
  http POST /v1/placements "$(body "{\"id\": \"$id\", \"flavor\": {\"vcpus\": 1, \"memory_mb\": 512}}")"
  expect_status 400 "a placement id '$id'"; expect_error bad_request "id '$id'"
done
http GET /v1/nothing; expect_status 404 "an unknown route"; expect_error not_found "unknown route"
http PATCH /v1/hosts/h1; expect_status 405 "a method the path does not take"; expect_error method_not_allowed "405"
head -c 100000 /dev/zero | tr '\0' ' ' >"$TMP/big.json"
http PUT /v1/hosts/h3 "$TMP/big.json"; expect_status 413 "a body over --max-body"; expect_error body_too_large "413"
# Read to its end and thrown away (up to 4 x --max-body), then answered.
http PUT /v1/hosts/h3 "$TMP/big.json" -H 'Transfer-Encoding: chunked'
expect_status 413 "a chunked body over --max-body"; expect_error body_too_large "chunked 413"
head -c 300000 /dev/zero | tr '\0' ' ' >"$TMP/huge.json"
http PUT /v1/hosts/h3 "$TMP/huge.json" -H 'Transfer-Encoding: chunked'
case $status in 413|000) ok "a chunked body past 4 x --max-body: 413 or the connection cut ($status)" ;;
  *) not_ok "a chunked body past 4 x --max-body answered $status" ;; esac
http GET /v1/health "" -H "X-Big: $(head -c 30000 /dev/zero | tr '\0' a)"
expect_status 431 "headers over --max-header"; expect_error headers_too_large "431"
# Just over --max-header in 200 fields of 80 bytes (libmicrohttpd's own
# cost for each comes out of the connection's memory too): still our JSON.
: >"$TMP/manyhdr"
for i in $(seq 1 200); do printf 'X-F%03d: %s\n' "$i" "$(head -c 72 /dev/zero | tr '\0' b)" >>"$TMP/manyhdr"; done
http GET /v1/health "" -H @"$TMP/manyhdr"
expect_status 431 "16 KiB of headers in 200 fields"; expect_error headers_too_large "many fields 431"
# Far over it (past the connection's memory, 4 x --max-header + 32 KiB)
# libmicrohttpd answers its own 431 before any callback of ours runs, with
# its HTML body: it has no option to replace that body (0.9.75 and its
# current source).  Still a 431 (or the connection closed), and no harm.
printf 'X-Big: %s\n' "$(head -c 200000 /dev/zero | tr '\0' a)" >"$TMP/bighdr"
http GET /v1/health "" -H @"$TMP/bighdr"
case $status in 431|000) ok "headers far over the limit: libmicrohttpd's 431 or closed ($status)" ;;
  *) not_ok "headers far over the limit answered $status" ;; esac
# Odd and hostile requests on raw sockets (client.py hostile: each case's
# bytes).  The server answers these with a JSON error from its table: a
# long query counts against --max-header as the path does; a field name
# with white space ("Content-Length : 2", which libmicrohttpd does not read
# as a length but a proxy may) is refused; a Transfer-Encoding other than
# chunked too (libmicrohttpd would read the body up to the connection's
# end); a chunked body is typed like any other; a chunked body over
# --max-body is read to its end (up to 4 times the limit) and answered 413.
# One client for all cases (a Python start each is seconds on a loaded machine).
$CLIENT hostile "$SVC" query-long url-long url-headers field-space te-gzip te-gzip-chunked chunked-text \
  chunked-over form json-jsonx json-charset no-type expect-large http10 no-host host-twice no-host-12 \
  no-host-19 host-15 method-unknown \
  body-404 body-405 body-query \
  headers-huge fields-many url-huge trailer-huge no-version field-no-colon version-bad chunk-bad \
  chunk-huge length-huge length-bad garbage binary >"$TMP/hostile.out"
hostile() {  # CASE WANT: client.py's "CASE STATUS KIND END" starts with "CASE WANT"
  local got
  got=$(grep "^$1 " "$TMP/hostile.out")
  case $got in "$1 $2"*) ok "hostile $got" ;; *) not_ok "hostile '$1': want $2, got '$got'" ;; esac
}
hostile query-long "414 json:uri_too_long"
hostile url-long "414 json:uri_too_long"
# A target within --max-header whose headers take it past: 431.
hostile url-headers "431 json:headers_too_large"
hostile field-space "400 json:bad_request"
hostile te-gzip "400 json:bad_request"
hostile te-gzip-chunked "400 json:bad_request"
hostile chunked-text "415 json:unsupported_media_type"
hostile chunked-over "413 json:body_too_large"
hostile form "415 json:unsupported_media_type"
hostile json-jsonx "415 json:unsupported_media_type"
# Read as JSON (and refused for what it says): no type at all, and
# application/json with a parameter.
hostile json-charset "400 json:bad_request"
hostile no-type "400 json:bad_request"
hostile expect-large "413 json:body_too_large"
hostile http10 "200 json closed"
# HTTP/1.1 needs one Host header (RFC 9112 3.2); libmicrohttpd takes none or two.
hostile no-host "400 json:bad_request"
hostile host-twice "400 json:bad_request"
# libmicrohttpd serves HTTP/1.2-1.9 as 1.1: the same rule, and served with one Host.
hostile no-host-12 "400 json:bad_request"
hostile no-host-19 "400 json:bad_request"
hostile host-15 "200 json"
hostile method-unknown "405 json:method_not_allowed"
# Refused on the headers while the body is still coming (client.py sends
# 64 KiB, waits, sends the rest): the server reads the body to its end
# before it answers, or the client's send fails on a closed connection.
hostile body-404 "404 json:not_found closed"
hostile body-405 "405 json:method_not_allowed closed"
hostile body-query "400 json:bad_request closed"
# libmicrohttpd refuses these itself before any code of ours runs, with
# its own HTML (or nothing), and closes; libmicrohttpd 0.9.75 has no option
# to replace that body (docs/api/openapi.yaml lists them).  The status and
# the closed connection are what is promised.
for c in "headers-huge 431" "fields-many 431" "url-huge 414" "trailer-huge 431" "no-version 400" \
         "field-no-colon 400" "version-bad 505" "chunk-bad 400" "chunk-huge 413" "length-huge 413" \
         "length-bad 400" "garbage 000" "binary 000"; do
  set -- $c
  got=$(grep "^$1 " "$TMP/hostile.out")
  case $got in "$1 $2 json"*) not_ok "hostile '$1' is JSON now: update the docs ($got)" ;;
    "$1 $2 "*" closed") ok "hostile $got: libmicrohttpd's own answer, closed" ;;
    *) not_ok "hostile '$1': want $2 and a closed connection, got '$got'" ;; esac
done
if $CLIENT slow "$SVC" --seconds 12 >"$TMP/slow.out"; then ok "a client sending a byte a second is cut off: $(cat "$TMP/slow.out")"
else not_ok "the slow client: $(cat "$TMP/slow.out")"; fi
http GET /v1/health; expect_status 200 "the server still answers after all that"
store_snapshot "$TMP/after.json"
if cmp -s "$TMP/before.json" "$TMP/after.json"; then ok "no hostile request changed the store"
else not_ok "the store changed: $(diff "$TMP/before.json" "$TMP/after.json" | head -5)"; fi

# Metrics.
http GET /v1/metrics; expect_status 200 "metrics"
grep -q '^numaplace_http_requests_total{route="placement_post",code="201"} 3$' "$TMP/body" &&
  grep -q '^numaplace_http_request_duration_seconds_count{route="placement_post"}' "$TMP/body" &&
  grep -q '^numaplace_hosts 2$' "$TMP/body" && grep -q '^numaplace_placements 2$' "$TMP/body" &&
  grep -q "^numaplace_node_memory_used_mb{host=\"h1\",node=\"0\"}" "$TMP/body" &&
  grep -q '^numaplace_claim_conflicts_total ' "$TMP/body" &&
  ok "metrics: requests by route and status, latency, hosts, placements, usage per node" ||
  not_ok "metrics lack something: $(head -c 400 "$TMP/body")"
# Group commit (np_fleet_commit_stats): the 3 placements went through it.
awk '/^numaplace_claims_committed_total /{c=$2} /^numaplace_claim_commits_total /{t=$2}
     /^numaplace_releases_committed_total /{r=$2; rr=1}
     /^numaplace_claim_commit_largest /{l=$2} /^numaplace_claim_commit_splits_total /{s=$2; ss=1}
     END {exit !(c >= 3 && t >= 1 && rr && t <= c + r && l >= 1 && l <= c && ss && s >= 0)}' "$TMP/body" &&
  grep -q '^# TYPE numaplace_claims_committed_total counter$' "$TMP/body" &&
  awk '/^numaplace_ledger_reads_total\{scope="host"\} /{h=$2} /^numaplace_ledger_reads_total\{scope="all"\} /{a=$2}
       /^numaplace_summaries_built_total /{b=$2} /^numaplace_summaries_shared_total /{s=$2; ss=1}
       END {exit !(h + a >= 1 && b >= 2 && ss && s >= 0)}' "$TMP/body" &&
  ok "metrics: claims, releases, commits, largest batch and splits of the group commit; ledger reads and summaries built" ||
  not_ok "metrics lack the commit stats: $(grep -i commit "$TMP/body" | head -8)"

# SIGHUP reopens the log (rotation).  Waits for events, not for times (a
# loaded machine took longer than the 0.5 s and 0.2 s they were): the new
# log's "log reopened", then the request's line; 60 s only guard a hang.
wait_in_log() {  # wait_in_log TEXT: until the new access.log has TEXT
  local end=$((SECONDS + 60))
  until grep -q "$1" "$TMP/access.log" 2>/dev/null || [ "$SECONDS" -ge "$end" ]; do sleep 0.05; done
}
mv "$TMP/access.log" "$TMP/access.log.1"
kill -HUP "${SVC_PID[main]}"
wait_in_log "log reopened"
http GET /v1/health
wait_in_log "health 200"
if grep -q "health 200" "$TMP/access.log" 2>/dev/null; then ok "SIGHUP: the log is reopened"
else not_ok "SIGHUP: nothing in the new log"; fi
# A log that is no regular file: refused at start (a FIFO nobody reads hung
# the open), and at SIGHUP the server keeps the one open and says why there.
mkfifo "$TMP/log-fifo"; mkdir "$TMP/log-dir"; ln -s "$TMP/access.log" "$TMP/log-link"
for log in "$TMP/log-fifo" "$TMP/log-dir" "$TMP/log-link" /dev/zero; do
  run_within 60 serve --store "$STORE" --listen "unix:$TMP/log.sock" --log "$log"
  [ "$rc" = 124 ] && not_ok "--log ${log##*/}: hangs"
  expect_rc 2 "--log ${log##*/} refused"; expect_one_line_err "--log ${log##*/}"
  expect_err "cannot open the log .*${log##*/}': (not a regular file|a directory|a symbolic link)" \
    "--log ${log##*/}: says why"
done
mv "$TMP/access.log" "$TMP/access.log.2"; mkfifo "$TMP/access.log"
kill -HUP "${SVC_PID[main]}"
end=$((SECONDS + 60))
until grep -q "cannot reopen the log" "$TMP/access.log.2" || [ "$SECONDS" -ge "$end" ]; do sleep 0.05; done
http GET /v1/health; expect_status 200 "SIGHUP onto a FIFO: still serving"
grep -q "cannot reopen the log '.*access.log': not a regular file (a FIFO) (still writing the one open)" \
  "$TMP/access.log.2" && ! grep -q "log reopened" <(tail -n 2 "$TMP/access.log.2") &&
  ok "... and the log it keeps says why, once" || not_ok "SIGHUP onto a FIFO: $(tail -n 2 "$TMP/access.log.2")"
rm -f "$TMP/access.log"; mv "$TMP/access.log.2" "$TMP/access.log"

# SIGTERM while a request trickles in: it is answered, then the server exits 0.
# The client says it is ready once the server has sent "100 Continue".
$CLIENT trickle "$SVC" "$HOST" --name h9 --seconds 1.5 --ready "$TMP/ready" >"$TMP/trickle.out" 2>&1 &
tpid=$!
end=$((SECONDS + 60))
until [ -e "$TMP/ready" ] || ! kill -0 $tpid 2>/dev/null || [ "$SECONDS" -ge "$end" ]; do sleep 0.05; done
# (ready: the server answered "100 Continue", so it is handling the request)
svc_stop main
wait $tpid
if [ "$svc_rc" = 0 ]; then ok "SIGTERM: exit 0"; else not_ok "SIGTERM: exit $svc_rc"; fi
if grep -q "201" "$TMP/trickle.out"; then ok "SIGTERM: the request in flight was answered"
else not_ok "SIGTERM: the request in flight got: $(cat "$TMP/trickle.out")"; fi

# TCP: loopback only, a token required and checked.
printf 'sekrit-token-0123456789\n' >"$TMP/token"; chmod 600 "$TMP/token"
run serve --store "$STORE" --listen 127.0.0.1:0
expect_rc 2 "TCP without a token is refused"; expect_one_line_err "TCP without a token"
run serve --store "$STORE" --listen 0.0.0.0:0 --token-file "$TMP/token"
expect_rc 2 "a non-loopback address without --listen-any"
chmod 644 "$TMP/token"
run serve --store "$STORE" --listen 127.0.0.1:0 --token-file "$TMP/token"
expect_rc 2 "a token file others can read"; expect_one_line_err "a token file others can read"
expect_err "token.*readable by others \\(mode 0644" "a token file others can read: it says why"
chmod 620 "$TMP/token"
run serve --store "$STORE" --listen 127.0.0.1:0 --token-file "$TMP/token"
expect_rc 2 "a token file its group can write"; chmod 600 "$TMP/token"
ln -s "$TMP/token" "$TMP/token-link"
run serve --store "$STORE" --listen 127.0.0.1:0 --token-file "$TMP/token-link"
expect_rc 2 "a token file through a symbolic link"
expect_err "token-link.*symbolic link" "a token file through a link: it says so"
# Another user's token file: they could change the token (only root can
# give a file away, so this runs as root).
if [ "$(id -u)" = 0 ]; then
  cp "$TMP/token" "$TMP/token-theirs"; chown 65534:65534 "$TMP/token-theirs"
  run serve --store "$STORE" --listen 127.0.0.1:0 --token-file "$TMP/token-theirs"
  expect_rc 2 "another user's token file"; expect_one_line_err "another user's token file"
  expect_err "token-theirs.*owned by uid 65534" "another user's token file: it says whose"
else echo "skip: another user's token file (giving a file away needs root)"; fi
run serve --store "$STORE" --listen unix:/nonexistent/dir/s.sock
expect_rc 1 "a socket that cannot be made"
svc_start tcp --store "$STORE" --listen 127.0.0.1:0 --token-file "$TMP/token" ||
  { not_ok "the TCP server starts"; finish; }
SVC=http://$(svc_addr tcp)
http GET /v1/health; expect_status 401 "no token"; expect_error unauthorized "no token"
SVC_TOKEN=sekrit-token-0123456788
http GET /v1/hosts; expect_status 401 "a wrong token"
SVC_TOKEN=sekrit-token-012345678
http GET /v1/hosts; expect_status 401 "a token's prefix"
SVC_TOKEN=sekrit-token-0123456789
http GET /v1/hosts; expect_status 200 "the right token"
SVC_TOKEN=
http DELETE /v1/placements/vm-1; expect_status 401 "a release without a token"
got=$($CLIENT hostile "$(svc_addr tcp)" body-401)
case $got in "401 json:unauthorized closed") ok "a wrong token with a body on its way: 401 after the body" ;;
  *) not_ok "a wrong token with a body on its way: '$got'" ;; esac
svc_stop tcp
store_snapshot "$TMP/after2.json"
python3 - "$TMP/before.json" "$TMP/after2.json" <<'PY' && ok "unauthorised requests changed nothing" || not_ok "the store changed"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:])
# The trickled host h9 came in with SIGTERM; everything else must be as before.
b["hosts"] = [h for h in b["hosts"] if h["name"] != "h9"]
sys.exit(0 if a == b else 1)
PY
run fleet check --store "$STORE"
expect_rc 0 "fleet check: usage is the sum of the placements"

# On a server of its own (the store's snapshots above are done).
# Deadlines long enough for the batch below, held in the store by the test.
svc_start esc --store "$STORE" --listen "unix:$TMP/e.sock" --timeout 60 --write-deadline 30 ||
  { not_ok "the server starts"; finish; }
SVC=unix:$TMP/e.sock
# The answer's head is written by hand for plain ids, by jansson for others: the same bytes.
for id in 'q\"b\\s' 'c\u00e9'; do
  http POST /v1/placements "$(body "{\"id\": \"$id\", \"host\": \"h2\", \"flavor\": {\"vcpus\": 1, \"memory_mb\": 512}}")"
  expect_status 201 "a placement whose id needs escaping ($id)"
  python3 -c 'import sys; b=open(sys.argv[1],"rb").read(); sys.exit(not b.startswith(b"{\"id\":\"" + sys.argv[2].encode() + b"\",\"host\":\"h2\",\"plan\":{"))' \
    "$TMP/body" "$(python3 -c 'import json,sys; print(json.dumps(json.loads("\"%s\"" % sys.argv[1]), ensure_ascii=False)[1:-1])' "$id")" &&
    ok "... its id in the answer as jansson writes it" || not_ok "escaped id: $(head -c 120 "$TMP/body")"
  http DELETE "/v1/placements/$(python3 -c 'import json,sys,urllib.parse; print(urllib.parse.quote(json.loads("\"%s\"" % sys.argv[1]), safe=""))' "$id")"
  expect_status 204 "... and is released by its id"
done
# A keep-alive connection reuses its last request's buffer: a request
# without a body after one with a body still has none.
printf '%s' '{"id": "ka-1", "host": "h2", "flavor": {"vcpus": 1, "memory_mb": 512}}' >"$TMP/ka.json"
curl -s --unix-socket "$TMP/e.sock" -o "$TMP/ka1" -w '%{http_code}\n' -X POST \
  -H "Content-Type: application/json" --data-binary "@$TMP/ka.json" http://localhost/v1/placements \
  --next -s --unix-socket "$TMP/e.sock" -o "$TMP/ka2" -w '%{http_code} %{num_connects}\n' \
  -X POST http://localhost/v1/placements >"$TMP/ka.out"
[ "$(cat "$TMP/ka.out")" = "$(printf '201\n400 0')" ] && grep -q "the request needs a JSON body" "$TMP/ka2" &&
  ok "a request without a body after one with a body, on one connection, has none" ||
  not_ok "keep-alive body: $(cat "$TMP/ka.out") $(head -c 200 "$TMP/ka2")"
http DELETE /v1/placements/ka-1; expect_status 204 "... and that placement is released"
# Other processes' claims and releases: the replica learns them from the
# store (numaplace_changes_told_total), not by reading the host again --
# on SQLite from the change ring when its last scan of the store is under
# a second old (RING_TRUST_NS: a loaded machine may miss that, hence a few
# tries), on PostgreSQL from the host row's last change when its view is
# one generation behind (a claim and its release between two scans: read).
told() { http GET /v1/metrics; awk '/^numaplace_changes_told_total /{print $2}' "$TMP/body"; }
http GET /v1/hosts; t0=$(told); t1=$t0
for i in 1 2 3 4 5; do
  "$NUMAPLACE" schedule --store "$STORE" --id "told-$i" --name h2 --flavor vcpus=1,ram=512 >/dev/null
  http GET /v1/hosts
  "$NUMAPLACE" fleet release --store "$STORE" --id "told-$i" >/dev/null
  http GET /v1/hosts; t1=$(told)
  [ "${t1:-0}" -gt "${t0:-0}" ] && break
done
want="t1 > t0"
awk -v t0="$t0" -v t1="$t1" "BEGIN {exit !(t0 != \"\" && t1 != \"\" && $want)}" &&
  ok "metrics: other processes' changes told by the store ($t0 -> $t1)" ||
  not_ok "numaplace_changes_told_total: $t0 -> $t1, want $want"
# The change feed (np_fleet_feed_stats): on PostgreSQL the replica's
# threads share their change scans, and the refreshes above scanned; on
# SQLite each scans its in-process ring, and the counters stay 0.
feed='/^numaplace_feed_scans_total /{s=$2; n++} /^numaplace_feed_takes_total /{t=$2; n++}
      /^numaplace_feed_behind_total /{b=$2; n++}'
if [ "$kind" = postgresql ]; then want='n == 3 && s >= 1 && t >= 0 && b >= 0'; else want='n == 3 && s + t + b == 0'; fi
grep -q '^# TYPE numaplace_feed_scans_total counter$' "$TMP/body" &&
  awk "$feed END {exit !($want)}" "$TMP/body" &&
  ok "metrics: the change feed's scans, takes and handles behind ($kind: $want)" ||
  not_ok "metrics: the feed's counters, want $want: $(grep '^numaplace_feed' "$TMP/body" | tr '\n' ' ')"
# PostgreSQL's rows edited by hand (SQLite's: tests/cli/names.sh): a
# placement's pins are in its own row (cpus, cpu_nodes), what a host's
# last change was in np_hosts.last_change.  A last change that lies (more
# memory than the node has) is not made: the replica reads the host again
# and serves what a fresh replica reads.  A release whose row pins CPU -5
# is 503 unavailable with one line, not half made; the replica goes on.
if [ "$kind" = postgresql ]; then
  same_as_fresh() { # WHAT: GET /v1/hosts/h2 here equals a fresh replica's
    local served
    http GET /v1/hosts/h2; served=$(python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))["nodes"]))' "$TMP/body")
    svc_start fresh --store "$STORE" --listen "unix:$TMP/f.sock" || { not_ok "a fresh replica starts"; return; }
    SVC=unix:$TMP/f.sock http GET /v1/hosts/h2
    [ -n "$served" ] && [ "$served" = "$(python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))["nodes"]))' "$TMP/body")" ] &&
      ok "$1: h2 served as a fresh replica reads it" || not_ok "$1: h2 served is not what a fresh replica reads"
    svc_stop fresh
  }
  http GET /v1/hosts/h2; t0=$(told)
  "$NUMAPLACE" schedule --store "$STORE" --id lie-1 --name h2 --flavor vcpus=1,ram=512 >/dev/null
  pg_psql fleet "UPDATE np_hosts SET last_change = generation::text || ' c;0 mem 99999999999 1;' WHERE name = 'h2'" >/dev/null
  same_as_fresh "a last change that lies"
  [ "$(told)" = "$t0" ] && ok "... and it was not told" || not_ok "a lying last change was told ($t0 -> $(told))"
  http POST /v1/placements "$(body '{"id": "pin-1", "host": "h2", "flavor": {"vcpus": 1, "memory_mb": 512, "extra_specs": {"hw:cpu_policy": "dedicated"}}}')"
  expect_status 201 "a placement that pins a CPU"
  pg_psql fleet "UPDATE np_placements SET cpus[1] = -5 WHERE id = 'pin-1'" >/dev/null
  # The store released it and answered what the driver cannot read: the
  # placement is gone, so the release is done (204), not a 503 that a
  # retry then finds a 404; the log says what the store answered.
  http DELETE /v1/placements/pin-1; expect_status 204 "the release of a row that pins CPU -5: done"
  grep -q "placement_delete 'pin-1': released, though the store's answer failed: .*a release answered" \
    "$TMP/esc.log" && ok "... and the log says what the store answered" ||
    not_ok "release of a tampered row: no log line ($(grep pin-1 "$TMP/esc.log" | tail -n2))"
  http GET /v1/placements/pin-1; expect_status 404 "... released in the store"
  same_as_fresh "after that release"
  # The same release beside a claim, in one batch: h2's row is locked (psql)
  # while a POST waits on it in the store, and another POST and the DELETE
  # queue behind it and commit together.  The release committed though its
  # answer is unreadable: 204, not the batch run again one by one (where the
  # release answered 'not found': 404).
  http POST /v1/placements "$(body '{"id": "pin-2", "host": "h2", "flavor": {"vcpus": 1, "memory_mb": 512, "extra_specs": {"hw:cpu_policy": "dedicated"}}}')"
  expect_status 201 "another placement that pins a CPU"
  pg_psql fleet "UPDATE np_placements SET cpus[1] = -5 WHERE id = 'pin-2'" >/dev/null
  http GET /v1/metrics; splits0=$(awk '/^numaplace_claim_commit_splits_total /{print $2}' "$TMP/body")
  # Each step waits for the one before (1/count(*) fails while none is seen).
  pg_until() { # SQL: until it answers without an error (60 s guard a hang)
    local end=$((SECONDS + 60))
    until pg_psql fleet "$1" >/dev/null 2>&1 || [ "$SECONDS" -ge "$end" ]; do sleep 0.05; done
  }
  post_bg() { # ID: POST a placement on h2 in the background, its status into $TMP/ID
    curl -s -o /dev/null -w '%{http_code}' --unix-socket "$TMP/e.sock" -X POST -H 'Content-Type: application/json' \
      --data "{\"id\": \"$1\", \"host\": \"h2\", \"flavor\": {\"vcpus\": 1, \"memory_mb\": 512}}" \
      http://localhost/v1/placements >"$TMP/$1" &
  }
  # The lock is held until the test commits it (psql reading a pipe), so
  # that a loaded machine's slow steps cannot outlast it.
  mkfifo "$TMP/lock.in"
  "$PG_BINDIR/psql" -X -q -h "$PG_DIR" -p "$PG_PORT" -U np -d fleet <"$TMP/lock.in" >/dev/null 2>&1 &
  lockp=$!
  exec 7>"$TMP/lock.in"
  echo "BEGIN; SELECT 1 FROM np_hosts WHERE name = 'h2' FOR UPDATE;" >&7
  pg_until "SELECT 1 / count(*) FROM pg_stat_activity WHERE state = 'idle in transaction'"
  post_bg bat-1; bp1=$!
  pg_until "SELECT 1 / count(*) FROM pg_locks WHERE NOT granted"
  # A second apart: a libmicrohttpd thread accepts every connection waiting
  # when it wakes, and one thread would serve bat-2 and the DELETE in turn.
  post_bg bat-2; bp2=$!
  sleep 1
  curl -s -o /dev/null -w '%{http_code}' --unix-socket "$TMP/e.sock" -X DELETE \
    http://localhost/v1/placements/pin-2 >"$TMP/del" &
  dp=$!
  sleep 1 # queued behind bat-1 too
  echo "COMMIT;" >&7
  exec 7>&-
  wait "$bp1" "$bp2" "$dp" "$lockp"
  delst=$(cat "$TMP/del")
  http GET /v1/metrics; splits1=$(awk '/^numaplace_claim_commit_splits_total /{print $2}' "$TMP/body")
  [ "$(cat "$TMP/bat-1" "$TMP/bat-2")" = 201201 ] && [ -n "$splits0" ] && [ "$splits0" = "$splits1" ] &&
    ok "a claim beside the tampered release placed, no batch run again one by one" ||
    not_ok "beside the tampered release: claims $(cat "$TMP/bat-1" "$TMP/bat-2" | tr '\n' ' '), splits $splits0 -> $splits1"
  http GET /v1/placements/pin-2
  [ "$delst" = 204 ] && [ "$status" = 404 ] && grep -q "placement_delete 'pin-2': released, though the store's answer failed: .*could not be read" \
    "$TMP/esc.log" && ok "the tampered release in a batch: 204, released, the log says so" ||
    not_ok "the tampered release in a batch: DELETE $delst, GET $status; $(grep pin-2 "$TMP/esc.log" | tail -n2)"
  same_as_fresh "after the release in a batch"
  for id in bat-1 bat-2; do "$NUMAPLACE" fleet release --store "$STORE" --id $id >/dev/null; done
  "$NUMAPLACE" fleet release --store "$STORE" --id lie-1 >/dev/null
  # A release the store fails before anything is done (a trigger raises
  # on every DELETE of a placement; reads still work): an id that never
  # existed is 404 (the read proves it is not there and the failed
  # release did nothing), one that exists is 503 and stays.
  http POST /v1/placements "$(body '{"id": "fail-1", "host": "h2", "flavor": {"vcpus": 1, "memory_mb": 512}}')"
  expect_status 201 "a placement to release while releases fail"
  pg_psql fleet "CREATE FUNCTION np_test_boom() RETURNS trigger LANGUAGE plpgsql AS
    \$\$BEGIN RAISE EXCEPTION 'np_test: releases fail'; END\$\$;
    CREATE TRIGGER np_test_boom BEFORE DELETE ON np_placements FOR EACH STATEMENT
    EXECUTE FUNCTION np_test_boom()" >/dev/null
  http DELETE /v1/placements/never-1
  expect_status 404 "a DELETE of an id that never existed while releases fail"
  expect_error not_found "... says there is no such placement"
  http DELETE /v1/placements/fail-1
  expect_status 503 "a DELETE of a placement while releases fail"; expect_error unavailable "... unavailable"
  http GET /v1/placements/fail-1; expect_status 200 "... and it is still there"
  pg_psql fleet "DROP TRIGGER np_test_boom ON np_placements; DROP FUNCTION np_test_boom()" >/dev/null
  http DELETE /v1/placements/fail-1; expect_status 204 "released once releases work again"
  # The connection lost after the commit was sent (the driver's
  # "outcome_unknown"): on a server of its own whose connections pass
  # through tests/service/cut-proxy.py.  A synchronous standby that never
  # comes keeps a release's commit waiting once it is written (a trigger
  # turns synchronous_commit on for DELETEs of placements only: the
  # server's other statements do not wait); the proxy drops that
  # connection's answers, the wait is cancelled (the commit is then
  # visible) and the proxy closes the connection.  A lone release, then
  # two that queued behind it and commit as one batch: each 204 (gone when
  # read), none run again to answer "not found" (404).
  mkdir -p "$TMP/px" "$TMP/cues"
  python3 "$NP_SRC/tests/service/cut-proxy.py" "$TMP/px/.s.PGSQL.$PG_PORT" "$PG_DIR/.s.PGSQL.$PG_PORT" \
    "$TMP/cues" >"$TMP/px.out" 2>&1 &
  pxp=$!
  SVC_PID[cutproxy]=$pxp # killed with the servers should the test end early
  until grep -q ready "$TMP/px.out" 2>/dev/null || ! kill -0 "$pxp" 2>/dev/null; do sleep 0.05; done
  svc_start lost --store "${STORE/host=$PG_DIR/host=$TMP/px}" --listen "unix:$TMP/l.sock" \
    --timeout 60 --write-deadline 30 || not_ok "a server through the proxy starts"
  SVC=unix:$TMP/l.sock
  for id in lost-1 lost-2 lost-3; do
    http POST /v1/placements "$(body "{\"id\": \"$id\", \"host\": \"h2\", \"flavor\": {\"vcpus\": 1, \"memory_mb\": 512}}")"
    expect_status 201 "$id placed"
  done
  del_bg() { # ID: DELETE ID in the background, its status into $TMP/ID
    curl -s -o /dev/null -w '%{http_code}' --unix-socket "$TMP/l.sock" -X DELETE \
      "http://localhost/v1/placements/$1" >"$TMP/$1" &
  }
  waiting='FROM pg_stat_activity WHERE state = '"'active'"' AND wait_event = '"'SyncRep'"
  waiter() { # the pid of the backend waiting for the standby (once there is one)
    pg_until "SELECT 1 / count(*) $waiting"
    "$PG_BINDIR/psql" -X -q -t -A -h "$PG_DIR" -p "$PG_PORT" -U np -d fleet -c "SELECT min(pid) $waiting"
  }
  cue() { # CUE: to the proxy, done when it says so (60 s guard a hang)
    local end=$((SECONDS + 60))
    touch "$TMP/cues/$1"
    until [ -e "$TMP/cues/$1.done" ] || [ "$SECONDS" -ge "$end" ]; do sleep 0.02; done
  }
  lose() { # PID: its commit made visible, its answer lost, its connection closed
    cue "freeze-$1"
    pg_psql fleet "SELECT pg_cancel_backend($1)" >/dev/null
    pg_until "SELECT 1 / (1 - count(*)) $waiting AND pid = $1"
    cue "cut-$1"
  }
  commits() { # "TRANSACTIONS SPLITS" of the group commit, from the metrics
    http GET /v1/metrics
    awk '/^numaplace_claim_commits_total /{c=$2} /^numaplace_claim_commit_splits_total /{s=$2} END {print c, s}' "$TMP/body"
  }
  c0=$(commits)
  pg_psql fleet "CREATE FUNCTION np_test_wait() RETURNS trigger LANGUAGE plpgsql AS
    \$\$BEGIN PERFORM set_config('synchronous_commit', 'on', true); RETURN NULL; END\$\$;
    CREATE TRIGGER np_test_wait BEFORE DELETE ON np_placements FOR EACH STATEMENT
    EXECUTE FUNCTION np_test_wait()" >/dev/null
  pg_psql fleet "ALTER SYSTEM SET synchronous_commit = local" >/dev/null
  pg_psql fleet "ALTER SYSTEM SET synchronous_standby_names = 'np_test_nobody'" >/dev/null
  pg_psql fleet "SELECT pg_reload_conf()" >/dev/null
  sleep 1 # the reload reaches every process
  del_bg lost-1; lp1=$!
  a=$(waiter)
  del_bg lost-2; lp2=$!
  sleep 1 # a second apart, as above: served by two threads, queued behind lost-1
  del_bg lost-3; lp3=$!
  sleep 1
  lose "$a"
  lose "$(waiter)" # the batch of lost-2 and lost-3
  wait "$lp1" "$lp2" "$lp3"
  pg_psql fleet "ALTER SYSTEM RESET synchronous_standby_names" >/dev/null
  pg_psql fleet "ALTER SYSTEM RESET synchronous_commit" >/dev/null
  pg_psql fleet "SELECT pg_reload_conf()" >/dev/null
  pg_psql fleet "DROP TRIGGER np_test_wait ON np_placements; DROP FUNCTION np_test_wait()" >/dev/null
  for id in lost-1 lost-2 lost-3; do
    http GET "/v1/placements/$id"
    [ "$(cat "$TMP/$id")" = 204 ] && [ "$status" = 404 ] &&
      grep -q "placement_delete '$id': released, though the store's answer failed" "$TMP/lost.log" &&
      ok "$id, its connection lost after the commit: 204, released, the log says so" ||
      not_ok "$id lost after the commit: DELETE $(cat "$TMP/$id"), GET $status; $(grep "$id" "$TMP/lost.log" | tail -n2)"
  done
  [ "$(commits)" = "$((${c0% *} + 2)) ${c0#* }" ] &&
    ok "... in two transactions (lost-1's, then the batch of two), none run again one by one" ||
    not_ok "transactions and splits: $c0 -> $(commits), want 2 more transactions, no split"
  svc_stop lost
  kill "$pxp"; unset 'SVC_PID[cutproxy]'
  SVC=unix:$TMP/e.sock
  same_as_fresh "after the releases whose connection was lost"
fi
svc_stop esc
# A store a newer numaplace migrated while this one serves (here version
# 99): a request that opens a connection is 503 schema_too_new naming
# both versions, not a 4xx (the client did nothing wrong).  The server
# opens its handles on the first requests, so none is open yet here.
svc_start newer --store "$STORE" --listen "unix:$TMP/n.sock" || { not_ok "the server starts"; finish; }
SVC=unix:$TMP/n.sock
newest=3; [ "$kind" = postgresql ] && newest=7
set_version() {  # set_version V: as a numaplace of schema V would leave the store
  if [ "$kind" = sqlite ]; then
    python3 -c "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute(\"UPDATE np_meta SET value = ? WHERE key = 'version'\", (sys.argv[2],)); c.commit()" "$TMP/fleet.db" "$1"
  else
    pg_psql fleet "UPDATE np_meta SET value = '$1' WHERE key = 'version'" >/dev/null
  fi
}
stored() {  # stored ID: how many placements ID the store holds
  if [ "$kind" = sqlite ]; then
    python3 -c "import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute('SELECT count(*) FROM np_placements WHERE id = ?', (sys.argv[2],)).fetchone()[0])" "$TMP/fleet.db" "$1"
  else
    pg_psql fleet "SELECT count(*) FROM np_placements WHERE id = '$1'" | grep -E '^ *[0-9]+ *$' | tr -d ' '
  fi
}
set_version 99
http GET /v1/hosts; expect_status 503 "a store of a newer schema"; expect_error schema_too_new "newer schema"
json "'schema version 99; this numaplace reads up to $newest' in d['error']['message']" &&
  ok "the error names both versions" || not_ok "newer schema: $body"
# The server keeps watching it (once a second): a version it reads again
# (a restore) and it serves; it writes, its handles open and pooled.
wait_status() {  # wait_status N: until GET /v1/hosts answers N (20 s at most)
  local end=$((SECONDS + 20))
  until http GET /v1/hosts; [ "$status" = "$1" ] || [ "$SECONDS" -ge "$end" ]; do sleep 0.2; done
}
set_version "$newest"; wait_status 200
expect_status 200 "the store at this numaplace's version again: served"
http POST /v1/placements "$(body '{"id": "old-1", "flavor": {"vcpus": 1, "memory_mb": 512}}')"
expect_status 201 "a write before the migration"
# A newer numaplace migrates the store under the running server, whose
# pooled handles hold their older statements: it notices within a second
# or two and writes nothing with them.
set_version 99; wait_status 503
expect_status 503 "a running server notices the newer schema"; expect_error schema_too_new "running"
http POST /v1/placements "$(body '{"id": "old-2", "flavor": {"vcpus": 1, "memory_mb": 512}}')"
expect_status 503 "a write after the migration"; expect_error schema_too_new "write after"
[ "$(stored old-2)" = 0 ] && [ "$(stored old-1)" = 1 ] && ok "... and nothing was written" ||
  not_ok "the write after the migration: old-2 stored $(stored old-2) times"
grep -q "refusing every request: store .* has fleet schema version 99" "$TMP/newer.log" &&
  ok "the server's log says why it refuses" || not_ok "no log line for the newer schema"
set_version "$newest"; wait_status 200
http DELETE /v1/placements/old-1; expect_status 204 "served again after the restore"
svc_stop newer
finish
