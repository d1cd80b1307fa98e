#!/usr/bin/env bash
# tests/fleet/concurrency.sh KIND - 16 client processes scheduling and
# releasing at once (`numaplace schedule` and `fleet release`, thousands in
# all) on one store, KIND sqlite or postgresql; with PostgreSQL also 3
# long-lived scheduler processes (fleet-stress, a replica each).  Then
# every placement whose command exited 0 is present, every release that
# exited 0 is gone, and `fleet check` finds no over-commit.
#   concurrency.sh KIND PATH-TO-fleet-stress [SCHEDULES-PER-CLIENT, default 100]
. "$(dirname "$0")/lib.sh"
kind=$1 stress=$2 ops=${3:-100}
fleet_store "$kind"
"$stress" add "$STORE" 12 || { not_ok "adding hosts"; finish; }

flavors=('vcpus=2,ram=2048' 'vcpus=4,ram=8192,hw:cpu_policy=dedicated'
  'vcpus=8,ram=16384,hw:numa_nodes=2,hw:cpu_policy=dedicated' 'vcpus=4,ram=4096,hw:numa_nodes=2'
  'vcpus=2,ram=1024,hw:mem_page_size=2048' 'vcpus=16,ram=32768,hw:cpu_policy=dedicated'
  'vcpus=4,ram=8192,hw:cpu_policy=dedicated,hw:cpu_thread_policy=isolate')

client() {
  local k=$1 log="$TMP/client-$1.log" i j rc id ids=() f
  RANDOM=$k
  for ((i = 0; i < ops; i++)); do
    id="c$k-$i"; f=${flavors[RANDOM % ${#flavors[@]}]}
    "$NUMAPLACE" schedule --store "$STORE" --id "$id" --flavor "$f" --format json \
      >/dev/null 2>"$TMP/client-$k.err"; rc=$?
    case $rc in
      0) echo "+$id" >>"$log"; ids+=("$id") ;;
      1) echo "nofit" >>"$TMP/client-$k.stat" ;;
      *) echo "client $k: $id: exit $rc: $(cat "$TMP/client-$k.err")" >>"$TMP/errors" ;;
    esac
    if [ ${#ids[@]} -gt 0 ] && [ $((RANDOM % 3)) -eq 0 ]; then
      j=$((RANDOM % ${#ids[@]}))
      echo "?${ids[j]}" >>"$log"
      if "$NUMAPLACE" fleet release --store "$STORE" --id "${ids[j]}" >/dev/null 2>&1; then
        echo "-${ids[j]}" >>"$log"
      else
        echo "client $k: release ${ids[j]} failed" >>"$TMP/errors"
      fi
      ids=("${ids[@]:0:j}" "${ids[@]:j+1}")
    fi
  done
}

start=$(date +%s)
pids=()
for k in $(seq 1 16); do client "$k" & pids+=($!); done
if [ "$kind" = postgresql ]; then
  for s in 1 2 3; do
    "$stress" run "$STORE" "$s" $((ops * 5)) "$TMP/replica-$s.log" 30 >"$TMP/replica-$s.out" 2>&1 &
    pids+=($!)
  done
fi
fails=0
for p in "${pids[@]}"; do wait "$p" || fails=$((fails + 1)); done
echo "# $((16 * ops)) client schedules in $(( $(date +%s) - start )) s; $(cat "$TMP"/client-*.stat 2>/dev/null | wc -l) found no room"
cat "$TMP"/replica-*.out 2>/dev/null | sed 's/^/# replica: /'
if [ -s "$TMP/errors" ]; then not_ok "commands failed: $(head -c 400 "$TMP/errors")"; else ok "no command failed"; fi
if [ "$fails" -eq 0 ]; then ok "every process finished cleanly"; else not_ok "$fails processes failed"; fi
placed=$(cat "$TMP"/*.log | grep -c '^+')
if [ "$placed" -gt $((4 * ops)) ]; then ok "$placed placements made"; else not_ok "only $placed placements made"; fi
fleet_verify 0 "$TMP"/*.log
finish
