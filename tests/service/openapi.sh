#!/usr/bin/env bash
# tests/service/openapi.sh - a live server on SQLite (over TCP with a token,
# as deployed) checked against docs/api/openapi.yaml by openapi.py.
. "$(dirname "$0")/lib.sh"
python3 -c 'import yaml' 2>/dev/null || { echo "skipped: needs python3-yaml"; exit 77; }
fleet_store sqlite
printf 'openapi-check-token-42\n' >"$TMP/token"; chmod 600 "$TMP/token"
svc_start main --store "$STORE" --listen 127.0.0.1:0 --token-file "$TMP/token" --log /dev/null ||
  { not_ok "the server starts"; finish; }
python3 "$(dirname "$0")/openapi.py" "$NP_SRC/docs/api/openapi.yaml" "$(svc_addr main)" \
  "$NP_SRC/tests/data/json/64amd64-4s2n4ca2co.json" --token-file "$TMP/token"
rc=$?
# The check itself: a file that lacks a status the server answers, or a key
# the server does not send, must fail it.
sed -e 's/required: \[status, store, hosts, placements\]/required: [status, store, hosts, placements, uptime]/' \
  "$NP_SRC/docs/api/openapi.yaml" >"$TMP/wrong.yaml"
if python3 "$(dirname "$0")/openapi.py" "$TMP/wrong.yaml" "$(svc_addr main)" \
  "$NP_SRC/tests/data/json/64amd64-4s2n4ca2co.json" --token-file "$TMP/token" >"$TMP/wrong.out"; then
  echo "not ok - a file requiring a key the server does not send passed the check"; rc=1
else
  echo "ok - a file requiring a key the server does not send fails the check"
fi
exit $rc
