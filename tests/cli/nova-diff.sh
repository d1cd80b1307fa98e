#!/usr/bin/env bash
# tests/cli/nova-diff.sh - the differential test against Nova's real code:
# seeded random cases through nova_fit.py (one process) and through
# `numaplace place --case --validate`; every plan valid, validity and
# fit/no-fit agree except where Nova's answer is unsound, and there
# numaplace matches the cache-free oracle (tests/nova/diff.py).
#
# NP_DIFF_COUNT cases per seed (default 250, about 30 s on 2 shared cores;
# thousands by hand: NP_DIFF_COUNT=2000 NP_DIFF_SEEDS="1 2 3"),
# NP_DIFF_SEEDS seeds (default "1").  Skips (77) without python3-nova.
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || { echo "skip: no python3"; exit 77; }
rc=0
for seed in ${NP_DIFF_SEEDS:-1}; do
  python3 "$NP_SRC/tests/nova/diff.py" --numaplace "$NUMAPLACE" --seed "$seed" \
    --count "${NP_DIFF_COUNT:-250}" --keep "${NP_DIFF_KEEP:-${NP_BUILD:-$TMP}/nova-diff-failed}"
  r=$?
  [ $r -eq 77 ] && exit 77
  [ $r -ne 0 ] && rc=1
done
exit $rc
