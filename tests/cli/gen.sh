#!/usr/bin/env bash
# tests/cli/gen.sh - `numaplace gen` end to end: help and usage errors
# (exit 2, one line), the same seed giving the same bytes, --count giving
# one workload per line with consecutive seeds, every family's workload
# answered by `numaplace place --case` (and, with python3-nova, by Nova's
# own code) without an invalid request, and a real host from a fixture
# (the examples of --help, the man page and README run in examples.sh).
. "$(dirname "$0")/lib.sh"

# pyjson FILE EXPR: the Python expression EXPR holds for the JSON document d.
pyjson() {
  python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
sys.exit(0 if eval("(" + sys.argv[2] + ")") else 1)' "$1" "$2" 2>/dev/null
}

run --help;               expect_out "^  gen " "numaplace --help lists gen"
run gen --help;           expect_rc 0 "gen --help"; expect_out "^usage: numaplace gen" "usage"
run help gen;             expect_rc 0 "help gen"
run gen --list;           expect_rc 0 "--list"; expect_out "^churn " "lists churn"
expect_out "^pci " "lists pci"
families=$("$NUMAPLACE" gen --list | awk '/^[a-z]/ { print $1 }')
[ "$(echo "$families" | wc -w)" -ge 12 ] && ok "at least 12 families" || not_ok "families: $families"

# Bad options: exit 2 and one clear line.
bad() { local what=$1; shift; run gen "$@"; expect_rc 2 "$what"; expect_one_line_err "$what"; }
bad "unknown option" --bogus
bad "unknown family" nosuch;            expect_err "no workload family 'nosuch'" "names the family"
bad "seed not a number" --seed x
bad "negative seed" --seed -1
bad "seed too large" --seed 9223372036854775808
bad "count 0" --count 0
bad "ratio 0" --ratio 0
bad "ratio not a number" --ratio fast
bad "guests 0" --guests 0
bad "stray argument" small extra
bad "missing value" --seed
bad "unknown shape key" --shape colour=red; expect_err "unknown key 'colour'" "names the key"
bad "bad dist" --shape dist=torus
bad "too many nodes" --shape nodes=1025
bad "smt does not divide" --shape cpus=6,smt=4
bad "family cannot fit" large4 --shape nodes=1,sockets=1
bad "host keys with a real host" --json "$NP_SRC/tests/data/json/full.json" --shape nodes=2
bad "unreadable host" --host "$TMP/none.json"

# Same seed, same bytes; another seed, other bytes; --count = consecutive seeds.
run gen dedicated --seed 11; a=$out
run gen dedicated --seed 11; [ "$a" = "$out" ] && ok "same seed, same bytes" || not_ok "determinism"
run gen dedicated --seed 12; [ "$a" != "$out" ] && ok "another seed, another workload" || not_ok "seed ignored"
run gen dedicated --seed 10 --count 3
[ "$(echo "$out" | wc -l)" -eq 3 ] && ok "--count 3: three lines" || not_ok "--count lines"
[ "$(echo "$out" | sed -n 2p)" = "$a" ] && ok "--count: line 2 is seed 11" || not_ok "--count seeds"
run gen churn --guests 30 --pretty -o "$TMP/churn.json"; expect_rc 0 "-o"
if pyjson "$TMP/churn.json" 'len(d["requests"]) == 30 and any("depart" in e for e in d["events"])
    and d["workload"]["churn"] and d["workload"]["family"] == "churn"'; then
  ok "churn: 30 arrivals and departures"; else not_ok "churn workload"; fi

# The example of docs/formats/workload.md is what gen writes (one host cell shown).
run gen churn --guests 3 --seed 3 --pretty -o "$TMP/doc.json"
if python3 - "$NP_SRC/docs/formats/workload.md" "$TMP/doc.json" <<'PY'
import json, re, sys
doc = json.loads(re.search(r'```json\n(.*?)```', open(sys.argv[1]).read(), re.S).group(1))
got = json.load(open(sys.argv[2]))
same = all(doc[k] == got[k] for k in ('workload', 'requests', 'events', 'cpu_allocation_ratio'))
sys.exit(0 if same and doc['host']['cells'][0] == got['host']['cells'][0] else 1)
PY
then ok "workload.md's example is what gen writes"; else not_ok "workload.md example differs"; fi

# Every family: numaplace answers every request (no invalid one), exit 0 or 1.
for f in $families; do
  "$NUMAPLACE" gen "$f" --seed 3 -o "$TMP/$f.json"
  run place --case "$TMP/$f.json" --validate
  if [ "$rc" -le 1 ] && pyjson "$TMP/out" 'all(r["error"] is None for r in d["results"])
      and any(r["fits"] for r in d["results"])'; then
    ok "$f: place --case answers every request"
  else not_ok "$f: place --case"; fi
