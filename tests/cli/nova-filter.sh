#!/usr/bin/env bash
# tests/cli/nova-filter.sh - contrib/nova's NumaplaceFilter through Nova's
# real filter handler against a real `numaplace serve` on a unix socket,
# side by side with Nova's NUMATopologyFilter (tests/nova/filter_test.py).
# Skips (77) without the service feature or without python3-nova.
. "$(dirname "$0")/lib.sh"
need service
[ -x /usr/bin/python3 ] || { echo "skip: no /usr/bin/python3"; exit 77; }
/usr/bin/python3 "$NP_SRC/tests/nova/filter_test.py" --numaplace "$NUMAPLACE"
