#!/usr/bin/env bash
# tests/cli/systemd-unit.sh - contrib/systemd/numaplace-balance.service and
# numaplace-watch.service: meson install puts them in
# PREFIX/lib/systemd/system, naming the installed tool; they carry the
# hardening their comments promise; the command line each starts is one
# the tool accepts (run once: --once for --interval, the test driver for
# qemu:///system, private run directory and state); and systemd's own
# checker accepts them with no remark (`systemd-analyze verify`, skipped
# where there is no systemd-analyze).
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

# meson install puts the units in PREFIX/lib/systemd/system, naming the installed tool.
if meson install -C "$NP_BUILD" --destdir "$TMP/dest" --no-rebuild --quiet >"$TMP/install.log" 2>&1; then
  for u in numaplace-balance.service numaplace-watch.service; do
    [ "$u" = numaplace-watch.service ] && ! have libvirt && continue
    f=$(find "$TMP/dest" -path "*/lib/systemd/system/$u" -type f | head -n 1)
    exe=$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "${f:-/dev/null}")
    if [ -n "$f" ] && [ -x "$TMP/dest$exe" ]; then ok "installed $u, starting the installed $exe"
    else not_ok "installed $u (${f:-none}) starting the installed tool (${exe:-none})"; fi
  done
else
  not_ok "meson install --destdir: $(tail -n 3 "$TMP/install.log")"
fi

# The tool accepts that command line (one round instead of every 15 s).
args=${exec_line#* balance }
args=${args/--interval 15/--once}
args=${args/\$NUMAPLACE_BALANCE_OPTS/}
mkdir -m 0755 "$TMP/run"
# shellcheck disable=SC2086  # the unit's words, split as systemd splits them
run balance $args --run-dir "$TMP/run"; expect_rc 0 "the unit's command line runs ($args)"
if tail -n1 "$TMP/out" | grep -q '"action":"summary"'; then ok "it logs a summary record"; else not_ok "it logs a summary record"; fi

# The watcher's unit: hardened without any capability; its command line
# runs (once, on the test driver, with a state file of its own).
wunit="$NP_BUILD/contrib/numaplace-watch.service"
if have libvirt; then
  for want in 'CapabilityBoundingSet=' 'NoNewPrivileges=yes' 'ProtectSystem=strict' \
              'StateDirectory=numaplace' 'RuntimeDirectoryPreserve=yes'; do
    if grep -qx -- "$want" "$wunit"; then ok "watch unit has $want"; else not_ok "watch unit has $want"; fi
  done
  wexec=$(sed -n 's/^ExecStart=//p' "$wunit")
  wargs=${wexec#* watch }
  wargs=${wargs/qemu:\/\/\/system/test:\/\/\/default}
  wargs=${wargs/\/var\/lib\/numaplace\/host.json/$TMP\/host.json}
  wargs=${wargs/\$NUMAPLACE_WATCH_OPTS/}
  # shellcheck disable=SC2086
  run watch $wargs --once --run-dir "$TMP/run"; expect_rc 0 "the watch unit's command line runs ($wargs --once)"
  if grep -q '"event":"placed"' "$TMP/out"; then ok "it placed the running domain"; else not_ok "it placed the running domain"; fi
fi

if ! command -v systemd-analyze >/dev/null; then
  echo "skipped: systemd-analyze verify (no systemd-analyze here)"
  finish
fi
# verify wants the ExecStart binary to exist: copies of the units naming the built tool.
mkdir -p "$TMP/units"
for u in numaplace-balance.service numaplace-watch.service; do
  sed "s#^ExecStart=[^ ]*#ExecStart=$NUMAPLACE#" "$NP_BUILD/contrib/$u" >"$TMP/units/$u"
  if systemd-analyze verify --man=no "$TMP/units/$u" >"$TMP/out" 2>"$TMP/err"; then
    ok "systemd-analyze verify accepts $u"
  else
    not_ok "systemd-analyze verify $u: $(head -c 400 "$TMP/err")"
  fi
  # Anything it says about the unit (unknown keys, bad values) is a failure too.
  if grep -q "$u:" "$TMP/err"; then
    not_ok "systemd-analyze has remarks on $u: $(grep "$u:" "$TMP/err" | head -3)"
  else
    ok "no remarks on $u"
  fi
done
finish
