#!/usr/bin/env bash
# tests/fleet/cli.sh - `numaplace fleet` and `numaplace schedule` on a real
# store: cli.sh sqlite (a file in a temporary folder) or cli.sh postgresql
# (a server started by tests/lib/pg.sh).  The examples of the help texts,
# every action in text and JSON, idempotent and conflicting ids, nothing
# fits with the reasons counted per host, and bad input of every kind:
# exit 2 (or 1) and one line, the store unchanged.
. "$(dirname "$0")/../cli/lib.sh"
. "$(dirname "$0")/../lib/pg.sh"
kind=${1:-sqlite}
cd "$TMP" || exit 99

if [ "$kind" = postgresql ]; then
  pg_start
  store=$(pg_createdb fleet) || exit 99
else
  store="sqlite:$TMP/fleet.db"
fi

json_ok() {
  if python3 -c "import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if ($1) else 1)" \
      "$TMP/out" 2>/dev/null; then ok "$2"; else not_ok "$2: ($1) is false"; fi
}

# host NODES CORES MiB: a topology file of NODES nodes of CORES CPUs and MiB each.
host() {
  python3 - "$@" <<'EOF'
import json, sys
n, c, mem = (int(x) for x in sys.argv[1:4])
print(json.dumps({"schema": "numaplace.topology/1", "distances_source": "firmware",
  "nodes": [{"id": i, "cpus": list(range(c * i, c * i + c)), "memory_mb": {"total": mem},
             "distances": [10 if i == j else 21 for j in range(n)]} for i in range(n)],
  "cpus": [{"id": x, "node": x // c, "core": x, "socket": x // c} for x in range(n * c)]}))
EOF
}
host 4 4 8192 >host.json
host 2 2 4096 >small.json

# The state of the store, to prove a refused command changed nothing.
snapshot() { "$NUMAPLACE" fleet show --store "$store" --format json >"$TMP/$1" 2>&1; }
unchanged() {
  snapshot after.json
  if cmp -s "$TMP/$1" "$TMP/after.json"; then ok "$2: store unchanged"; else not_ok "$2: store changed"; fi
}

# ---- usage ------------------------------------------------------------------
run fleet --help;                 expect_rc 0 "fleet --help"; expect_out "^usage: numaplace fleet add" "usage"
run schedule --help;              expect_rc 0 "schedule --help"; expect_out "^usage: numaplace schedule" "usage"
run help fleet;                   expect_rc 0 "help fleet"
run fleet;                        expect_rc 2 "fleet without an action"; expect_one_line_err "no action"
run fleet frobnicate --store "$store"; expect_rc 2 "unknown action"; expect_err "unknown fleet action 'frobnicate'" "names it"
run fleet list;                   expect_rc 2 "no store"; expect_err "--store URL" "says how"
run fleet list --store "$store" --id x; expect_rc 2 "an option the action does not take"; expect_err "takes no --id" "says which"
run fleet add --store "$store" --name h; expect_rc 2 "add without a topology"; expect_err "needs the host's topology" "says so"
run schedule --store "$store" --flavor vcpus=1,ram=512; expect_rc 2 "schedule without --id"
run schedule --store "$store" --id x --flavor vcpus=1,ram=512 --format svg; expect_rc 2 "unknown format"
run schedule --store "$store" --id x --flavor 'vcpus=3,ram=512,hw:numa_nodes=2'; expect_rc 2 "a flavor Nova refuses"
expect_one_line_err "bad flavor"

# ---- the examples of the help texts, as written ----------------------------------
NUMAPLACE_STORE=sqlite:fleet.db
[ "$kind" = postgresql ] && NUMAPLACE_STORE=$store
examples() { # the commands of VERB's help after "Example", one a line, continuations joined
  "$NUMAPLACE" "$1" --help | sed -n '/^Example/,$p' | sed 1d |
    awk '{ sub(/^ +/, ""); if (sub(/\\$/, "")) { acc = acc $0; next } print acc $0; acc = "" }' |
    sed -e "s|sqlite:fleet.db|'${NUMAPLACE_STORE//&/\\&}'|g" -e 's/^numaplace //'
}
mapfile -t fex < <(examples fleet)
sex=$(examples schedule)
[ "${#fex[@]}" -eq 5 ] && ok "fleet --help has 5 examples" || not_ok "fleet --help has 5 examples"
for ex in "${fex[@]:0:3}"; do
  eval "run $ex"; expect_rc 0 "example: numaplace $ex"
done
eval "run $sex"; expect_rc 0 "example: numaplace $sex"
json_ok "d['id'] == 'vm-7' and d['host'] == 'host-1' and d['plan']['fits'] and len(d['plan']['cells']) == 2" \
  "JSON has id, host and the plan"
for ex in "${fex[@]:3:2}"; do
  eval "run $ex"; expect_rc 0 "example: numaplace $ex"
done
expect_out "^ok: 1 hosts, 0 placements" "the last example checks an empty store"

# The README's fleet lines, as written, in a folder of their own.
if [ "$kind" = sqlite ]; then
  mkdir -p readme && cp host.json readme/
  n=0
  while read -r line; do
    n=$((n + 1))
    (cd readme && eval "\"\$NUMAPLACE\" ${line#build/cli/numaplace }") >"$TMP/out" 2>"$TMP/err"
    rc=$?; last_args="$line"
    expect_rc 0 "README: $line"
  done < <(grep -E '^build/cli/numaplace (fleet|schedule) ' "$NP_SRC/README.md")
  [ "$n" -ge 4 ] && ok "README has $n fleet lines" || not_ok "README has $n fleet lines"
fi

# ---- hosts --------------------------------------------------------------------
for h in 2 3; do
  run fleet add --store "$store" --name "host-$h" --json host.json --format json
  expect_rc 0 "add host-$h"; json_ok "d['added'] and d['nodes'] == 4" "added, 4 nodes"
done
run fleet add --store "$store" --name small --host small.json; expect_rc 0 "add a small host"
run fleet add --store "$store" --name host-2 --host host.json; expect_rc 0 "add again"; expect_out "nothing changed" "says so"
snapshot before.json
run fleet add --store "$store" --name host-2 --host small.json; expect_rc 2 "another topology under a used name"
expect_one_line_err "host exists"; unchanged before.json "host exists"
run fleet add --store "$store" --name bad --xl "$NP_SRC/tests/data/xl/bad-garbage.txt"; expect_rc 2 "a bad topology file"
expect_one_line_err "bad topology"; unchanged before.json "bad topology"
if [ "$kind" = sqlite ]; then
  run fleet add --store sqlite:never.db --name x --host missing.json; expect_rc 2 "a missing topology"
  if [ ! -e never.db ]; then ok "a bad topology creates no store"; else not_ok "a bad topology created never.db"; fi
fi
run fleet list --store "$store" --format json; expect_rc 0 "list json"
json_ok "[h['name'] for h in d['hosts']] == ['host-1', 'host-2', 'host-3', 'small']" "four hosts by name"
run fleet list --store "$store"; expect_out "^host-3 +4 +16 +32768" "list text"

# ---- schedule -------------------------------------------------------------------
flavor='vcpus=4,ram=4096,hw:cpu_policy=dedicated'
# (--name keeps the placements of this script off 'small', which it removes below.)
run schedule --store "$store" --id vm-1 --flavor "$flavor" --format json --name host-2
expect_rc 0 "schedule vm-1"; json_ok "d['host'] == 'host-2' and not d['existing']" "placed"
vm1_host=$(python3 -c "import json; print(json.load(open('$TMP/out'))['host'])")
run schedule --store "$store" --id vm-1 --flavor "$flavor" --format json
expect_rc 0 "the same id and request again (without --name)"; json_ok "d['existing'] and d['host'] == '$vm1_host'" "the same placement"
snapshot before.json
run schedule --store "$store" --id vm-1 --flavor 'vcpus=2,ram=2048'; expect_rc 2 "the same id, another request"
expect_err "placed already, with another request" "says so"; expect_one_line_err "conflict"; unchanged before.json "conflict"
run schedule --store "$store" --id vm-x --flavor vcpus=1,ram=512 --name nowhere; expect_rc 2 "an unknown host"
expect_one_line_err "unknown host"; unchanged before.json "unknown host"
run fleet show --store "$store" --name nowhere; expect_rc 2 "show an unknown host"
run fleet remove --store "$store" --name nowhere; expect_rc 2 "remove an unknown host"
# The answer cannot be written: the claim made for it is given back.  (The
# hosts' generations count the claim and its release: all else is as it was.)
released() {
  "$NUMAPLACE" fleet show --store "$store" --format json 2>&1 | sed 's/"generation": [0-9]*, //' >"$TMP/after.json"
  sed 's/"generation": [0-9]*, //' "$TMP/before.json" >"$TMP/before-g.json"
  if cmp -s "$TMP/before-g.json" "$TMP/after.json"; then ok "$1: the claim released"; else not_ok "$1: the claim stays"; fi
  "$NUMAPLACE" fleet check --store "$store" >/dev/null 2>&1 && ok "$1: fleet check" || not_ok "$1: fleet check fails"
}
run schedule --store "$store" --id vm-o --flavor vcpus=1,ram=512 -o "$TMP/no-such-dir/vm-o.txt"
expect_rc 1 "-o into a missing folder"; expect_one_line_err "-o into a missing folder"
released "-o into a missing folder"
run schedule --store "$store" --id vm-o --flavor vcpus=1,ram=512 --format json -o "$TMP"
expect_rc 1 "-o a folder"; expect_one_line_err "-o a folder"; released "-o a folder"
snapshot before.json
run schedule --store "$store" --id vm-1 --flavor "$flavor" -o "$TMP/no-such-dir/vm-1.txt"
expect_rc 1 "vm-1 again, -o into a missing folder"; unchanged before.json "the placement made before stays"
run schedule --store "$store" --id vm-dry --flavor vcpus=1,ram=512 --dry-run; expect_rc 0 "dry run"
expect_out "dry run: nothing claimed" "says so"; unchanged before.json "dry run"
run schedule --store "$store" --id vm-dry -n --flavor vcpus=1,ram=512; expect_rc 0 "-n, as apply and balance spell --dry-run"
expect_out "dry run: nothing claimed" "-n: says so"; unchanged before.json "-n"
run schedule --store "$store" --id vm-s --flavor vcpus=2,ram=2048 --name small --format xl
expect_rc 0 "--name small, xl"; expect_err "'vm-s' -> small" "the host on stderr"; expect_out "^cpus" "xl.cfg on stdout"
run schedule --store "$store" --id vm-e --flavor 'vcpus=2,ram=2048,hw:cpu_policy=dedicated' --explain --name host-3
expect_rc 0 "--explain"; expect_out "^fleet: 1 host, " "fleet stats"; expect_out "why not" "the plan's reasons"

# Nothing fits: one line, hosts counted per reason.
snapshot before.json
run schedule --store "$store" --id vm-big --flavor 'vcpus=2,ram=10240,hw:numa_nodes=1'
expect_rc 1 "nothing fits"; expect_one_line_err "no fit"
expect_err "no host fits 'vm-big' \(4 hosts\): 4 hosts: no node with 10 GiB free for guest cell 0" "reasons per host"
unchanged before.json "no fit"
run schedule --store "$store" --id vm-big --flavor 'vcpus=2,ram=10240,hw:numa_nodes=1' --format json
expect_rc 1 "nothing fits, json"; json_ok "d['host'] is None and d['reasons'][0]['hosts'] == 4" "reasons in JSON"
run schedule --store "$store" --id vm-p --flavor 'vcpus=32,ram=1024,hw:cpu_policy=dedicated'
expect_rc 1 "too many pinned vCPUs"; expect_err "free dedicated CPUs" "names the CPUs"

# show: per node used and free, every placement with its nodes, CPUs, memory.
run fleet show --store "$store" --name "$vm1_host"; expect_rc 0 "show"
expect_out "^  vm-1: node [0-9]+: 4096 MiB, pinned CPUs [0-9]+-[0-9]+" "vm-1 with its node, memory, CPUs"
expect_out "pinned CPUs 4 of 4" "a node's pinned CPUs used"
run fleet show --store "$store" --format json; expect_rc 0 "show json"
json_ok "sum(len(h['placements']) for h in d['hosts']) == 3" "three placements"
json_ok "[p for h in d['hosts'] for p in h['placements'] if p['id'] == 'vm-1'][0]['nodes'][0]['memory_mb'] == 4096" "vm-1's memory per node"

# ---- remove, release, check ----------------------------------------------------
run fleet remove --store "$store" --name small; expect_rc 2 "remove a host in use"; expect_err "release them, or --force" "says how"
run fleet remove --store "$store" --name small --force --format json; expect_rc 0 "remove --force"
json_ok "d['removed'] and d['released'] == 1" "released its placement"
run fleet release --store "$store" --id vm-1; expect_rc 0 "release"; expect_out "released 'vm-1'" "says so"
run fleet release --store "$store" --id vm-1; expect_rc 0 "release again"; expect_out "not placed" "says so"
run fleet check --store "$store" --format json; expect_rc 0 "check"; json_ok "d['ok'] and d['hosts'] == 3" "ok, 3 hosts"

# A host row deleted under a placement behind numaplace's back (PostgreSQL's
# schema 4 and later have no foreign key from placements to hosts): releasing the
# placement still works, and says so, instead of failing on the answer.
if [ "$kind" = postgresql ]; then
  run fleet add --store "$store" --name doomed --host host.json; expect_rc 0 "add a host to lose"
  run schedule --store "$store" --id vm-orphan --name doomed --flavor 'vcpus=2,ram=1024,hw:cpu_policy=dedicated'
  expect_rc 0 "schedule on it"
  pg_psql fleet "DELETE FROM np_hosts WHERE name = 'doomed'" >/dev/null
  run fleet release --store "$store" --id vm-orphan; expect_rc 0 "release on a host row gone"
  expect_out "released 'vm-orphan'" "says so"
  # Schema 5: its allocations and pins are in its row.
  n=$("$PG_BINDIR/psql" -X -qtA -h "$PG_DIR" -p "$PG_PORT" -U np -d fleet -c "SELECT count(*) FROM np_placements WHERE id = 'vm-orphan'")
  [ "$n" = 0 ] && ok "its row, with its pins and allocations, is gone" || not_ok "its row stays: $n"
fi

# Any topology source: a saved sysfs tree, xl info -n, libvirt capabilities.
if amd=$(fixture 64amd64-4s2n4ca2co); then
  run fleet add --store "$store" --name amd --sysfs "$amd"; expect_rc 0 "add from a sysfs tree"
  expect_out "8 nodes, 64 CPUs" "8 nodes"
  run schedule --store "$store" --id vm-amd --name amd --flavor 'vcpus=8,ram=8192,hw:numa_nodes=2,hw:cpu_policy=dedicated'
  expect_rc 0 "schedule on it"
fi
run fleet add --store "$store" --name xen --xl "$NP_SRC/tests/data/xl/kaindl-2node.txt"; expect_rc 0 "add from xl info -n"
run fleet add --store "$store" --name kvm --libvirt-xml "$NP_SRC/tests/data/libvirt/host-4cell.xml"
expect_rc 0 "add from libvirt capabilities"
run fleet check --store "$store"; expect_rc 0 "check with every kind of host"

# ---- bad stores ------------------------------------------------------------------
run fleet list --store fleet.db; expect_rc 2 "not a URL"; expect_one_line_err "not a URL"
run fleet list --store mysql://x/y; expect_rc 2 "unknown kind"; expect_err "unknown store kind 'mysql'" "names it"
run fleet list --store sqlite:/nonexistent/fleet.db; expect_rc 2 "a missing file"; expect_one_line_err "missing file"
echo "not a database at all, just some text that is long enough" >text.db
run fleet list --store sqlite:text.db; expect_rc 2 "not a database"; expect_one_line_err "not a database"
run fleet list --store "postgresql://np@/fleet?host=$TMP/nowhere&port=1"; expect_rc 2 "an unreachable database"
expect_one_line_err "unreachable"; expect_err "cannot connect" "says so"
ln -s "$TMP/fleet.db" link.db 2>/dev/null
if [ "$kind" = sqlite ]; then
  run fleet list --store sqlite:link.db; expect_rc 2 "a symlink is not followed"; expect_one_line_err "symlink"
fi
if [ "$kind" = postgresql ]; then
  run fleet list --store "postgresql:host=$PG_DIR port=$PG_PORT user=np dbname=fleet"
  expect_rc 0 "libpq's keyword form"; expect_out "^host-2 " "the same store"
  empty=$(pg_createdb empty)
  run fleet list --store "$empty"; expect_rc 2 "a database without a fleet"
  expect_err "holds no numaplace fleet" "says so"
fi
# A store written by a newer numaplace (here 99; this one writes 3 in SQLite, 5 in
# PostgreSQL): refused, left alone.
if [ "$kind" = sqlite ]; then
  python3 -c "import sqlite3; c = sqlite3.connect('fleet.db'); c.execute(\"UPDATE np_meta SET value = '99' WHERE key = 'version'\"); c.commit()"
else
  pg_psql fleet "UPDATE np_meta SET value = '99' WHERE key = 'version'" >/dev/null
fi
run schedule --store "$store" --id vm-new --flavor vcpus=1,ram=512; expect_rc 2 "a newer schema"
newest=3; [ "$kind" = postgresql ] && newest=7
expect_err "schema version 99; this numaplace reads up to $newest" "says so"
expect_one_line_err "newer schema"
run fleet add --store "$store" --name host-9 --host host.json; expect_rc 2 "add to a newer schema"
finish
