#!/usr/bin/env bash
# tests/fleet/kill.sh KIND - scheduler processes killed with SIGKILL at
# random moments, 50 times, while another keeps scheduling and releasing
# on the same store (KIND sqlite or postgresql): nothing committed is lost
# (every placement a scheduler logged after its commit is there, every
# logged release is gone), nothing is half-written (`fleet check`: usage is
# the sum of the placements, no over-commit), and at most one placement per
# kill is there that no log knows (killed between commit and log line).
#   kill.sh KIND PATH-TO-fleet-stress    (FLEET_KILLS: how many, 50)
. "$(dirname "$0")/lib.sh"
kind=$1 stress=$2 kills=${FLEET_KILLS:-50}
fleet_store "$kind"
"$stress" add "$STORE" 16 || { not_ok "adding hosts"; finish; }

"$stress" run "$STORE" 1000 1000000 "$TMP/steady.log" 40 >"$TMP/steady.out" 2>&1 &
steady=$!
RANDOM=7
killed=0
for ((k = 1; k <= kills; k++)); do
  "$stress" run "$STORE" "$k" 1000000 "$TMP/killed-$k.log" 35 >/dev/null 2>"$TMP/killed-$k.err" &
  pid=$!
  sleep "0.$(printf '%03d' $((RANDOM % 300 + 20)))"
  if kill -9 "$pid" 2>/dev/null; then killed=$((killed + 1)); fi
  wait "$pid" 2>/dev/null
done
kill -9 "$steady" 2>/dev/null; killed=$((killed + 1))
wait "$steady" 2>/dev/null
[ "$killed" -ge "$kills" ] && ok "$killed schedulers killed with SIGKILL" || not_ok "only $killed kills landed"
errs=$(cat "$TMP"/killed-*.err "$TMP/steady.out" | grep -v '^$' | head -c 300)
[ -z "$errs" ] && ok "no scheduler reported an error before its kill" || not_ok "errors: $errs"
logged=$(cat "$TMP"/*.log | grep -c '^+')
[ "$logged" -gt "$kills" ] && ok "$logged placements logged" || not_ok "only $logged placements logged"
fleet_verify "$killed" "$TMP"/*.log
finish
