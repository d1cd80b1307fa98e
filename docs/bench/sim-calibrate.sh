#!/usr/bin/env bash
# docs/bench/sim-calibrate.sh - how the simulator's workload presets were
# calibrated against the LPC 2012 testbed (docs/sim.md, "Calibration").
#
#   sim-calibrate.sh NUMAPLACE EXPERIMENT WORKLOAD "M1 M2 ..." "BW1 BW2 ..." [SECONDS]
#
# For every memory_intensity M and bandwidth_mb_s BW of WORKLOAD it runs
# EXPERIMENT (lpc2012 or lpc2012-sysbench) with all-cpus and auto-pinning
# at the guest counts that have a published gain, one repetition of
# SECONDS (default 20) simulated seconds, and prints the simulated gains
# next to the published ones and the root-mean-square difference in
# percentage points, best first.  $EXTRA is passed on (e.g.
# EXTRA="--set model.contention_coeff=0.25").  Needs jq.
set -euo pipefail
np=$1 exp=$2 wl=$3 ms=$4 bws=$5 secs=${6:-20}
printf '%-6s %-7s %8s %8s %8s %8s\n' m bw_mb_s g2 g6 g10 rms_pp
for m in $ms; do
  for bw in $bws; do
    "$np" simulate "$exp" --format json --set duration_s="$secs" --set repetitions=1 \
      --set guest_counts=2,6,10 --set configs=all-cpus,auto-pinning ${EXTRA:-} \
      --set "workloads.$wl.memory_intensity=$m" --set "workloads.$wl.bandwidth_mb_s=$bw" |
    jq -r --arg m "$m" --arg bw "$bw" '
      [.gains[] | select(.published != null)] as $g
      | ($g | map(.difference * .difference) | add / length | sqrt * 100) as $rms
      | [$m, $bw, ($g[] | .gain * 1000 | round / 10 | tostring), ($rms * 100 | round / 100 | tostring)]
      | @tsv'
  done
done | sort -t$'\t' -k6 -g | awk -F'\t' '{ printf "%-6s %-7s %8s %8s %8s %8s\n", $1, $2, $3, $4, $5, $6 }'
