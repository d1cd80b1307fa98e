#!/usr/bin/env bash
# tests/cli/libvirt-smt.sh - SMT threads from libvirt capabilities, against
# Nova's own reading of the same documents (tests/data/libvirt/smt-*.xml;
# README.md there says where each shape comes from).
#
# Nova's libvirt driver takes SMT siblings from the `siblings` attribute
# only; tests/nova/caps2case.py runs Nova's capabilities parser and the
# driver's rule on a document and writes the Nova case, nova_fit.py runs
# Nova's placement on it.  For each document: numaplace's sibling groups
# (topology --format json) are Nova's, and for each flavor numaplace fits
# exactly when Nova fits.  The flavors are picked so that reading core_id
# instead of siblings gives the other answer.  Skips (77) without
# python3-nova.
. "$(dirname "$0")/lib.sh"
need libvirt
py=/usr/bin/python3
[ -x "$py" ] && "$py" -c 'import nova' 2>/dev/null || { echo "skip: no python3-nova"; exit 77; }
data=$NP_SRC/tests/data/libvirt
fit=$NP_SHARED/nova/nova_fit.py
[ -f "$fit" ] || { echo "skip: no $fit"; exit 77; }

iso() { echo "vcpus=$1,ram=1024,hw:cpu_policy=dedicated,hw:cpu_thread_policy=isolate"; }
req() { echo "vcpus=$1,ram=1024,hw:cpu_policy=dedicated,hw:cpu_thread_policy=require"; }

# document, flavor, Nova's answer (the expectation is checked too, so that a
# change in the documents cannot make the comparison vacuous)
cases=(
  "smt-siblings-cascadelake.xml|$(iso 3)|false"   # 2 cores a cell: core_id would say 4
  "smt-siblings-cascadelake.xml|$(iso 2)|true"
  "smt-siblings-cascadelake.xml|$(req 2)|true"    # core_id would say: no SMT
  "smt-compute-units.xml|$(iso 5)|false"          # 4 compute units a cell, not 8 cores
  "smt-compute-units.xml|$(req 4)|true"
  "smt-agree-gaps.xml|$(iso 4)|true"
  "smt-agree-gaps.xml|$(iso 5)|false"
  "smt-siblings-alone.xml|$(req 2)|false"         # core_id would say SMT
  "smt-siblings-alone.xml|$(iso 4)|true"          # core_id would say 2 cores a cell
)

# Sibling groups: Nova's per cell from the case, numaplace's from its JSON.
nova_groups() { "$py" -c 'import json,sys
c = json.load(open(sys.argv[1]))
print(sorted(tuple(s) for cell in c["host"]["cells"] for s in cell["siblings"]))' "$1"; }
np_groups() { "$py" -c 'import json,sys
t = json.load(open(sys.argv[1]))
print(sorted(set(tuple(c["siblings"]) for c in t["cpus"])))' "$1"; }

for doc in $(printf '%s\n' "${cases[@]}" | cut -d'|' -f1 | sort -u); do
  "$py" "$NP_SRC/tests/nova/caps2case.py" "$data/$doc" "vcpus=1,ram=1" >"$TMP/case.json" ||
    { not_ok "$doc: Nova reads it"; continue; }
  run topology --libvirt-xml "$data/$doc" --format json -o "$TMP/topo.json"
  expect_rc 0 "$doc: numaplace reads it"
  want=$(nova_groups "$TMP/case.json"); got=$(np_groups "$TMP/topo.json")
  if [ "$want" = "$got" ]; then ok "$doc: SMT siblings are Nova's $want"
  else not_ok "$doc: SMT siblings $got, Nova's $want"; fi
done

for c in "${cases[@]}"; do
  IFS='|' read -r doc flavor expect <<<"$c"
  "$py" "$NP_SRC/tests/nova/caps2case.py" "$data/$doc" "$flavor" >"$TMP/case.json" &&
    nova=$("$py" "$fit" "$TMP/case.json" | "$py" -c 'import json,sys
a = json.load(sys.stdin); print(str(bool(a["fits"] and a["filter_passes"])).lower())') ||
    { not_ok "$doc $flavor: Nova answers"; continue; }
  [ "$nova" = "$expect" ] && ok "$doc $flavor: Nova says $nova, as expected" ||
    not_ok "$doc $flavor: Nova says $nova, the test expects $expect"
  run place --libvirt-xml "$data/$doc" --flavor "$flavor"
  [ "$nova" = true ] && want=0 || want=1
  expect_rc "$want" "$doc $flavor: numaplace agrees with Nova ($nova)"
done
finish
