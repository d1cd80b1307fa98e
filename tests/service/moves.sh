#!/usr/bin/env bash
# tests/service/moves.sh KIND - making room over HTTP: POST /v1/placements
# with "allow_moves" on a real store (KIND sqlite, or postgresql: a server
# this script starts).  The host is the simulator's make-room case, filled
# with `numaplace schedule` (A and B on node 0, C and E on node 1); D fits
# only after E's 2 GiB move to node 0: without allow_moves it is a 409,
# with it a 201 whose plan lists the move (checked against
# docs/api/openapi.yaml too), E's new plan is in the store, `fleet check`
# passes; bad values of allow_moves are 400s that change nothing.
. "$(dirname "$0")/lib.sh"
python3 -c 'import yaml' 2>/dev/null || { echo "skipped: needs python3-yaml"; exit 77; }
kind=$1
fleet_store "$kind"
fill_make_room h1 || finish
svc_start main --store "$STORE" --listen "unix:$TMP/s.sock" --log /dev/null ||
  { not_ok "the server starts"; finish; }
SVC=unix:$TMP/s.sock
body() { printf '%s' "$1" >"$TMP/req.json"; echo "$TMP/req.json"; }
json() { python3 -c "import json,sys; d=json.load(open('$TMP/body')); sys.exit(0 if ($1) else 1)"; }
D='"id": "D", "flavor": {"vcpus": 4, "memory_mb": 8192, "extra_specs": {"hw:cpu_policy": "dedicated"}}'

store_snapshot "$TMP/before.json"
http POST /v1/placements "$(body "{$D}")"; expect_status 409 "D does not fit as it is"
expect_error no_valid_host "nothing fits"
http POST /v1/placements "$(body "{$D, \"allow_moves\": 0}")"; expect_status 409 "nor with allow_moves 0"
for bad in 17 -1 '"1"' 1.5 true; do
  http POST /v1/placements "$(body "{$D, \"allow_moves\": $bad}")"
  expect_status 400 "allow_moves $bad"; expect_error bad_request "allow_moves $bad"
done
store_snapshot "$TMP/after.json"
cmp -s "$TMP/before.json" "$TMP/after.json" && ok "the refusals changed nothing" ||
  not_ok "the store changed"

http POST /v1/placements "$(body "{$D, \"allow_moves\": 1}")"; expect_status 201 "D fits with one move"
json "d['host'] == 'h1' and d['plan']['fits'] and d['plan']['moves_exact'] and
      [(m['guest'], m['from'], m['to'], m['memory_mb']) for m in d['plan']['moves']] == [('E', 1, 0, 2048)]" &&
  ok "the plan lists E's move, proven cheapest" || not_ok "plan: $(head -c 400 "$TMP/body")"
python3 -c "
import json, sys, yaml
sys.path.insert(0, '$(dirname "$0")')
from openapi import check
spec = yaml.safe_load(open('$NP_SRC/docs/api/openapi.yaml'))
errs = []
check(spec, {'\$ref': '#/components/schemas/Placement'}, json.load(open('$TMP/body')), 'body', errs)
moves = spec['components']['schemas']['Plan']['properties']['moves']
check(spec, moves, json.load(open('$TMP/body'))['plan']['moves'], 'moves', errs)
sys.exit(1 if errs else 0)" && ok "the answer matches docs/api/openapi.yaml" ||
  not_ok "the answer does not match docs/api/openapi.yaml"
http POST /v1/placements "$(body "{$D, \"allow_moves\": 1}")"; expect_status 200 "the same again: its placement"
http GET /v1/placements/E; expect_status 200 "GET the moved placement"
json "d['plan']['nodeset'] == [0]" && ok "E's new plan is in the store" || not_ok "E: $(head -c 300 "$TMP/body")"
"$NUMAPLACE" fleet check --store "$STORE" >/dev/null && ok "fleet check passes" || not_ok "fleet check fails"
svc_stop main
finish
