#!/usr/bin/env bash
# tests/slow/claims-kill.sh - claims hold 16 clients and kill -9 with
# nothing lost.  Round after round, 16 `numaplace claim` and `release`
# processes run at once on one state file while a random few of them are
# killed with SIGKILL at a random moment.  After each round the state must
# load and check out on its host (no CPU pinned twice, no node over its
# memory: `state show` with the host), every claim whose command exited 0
# must be there, every release that exited 0 must be gone, and every claim
# of earlier rounds not released must still be there.
# Rounds: $SLOW_CLAIM_ROUNDS (default 12), within $SLOW_SECONDS (default 120).
. "$(dirname "$0")/../cli/lib.sh"

rounds=${SLOW_CLAIM_ROUNDS:-12}
budget=${SLOW_SECONDS:-120}
# 8 nodes of 4 CPUs and 4 GiB: 32 pinned vCPUs at most.
python3 - >"$TMP/host.json" <<'PY'
import json
n = 8
print(json.dumps({"schema": "numaplace.topology/1", "distances_source": "firmware",
  "nodes": [{"id": i, "cpus": list(range(4 * i, 4 * i + 4)), "memory_mb": {"total": 4096},
             "distances": [10 if i == j else 20 for j in range(n)]} for i in range(n)],
  "cpus": [{"id": c, "node": c // 4, "core": c % 4, "socket": c // 4} for c in range(4 * n)]}))
PY
st="$TMP/state.json"
held="$TMP/held"       # ids claimed (exit 0) and not released since
: >"$held"
start=$SECONDS
for ((r = 1; r <= rounds; r++)); do
  [ $((SECONDS - start)) -lt "$budget" ] || { echo "# budget spent after $((r - 1)) rounds"; break; }
  pids=() what=()
  # Up to 6 releases of held ids, the rest new claims (pinned or floating).
  mapfile -t rel < <(shuf -n 6 "$held" 2>/dev/null)
  for id in "${rel[@]}"; do
    "$NUMAPLACE" release --state "$st" --id "$id" >/dev/null 2>&1 &
    pids+=($!) what+=("release $id")
  done
  for ((i = ${#rel[@]}; i < 16; i++)); do
    id="r$r-c$i"
    if [ $((i % 2)) -eq 0 ]; then f='vcpus=1,ram=64,hw:cpu_policy=dedicated'; else f='vcpus=1,ram=64'; fi
    "$NUMAPLACE" claim --state "$st" --id "$id" --json "$TMP/host.json" --flavor "$f" >/dev/null 2>&1 &
    pids+=($!) what+=("claim $id")
  done
  # SIGKILL a random few, at a random moment while they run.
  sleep "0.0$((RANDOM % 10))"
  for k in $(shuf -i 0-15 -n $((RANDOM % 6))); do { kill -9 "${pids[$k]}"; } 2>/dev/null; done
  for k in "${!pids[@]}"; do
    { wait "${pids[$k]}"; } 2>/dev/null; rcs[$k]=$?
  done
  # What must hold now.
  run state show --state "$st" --json "$TMP/host.json" --format json
  if [ "$rc" -ne 0 ]; then not_ok "round $r: the state does not check out on its host"; continue; fi
  cp "$TMP/out" "$TMP/now.json"
  lost=() kept=() killed=0
  for k in "${!pids[@]}"; do
    read -r verb id <<<"${what[$k]}"
    case ${rcs[$k]} in 137) killed=$((killed + 1)); continue ;; esac
    if [ "$verb" = claim ] && [ "${rcs[$k]}" -eq 0 ]; then echo "$id" >>"$held"; fi
    if [ "$verb" = release ] && [ "${rcs[$k]}" -eq 0 ]; then grep -vxF "$id" "$held" >"$held.new"; mv "$held.new" "$held"; fi
  done
  # A killed release may or may not have happened: what the file says wins for those.
  for k in "${!pids[@]}"; do
    read -r verb id <<<"${what[$k]}"
    if [ "$verb" = release ] && [ "${rcs[$k]}" -eq 137 ] &&
       ! python3 -c "import json,sys; sys.exit(0 if sys.argv[2] in json.load(open(sys.argv[1]))['claims'] else 1)" "$TMP/now.json" "$id"; then
      grep -vxF "$id" "$held" >"$held.new"; mv "$held.new" "$held"
    fi
  done
  if python3 - "$TMP/now.json" "$held" "${rel[@]}" <<'PY'
import json, sys
claims = json.load(open(sys.argv[1]))["claims"]
held = [l.strip() for l in open(sys.argv[2]) if l.strip()]
missing = [h for h in held if h not in claims]
pins = [p for c in claims.values() for cell in c["cells"] for v, p in cell["pins"]]
if missing or len(pins) != len(set(pins)):
    print("missing:", missing, "pins twice:", len(pins) - len(set(pins)))
    sys.exit(1)
PY
  then ok "round $r: $(wc -l <"$held") claims held, none lost, no CPU twice ($killed killed)"
  else not_ok "round $r: a claim was lost or a CPU promised twice"; fi
done
# Stray temporary files of killed commits are removed by the next writer.
"$NUMAPLACE" claim --state "$st" --id final --json "$TMP/host.json" --flavor 'vcpus=1,ram=64' >/dev/null 2>&1
if ls "$TMP" | grep -q 'state.json.tmp-'; then not_ok "temporary files left after a writer"; else ok "no temporary files left"; fi
finish
