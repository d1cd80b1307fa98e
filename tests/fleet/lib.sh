# tests/fleet/lib.sh - sourced by the fleet's concurrency and kill tests:
# a store of either kind, and the proof that the store kept every promise.
#
#   fleet_store KIND       sqlite or postgresql: sets STORE (a fresh store)
#   fleet_verify MAXEXTRA LOG...
#       reads the logs ("+ID" placed, "?ID" release asked, "-ID" released;
#       tests/fleet/fleet-stress.c) and the store's placements: every ID
#       placed and not released is there, no released ID is, and at most
#       MAXEXTRA placements are there that no log knows (commands killed
#       between the commit and the log line); then `fleet check`.
. "$(dirname "${BASH_SOURCE[0]}")/../cli/lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/../lib/pg.sh"

fleet_store() {
  if [ "$1" = postgresql ]; then
    pg_start
    STORE=$(pg_createdb fleet) || exit 99
  else
    STORE="sqlite:$TMP/fleet.db"
  fi
}

fleet_verify() {
  local maxextra=$1; shift
  if ! "$NUMAPLACE" fleet show --store "$STORE" --format json >"$TMP/show.json" 2>"$TMP/err"; then
    not_ok "fleet show: $(cat "$TMP/err")"; return
  fi
  if python3 - "$TMP/show.json" "$maxextra" "$@" <<'EOF'
import json, sys
show = json.load(open(sys.argv[1]))
maxextra = int(sys.argv[2])
present = {p["id"] for h in show["hosts"] for p in h["placements"]}
live, doubt, gone = set(), set(), set()
for log in sys.argv[3:]:
    for line in open(log):
        tag, pid = line[0], line[1:].rstrip("\n")
        if tag == "+":
            live.add(pid)
        elif tag == "?":
            doubt.add(pid)
        elif tag == "-":
            live.discard(pid); doubt.discard(pid); gone.add(pid)
lost = sorted(i for i in live if i not in present and i not in doubt)
back = sorted(i for i in gone if i in present)
extra = sorted(i for i in present if i not in live and i not in doubt)
print("# %d placements kept, %d released, %d in doubt, %d present that no log knows; "
      "lost %s, released but present %s" % (len(live), len(gone), len(doubt), len(extra),
                                             lost[:5], back[:5]))
sys.exit(1 if lost or back or len(extra) > maxextra else 0)
EOF
  then ok "nothing committed was lost, nothing released came back"
  else not_ok "the store and the logs disagree"; fi
  run fleet check --store "$STORE"
  expect_rc 0 "fleet check: no over-commit, usage is the sum of the placements"
}