done

# Nova's real code reads the same files and finds no invalid request either.
if /usr/bin/python3 -c 'import nova' 2>/dev/null && [ -f "$NP_SHARED/nova/nova_fit.py" ]; then
  for f in $families; do
    if /usr/bin/python3 "$NP_SHARED/nova/nova_fit.py" "$TMP/$f.json" >"$TMP/nova-$f.json" &&
       pyjson "$TMP/nova-$f.json" 'all(r["error"] is None for r in d["results"])'; then
      ok "$f: Nova accepts every request"
    else not_ok "$f: Nova: $(head -c 300 "$TMP/nova-$f.json")"; fi
  done
else
  echo "skip: no python3-nova, Nova's side not checked"
fi

# A real host: a fixture's nodes, CPUs and sockets.
if have hwloc; then
  fxhost=(--sysfs "$(fixture 64amd64-4s2n4ca2co)")
else
  fxhost=(--host "$NP_SRC/tests/data/json/64amd64-4s2n4ca2co.json")   # the same machine, saved
fi
run gen mixed "${fxhost[@]}" --seed 2 -o "$TMP/fx.json"; expect_rc 0 "a fixture as host"
if pyjson "$TMP/fx.json" 'len(d["host"]["cells"]) == 8 and "shared_cpus" in d["host"]["cells"][0]
    and d["workload"]["shape"].endswith("shared=50")'; then
  ok "fixture: 8 nodes, split CPU sets"; else not_ok "fixture host"; fi
run place --case "$TMP/fx.json"; [ "$rc" -le 1 ] && ok "place answers the fixture workload" || not_ok "fixture place"

# --flavors: the family's catalogue (docs/formats/flavors.md): the same
# bytes twice, weights counting 100,000 draws, every guest of a workload
# in it (a catalogue knows the flavors, not the order), read back by place.
for f in mem-bound pci; do
  run gen $f --flavors -o "$TMP/cat-$f.json"; expect_rc 0 "$f: catalogue"
  run gen $f --flavors -o "$TMP/cat2-$f.json"
  cmp -s "$TMP/cat-$f.json" "$TMP/cat2-$f.json" && ok "$f: the same catalogue twice" || not_ok "$f: catalogue differs"
  run gen $f --seed 100001 --count 3 -o "$TMP/wl-$f.jsonl"
  if python3 - "$TMP/cat-$f.json" "$TMP/wl-$f.jsonl" <<'PY'
import json, sys
cat = json.load(open(sys.argv[1]))
assert cat['schema'] == 'numaplace.flavors/1'
assert sum(f['weight'] for f in cat['flavors']) == 100000
key = lambda r: (r['vcpus'], r['memory_mb'], sorted(r['extra_specs'].items()))
have = {json.dumps(key(f)) for f in cat['flavors']}
assert len(have) == len(cat['flavors'])
for line in open(sys.argv[2]):
    for r in json.loads(line)['requests']:
        assert json.dumps(key(r)) in have, r
PY
  then ok "$f: weights add up to 100000, distinct flavors, every workload guest among them"
  else not_ok "$f: catalogue content"; fi
  run place --json "$NP_SRC/tests/data/json/minimal.json" --flavor vcpus=1,ram=256 --flavors "$TMP/cat-$f.json"
  expect_rc 0 "$f: place reads the catalogue"
done
# Flavors that differ only in their NIC policy come in one order, by the
# policy's text (none, preferred, legacy, required), not by where the
# compiler put the strings: clang's build of 60e00ff listed them otherwise.
if python3 - "$TMP/cat-pci.json" <<'PY'
import json, sys
rank = {None: 0, 'preferred': 1, 'legacy': 2, 'required': 3}
cat = json.load(open(sys.argv[1]))['flavors']
pol = lambda f: f['extra_specs'].get('hw:pci_numa_affinity_policy')
rest = lambda f: (f['vcpus'], f['memory_mb'], sorted((k, v) for k, v in f['extra_specs'].items()
                                                    if k != 'hw:pci_numa_affinity_policy'))
seen = 0
for a, b in zip(cat, cat[1:]):
    if rest(a) == rest(b):
        assert rank[pol(a)] < rank[pol(b)], (a['name'], b['name'])
        seen += 1
assert seen >= 10, seen
PY
then ok "pci: flavors equal but for the NIC policy in the policy's order"
else not_ok "pci: the NIC policies' order"; fi
run gen small --flavors --count 2; expect_rc 2 "--flavors with --count"; expect_one_line_err "--flavors with --count"
run gen small --flavors --churn; expect_rc 2 "--flavors with --churn"

finish
