#!/usr/bin/env bash
# tests/service/paths.sh - percent-escapes in a path: a name is one
# segment however it is written.  "a%2Fb" is the name "a/b" (refused by
# the name rule, a 400 naming it, not a 404 for a path of three
# segments), "%00" a 400 (a NUL would cut "h1%00x" to "h1" and act on
# h1; "p1%00x" would release p1), "%25" a percent sign and "%31" a
# plain '1'; a host an older numaplace stored under a name with '/'
# (e.g. "rack/1") can still be read and removed over HTTP, as `fleet
# remove` removes it.  Bytes that only look like UTF-8 (overlong, a
# surrogate, past U+10FFFF) are a 400.  A query's keys and values are
# decoded once too ("%2F" a '/', "%25" a '%'), and a %00 in either is a
# 400 that says NUL, not a value or key cut short or kept encoded.
. "$(dirname "$0")/lib.sh"

small_host 2 4096 >"$TMP/h.json"
STORE="sqlite:$TMP/fleet.db"
svc_start main --store "$STORE" --listen "unix:$TMP/s.sock" --log /dev/null ||
  { not_ok "the server starts"; finish; }
SVC=unix:$TMP/s.sock

http PUT /v1/hosts/h1 "$TMP/h.json"; expect_status 201 "PUT h1"
http PUT /v1/hosts/a%2Fb "$TMP/h.json"; expect_status 400 "PUT a%2Fb: the name a/b"
expect_error bad_request "PUT a%2Fb"
case $body in *"'a/b'"*) ok "the error names 'a/b'" ;; *) not_ok "the error names 'a/b': $body" ;; esac
http DELETE /v1/hosts/h1%00x; expect_status 400 "DELETE h1%00x"
case $body in *NUL*) ok "the error says NUL" ;; *) not_ok "the error says NUL: $body" ;; esac
http GET /v1/hosts/h1; expect_status 200 "h1 is still there after DELETE h1%00x"
http GET /v1/hosts/h%31; expect_status 200 "GET h%31 is h1"
# Decoded once: "%%32F" is no '/', "%2531" no '1' (a bare '%' is refused).
http PUT /v1/hosts/x%%32F "$TMP/h.json"; expect_status 400 "PUT x%%32F (a bare '%')"
http GET /v1/hosts/h%2531; expect_status 404 "GET h%2531 is 'h%31', not h1"
http PUT /v1/hosts/50%25 "$TMP/h.json"; expect_status 201 "PUT 50%25"
http PUT /v1/hosts/50%2525 "$TMP/h.json"; expect_status 201 "PUT 50%2525: another host"
# Bytes that are not UTF-8 though shaped like it (an overlong '/' and NUL,
# a surrogate, past U+10FFFF): 400, not a host no listing can show.
for bad in x%C0%AFy x%C0%80y %ED%A0%80z %F4%90%80%80q; do
  http PUT /v1/hosts/$bad "$TMP/h.json"; expect_status 400 "PUT $bad (not UTF-8)"
done
http GET /v1/hosts
names=$(python3 -c 'import json,sys; print(" ".join(sorted(h["name"] for h in json.load(open(sys.argv[1]))["hosts"])))' "$TMP/body")
if [ "$names" = "50% 50%25 h1" ]; then ok "hosts '50%', '50%25' and 'h1'"
else not_ok "want hosts '50% 50%25 h1', got '$names'"; fi
# The query.  NUL: in a value, a key, after an escaped '%' (still a NUL).
for q in "cpu_ratio=4%00" "cpu_ratio=%00" "cpu%00_ratio=4" "ram_ratio=1&cpu_ratio=4%00x"; do
  http PUT "/v1/hosts/h2?$q" "$TMP/h.json"; expect_status 400 "?$q"
  case $body in *"NUL byte (%00)"*) ok "?$q: the error says NUL" ;;
    *) not_ok "?$q: the error says NUL: $body" ;; esac
done
http GET /v1/hosts/h2; expect_status 404 "no h2 after those"
# Decoded once: "%2F" is a '/', "%25" a '%' (in the key the error names),
# "%2534" is "%34", not 4; "%34" is 4.
http PUT "/v1/hosts/h2?a%2Fb=1" "$TMP/h.json"; expect_status 400 "?a%2Fb=1"
case $body in *"'a/b'"*) ok "?a%2Fb=1: the key is 'a/b'" ;; *) not_ok "?a%2Fb=1: the key is 'a/b': $body" ;; esac
http PUT "/v1/hosts/h2?a%25b=1" "$TMP/h.json"; expect_status 400 "?a%25b=1"
case $body in *"'a%b'"*) ok "?a%25b=1: the key is 'a%b'" ;; *) not_ok "?a%25b=1: the key is 'a%b': $body" ;; esac
http PUT "/v1/hosts/h2?cpu_ratio=%2534" "$TMP/h.json"; expect_status 400 "?cpu_ratio=%2534 is '%34'"
http PUT "/v1/hosts/h2?cpu_r%61tio=%34" "$TMP/h.json"; expect_status 201 "?cpu_r%61tio=%34 is cpu_ratio=4"
http DELETE "/v1/hosts/h2?force=true&forc%65=false"; expect_status 400 "force given twice, once escaped"
case $body in *"given twice"*) ok "the error says twice" ;; *) not_ok "the error says twice: $body" ;; esac
long=$(printf 'x%.0s' $(seq 1 600))
http DELETE "/v1/hosts/h2?force=$long"; expect_status 400 "a 600-byte value"
expect_error bad_request "a 600-byte value"
http DELETE "/v1/hosts/h2?f%6Frce=tru%65"; expect_status 204 "DELETE h2?f%6Frce=tru%65"
printf '{"id": "p1", "host": "h1", "flavor": {"vcpus": 1, "memory_mb": 512}}' >"$TMP/p1.json"
http POST /v1/placements "$TMP/p1.json"; expect_status 201 "POST p1"
http DELETE /v1/placements/p1%00x; expect_status 400 "DELETE p1%00x"
http GET /v1/placements/p%31; expect_status 200 "p1 is still placed (GET p%31)"

# An older numaplace's name: the host h1 renamed in the file itself.
svc_stop main
python3 - "$TMP/fleet.db" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("UPDATE np_hosts SET name = 'rack/1' WHERE name = 'h1'")
db.commit()
PY
svc_start again --store "$STORE" --listen "unix:$TMP/s.sock" --log /dev/null ||
  { not_ok "the server starts again"; finish; }
http GET /v1/hosts/rack%2F1; expect_status 200 "GET rack%2F1 (an older name)"
http DELETE "/v1/hosts/rack%2F1?force=true"; expect_status 204 "DELETE rack%2F1 (and p1 on it)"
http GET /v1/hosts/rack%2F1; expect_status 404 "rack/1 is gone"
svc_stop again
finish
