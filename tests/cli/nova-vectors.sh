#!/usr/bin/env bash
# tests/cli/nova-vectors.sh - every vector of shared/nova/vectors.json
# through `numaplace place --case --validate`, compared with what Nova
# answers (validity via docs/policies/nova-errors.md, guest cells, fits);
# see tests/nova/vectors.py.  Needs only python3, not Nova.
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || { echo "skip: no python3"; exit 77; }
python3 "$NP_SRC/tests/nova/vectors.py" --numaplace "$NUMAPLACE"
