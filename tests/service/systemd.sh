#!/usr/bin/env bash
# tests/service/systemd.sh - contrib/systemd/numaplace-serve.service: it
# keeps the hardening it promises (its own user, a read-only system, no new
# privileges, a state directory, the token as a credential), systemd reads
# it without a complaint, and its command line is one `numaplace serve`
# accepts (run with the unit's own arguments, a real store and token).
. "$(dirname "$0")/lib.sh"
unit=$NP_SRC/contrib/systemd/numaplace-serve.service
for key in 'DynamicUser=yes' 'NoNewPrivileges=yes' 'ProtectSystem=strict' 'ProtectHome=yes' \
  'PrivateTmp=yes' 'StateDirectory=numaplace' 'LoadCredential=token:' 'CapabilityBoundingSet=$' \
  'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6' 'ExecReload=/bin/kill -HUP'; do
  grep -q "^$key" "$unit" && ok "the unit says $key" || not_ok "the unit lacks $key"
done
if command -v systemd-analyze >/dev/null; then
  sed -e "s|/usr/local/bin/numaplace|$NUMAPLACE|" -e '/^Documentation=/d' "$unit" \
    >"$TMP/numaplace-serve.service"
  if out=$(systemd-analyze verify "$TMP/numaplace-serve.service" 2>&1) && [ -z "$out" ]; then
    ok "systemd-analyze verify finds nothing"
  else
    not_ok "systemd-analyze verify: $out"
  fi
else
  echo "# no systemd-analyze here: not verified by systemd"
fi
# The unit's ExecStart, with its directories made here: it must serve.
mkdir -p "$TMP/state" "$TMP/creds"
printf 'unit-test-token-0123456789\n' >"$TMP/creds/token"; chmod 600 "$TMP/creds/token"
cmd=$(sed -n '/^ExecStart=/,/[^\\]$/p' "$unit" | sed -e 's/^ExecStart=//' -e 's/\\$//' | tr -d '\n')
cmd=${cmd//\$\{STATE_DIRECTORY\}/$TMP/state}
cmd=${cmd//\$\{CREDENTIALS_DIRECTORY\}/$TMP/creds}
cmd=${cmd//127.0.0.1:8774/127.0.0.1:0}
read -r -a argv <<<"$cmd"
[ "${argv[1]}" = serve ] || not_ok "ExecStart is not numaplace serve: $cmd"
svc_start unit "${argv[@]:2}" && ok "the unit's command line serves" || not_ok "the unit's command line: $cmd"
SVC=http://$(svc_addr unit) SVC_TOKEN=unit-test-token-0123456789
http GET /v1/health; expect_status 200 "... and answers with the token"
svc_stop unit; [ "$svc_rc" = 0 ] && ok "SIGTERM (KillSignal): exit 0" || not_ok "exit $svc_rc"
finish
