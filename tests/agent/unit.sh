#!/usr/bin/env bash
# tests/agent/unit.sh - contrib/systemd/numaplace-agent.service is a unit
# systemd accepts (systemd-analyze verify, its ExecStart pointed at the
# built tool), keeps its hardening, says why it runs as root, and the
# command line it runs is one `numaplace agent` takes.
. "$(dirname "$0")/../cli/lib.sh"
need agent
unit=$NP_SRC/contrib/systemd/numaplace-agent.service
for line in 'ProtectSystem=strict' 'NoNewPrivileges=yes' 'User=root' 'ProtectHome=yes' \
  'CapabilityBoundingSet=CAP_SYS_PTRACE CAP_DAC_READ_SEARCH' 'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6'; do
  if grep -qx "$line" "$unit"; then ok "the unit has $line"; else not_ok "the unit lacks $line"; fi
done
if grep -q '^# It runs as root, on purpose: it reads /proc/PID/numa_maps' "$unit"; then
  ok "it says why it runs as root"; else not_ok "no comment on why it runs as root"; fi
if command -v systemd-analyze >/dev/null; then
  sed -e "s|/usr/local/bin/numaplace|$NUMAPLACE|" -e '/^Documentation=/d' "$unit" >"$TMP/numaplace-agent.service"
  if (cd "$TMP" && SYSTEMD_LOG_LEVEL=warning systemd-analyze verify "$TMP/numaplace-agent.service") >"$TMP/out" 2>"$TMP/err"
  then ok "systemd-analyze verify accepts it"; else rc=$?; not_ok "systemd-analyze verify"; fi
else
  echo "# systemd-analyze not installed: the unit is not verified here"
fi
# Its command line (the Environment= defaults expanded) parses: --help after it answers.
cmd=$(sed -n 's/^ExecStart=[^ ]* //p' "$unit" | sed -e 's|${NUMAPLACE_SERVER}|unix:/run/numaplace/api.sock|' -e 's|$NUMAPLACE_AGENT_ARGS||')
# shellcheck disable=SC2086 # the unit's words, split as systemd splits them
run $cmd --help
expect_rc 0 "the unit's command line is one numaplace agent takes ($cmd)"
finish
