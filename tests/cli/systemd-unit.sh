#!/usr/bin/env bash
# tests/cli/systemd-unit.sh - contrib/systemd/numaplace-balance.service:
# systemd's own checker accepts it (`systemd-analyze verify`, skipped where
# there is no systemd-analyze), it is hardened as its comments say
# (systemd-analyze security, where it runs), and the command line it starts
# is one the tool accepts (run once, with --once for --interval, on a
# private run directory).
. "$(dirname "$0")/lib.sh"

need runtime
need hwloc  # balance reads this machine's topology
unit="$NP_BUILD/contrib/numaplace-balance.service"
[ -f "$unit" ] || { echo "not ok - $unit was not configured"; exit 1; }

# The hardening the unit's comments promise.
for want in 'CapabilityBoundingSet=CAP_SYS_NICE CAP_SYS_PTRACE' 'NoNewPrivileges=yes' \
            'ProtectSystem=strict' 'ReadWritePaths=/run/numaplace' 'RuntimeDirectoryPreserve=yes'; do
  if grep -qx -- "$want" "$unit"; then ok "unit has $want"; else not_ok "unit has $want"; fi
done
exec_line=$(sed -n 's/^ExecStart=//p' "$unit")
case $exec_line in
  /*numaplace\ balance\ *) ok "ExecStart starts numaplace balance by absolute path" ;;
  *) not_ok "ExecStart: '$exec_line'" ;;
esac

# The tool accepts that command line (one round instead of every 15 s).
args=${exec_line#* balance }
args=${args/--interval 15/--once}
args=${args/\$NUMAPLACE_BALANCE_OPTS/}
mkdir -m 0755 "$TMP/run"
# shellcheck disable=SC2086  # the unit's words, split as systemd splits them
run balance $args --run-dir "$TMP/run"; expect_rc 0 "the unit's command line runs ($args)"
if tail -n1 "$TMP/out" | grep -q '"action":"summary"'; then ok "it logs a summary record"; else not_ok "it logs a summary record"; fi

if ! command -v systemd-analyze >/dev/null; then
  echo "skipped: systemd-analyze verify (no systemd-analyze here)"
  finish
fi
# verify wants the ExecStart binary to exist: a copy of the unit naming the built tool.
mkdir -p "$TMP/units"
sed "s#^ExecStart=[^ ]*#ExecStart=$NUMAPLACE#" "$unit" >"$TMP/units/numaplace-balance.service"
if systemd-analyze verify --man=no "$TMP/units/numaplace-balance.service" >"$TMP/out" 2>"$TMP/err"; then
  ok "systemd-analyze verify accepts the unit"
else
  not_ok "systemd-analyze verify: $(head -c 400 "$TMP/err")"
fi
# Anything it says about the unit (unknown keys, bad values) is a failure too.
if grep -q "numaplace-balance.service:" "$TMP/err"; then
  not_ok "systemd-analyze has remarks: $(grep 'numaplace-balance.service:' "$TMP/err" | head -3)"
else
  ok "no remarks on the unit"
fi
finish
