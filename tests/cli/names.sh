#!/usr/bin/env bash
# tests/cli/names.sh - host names and placement ids at the edges: a name
# /v1/hosts/{name} could not address (".", "..", a '/', white space at an
# end) is refused by every verb that takes one - fleet add, schedule --id,
# agent --name - with exit 2 and one line that says why; hostnames, UUIDs,
# inner spaces and UTF-8 stay good.  And a store edited by hand (a name
# holding an escape sequence, which no verb would write) is shown with its
# control bytes as \xNN by fleet list, fleet show and schedule, in JSON
# with \u escapes: it never reaches the terminal as itself.  A store
# written before the URL part of the rule (a host "a/b", a placement
# " p") can still be cleaned up by name: fleet remove and fleet release
# take the names a store may hold; a C1 control (U+0085, U+009B) is a
# control character in every rule.
. "$(dirname "$0")/lib.sh"
need sqlite

host="$NP_SRC/tests/data/json/full.json"
db="$TMP/names.db"
store=(--store "sqlite:$db")

# ---- names a URL cannot address ----
for n in . .. / a/b ' a' 'a ' ' ' $'\u00a0a' $'a\u3000' $'a\u0085b' $'\u009b31m'; do
  run fleet add "${store[@]}" --name "$n" --json "$host"
  expect_rc 2 "fleet add --name '$n'"; expect_one_line_err "fleet add --name '$n'"
  expect_err "^numaplace: the host name ('.*' (is a dot segment|has a '/'|begins or ends with white space)|has a control character)" \
    "fleet add --name '$n': says why"
  run schedule "${store[@]}" --id "$n" --flavor vcpus=1,ram=64
  expect_rc 2 "schedule --id '$n'"; expect_err "the placement id" "schedule --id '$n': names it"
done
if have agent; then
  run agent --server "unix:$TMP/none.sock" --once --name .. --json "$host"
  expect_rc 2 "agent --name .."; expect_err "the host name '\.\.' is a dot segment" "agent --name ..: says why"
fi
run fleet list "${store[@]}" --format json
json_ok "d['hosts'] == []" "no refused name reached the store"

# ---- names that stay good ----
good=(h1 ... a.b 'a b' 9f0c2a4e-3b1d-4c5e-8f6a-1b2c3d4e5f60 hôte-1.example.com)
for n in "${good[@]}"; do
  run fleet add "${store[@]}" --name "$n" --json "$host"; expect_rc 0 "fleet add --name '$n'"
done
run schedule "${store[@]}" --id '... vm 1' --flavor vcpus=1,ram=64 --format json
expect_rc 0 "schedule --id '... vm 1'"
run fleet list "${store[@]}" --format json
json_ok "sorted(h['name'] for h in d['hosts']) == sorted('''$(printf '%s\n' "${good[@]}")'''.split('\n'))" \
  "fleet list names every good host as given"
run fleet remove "${store[@]}" --name 'a b' --force; expect_rc 0 "fleet remove --name 'a b'"

# ---- names an older numaplace wrote: removed and released by name ----
db="$TMP/older.db"
store=(--store "sqlite:$db")
run fleet add "${store[@]}" --name h1 --json "$host"; expect_rc 0 "fleet add h1 (older store)"
run fleet add "${store[@]}" --name h2 --json "$host"; expect_rc 0 "fleet add h2 (older store)"
run schedule "${store[@]}" --id p1 --name h1 --flavor vcpus=1,ram=64; expect_rc 0 "schedule p1 on h1"
run schedule "${store[@]}" --id p2 --name h2 --flavor vcpus=1,ram=64; expect_rc 0 "schedule p2 on h2"
python3 - "$db" <<'EOF2'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("PRAGMA foreign_keys = OFF")
db.execute("UPDATE np_hosts SET name = 'rack/1' WHERE name = 'h1'")
for t, col in (("np_pins", "placement_id"), ("np_placements", "id")):
    db.execute("UPDATE %s SET %s = ' p2' WHERE %s = 'p2'" % (t, col, col))
db.commit()
EOF2
run fleet release "${store[@]}" --id ' p2'; expect_rc 0 "fleet release --id ' p2' (an older id)"
expect_out "^released ' p2'" "fleet release: the older id was found"
run fleet remove "${store[@]}" --name rack/1 --force; expect_rc 0 "fleet remove --name rack/1 (an older name)"
expect_out "removed host 'rack/1' and released its 1 placement" "fleet remove: the older host and its placement"
run fleet list "${store[@]}" --format json
json_ok "sorted(h['name'] for h in d['hosts']) == ['h2'] and all(h['placements'] == 0 for h in d['hosts'])" \
  "only h2 is left, with nothing on it"
run fleet check "${store[@]}"; expect_rc 0 "fleet check after the clean-up"
run fleet remove "${store[@]}" --name $'h\u009b2'; expect_rc 2 "fleet remove: a C1 control is refused"
expect_err "the host name has a control character" "fleet remove: says why"

# ---- a store edited by hand (one host, so schedule has one choice) ----
db="$TMP/edited.db"
store=(--store "sqlite:$db")
run fleet add "${store[@]}" --name h1 --json "$host"; expect_rc 0 "fleet add h1"
run schedule "${store[@]}" --id p1 --flavor vcpus=1,ram=64 --format json
expect_rc 0 "schedule p1"
python3 - "$db" <<'EOF'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("UPDATE np_hosts SET name = 'evil' || char(27) || '[31mred' || char(10) || 'x' WHERE name = 'h1'")
db.execute("PRAGMA foreign_keys = OFF")
for t, col in (("np_pins", "placement_id"), ("np_placements", "id")):
    db.execute("UPDATE %s SET %s = 'p' || char(27) || ']0;title' || char(7) WHERE %s = 'p1'" % (t, col, col))
db.commit()
EOF
no_escape() {
  if grep -q $'[\x01-\x08\x0b-\x1f\x7f]' "$TMP/out"; then not_ok "$1: a control byte reached stdout"
  elif grep -qF "$2" "$TMP/out"; then ok "$1: shown as $2"
  else not_ok "$1: stdout lacks $2"; fi
}
run fleet list "${store[@]}"; expect_rc 0 "fleet list of the edited store"
no_escape "fleet list" 'evil\x1b[31mred\x0ax'
run fleet show "${store[@]}"; expect_rc 0 "fleet show of the edited store"
no_escape "fleet show: the host" 'evil\x1b[31mred\x0ax'
no_escape "fleet show: the placement" 'p\x1b]0;title\x07'
run fleet list "${store[@]}" --format json
json_ok "any(h['name'] == 'evil\x1b[31mred\nx' for h in d['hosts'])" "fleet list --format json: the name, JSON-escaped"
no_escape "fleet list --format json" 'evil\u001b[31mred'
run fleet show "${store[@]}" --format json
json_ok "any(p['id'] == 'p\x1b]0;title\x07' for h in d['hosts'] for p in h['placements'])" \
  "fleet show --format json: the placement id, JSON-escaped"
run schedule "${store[@]}" --id p2 --flavor vcpus=1,ram=64
expect_rc 0 "schedule p2 onto that host"
no_escape "schedule's text answer" 'evil\x1b[31mred\x0ax'
finish
