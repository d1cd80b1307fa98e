#!/usr/bin/env bash
# tests/cli/doc.sh - whole documents in and out: `numaplace place` and
# `claim` with --domain-xml and --xl-config, judged by the tools admins
# run: every merged domain passes virt-xml-validate (libvirt's schema) and
# is defined by libvirt's test driver, whose dumpxml then shows exactly the
# placement numaplace wrote; every merged xl.cfg is read by Xen's own
# parser (tests/xl/xlcfg-same.c over libxlutil) with every setting but the
# merged ones unchanged.  Then hostile documents (exit 2, one line), no
# fit (exit 1, nothing written), -o, --in-place (atomic, mode kept, links
# refused), claims, and the device policy.  `numaplace schedule` with a
# document, on a SQLite fleet of two such hosts: judged the same way, the
# first placement on an empty host the very document `place` writes,
# scheduled again (in place too) byte for byte the same.
#
# The host is tests/data/json/pci-4node.json: 4 nodes (CPUs 0-3,16-19 /
# 4-7,20-23 / 8-11,24-27 / 12-15,28-31; 32, 32, 32, 16 GiB; distances 10,
# 12, 21, 22), NICs 8086:1572 at 18:00.0 and 18:00.1 (node 1) and 86:00.0
# (node 3), a GPU at 3b:00.0 with its audio function 3b:00.1 (node 2).
. "$(dirname "$0")/lib.sh"

D="$NP_SRC/tests/data"
host=(--host "$D/json/pci-4node.json")

# The placement elements of a domain, as "key value" lines, for comparing ours with libvirt's.
facts() {
  python3 - "$1" <<'EOF'
import sys, xml.etree.ElementTree as ET
r = ET.parse(sys.argv[1]).getroot()
print("vcpu", r.findtext("vcpu").strip())
for e in r.findall("cputune/vcpupin"): print("vcpupin", e.get("vcpu"), e.get("cpuset"))
for e in r.findall("cputune/emulatorpin"): print("emulatorpin", e.get("cpuset"))
for e in r.findall("cputune/iothreadpin"): print("iothreadpin", e.get("iothread"), e.get("cpuset"))
for e in r.findall("numatune/memory"): print("memory", e.get("mode"), e.get("nodeset"))
for e in r.findall("numatune/memnode"): print("memnode", e.get("cellid"), e.get("mode"), e.get("nodeset"))
for e in r.findall("cpu/numa/cell"): print("cell", e.get("id"), e.get("cpus"), e.get("memory"), e.get("unit"))
for e in r.findall("memoryBacking/hugepages/page"): print("page", e.get("size"), e.get("nodeset"))
EOF
}

have_virsh=1
command -v virsh >/dev/null && command -v virt-xml-validate >/dev/null || have_virsh=0
[ "$have_virsh" = 1 ] || echo "# skip: virsh or virt-xml-validate missing (Debian: libvirt-clients)"

# libvirt judges OUT (the merge of sample NAME): schema, test driver, dumpxml.
libvirt_judges() {
  local out=$1 what=$2 name
  [ "$have_virsh" = 1 ] || return 0
  if virt-xml-validate "$out" domain >/dev/null 2>&1; then ok "$what: virt-xml-validate"
  else not_ok "$what: virt-xml-validate refuses it: $(virt-xml-validate "$out" domain 2>&1 | tail -2)"; fi
  name=$(python3 -c 'import sys,xml.etree.ElementTree as E; print(E.parse(sys.argv[1]).getroot().findtext("name"))' "$out")
  if virsh -q -c test:///default "define $out; dumpxml --inactive $name" >"$TMP/dump.xml" 2>"$TMP/virsh.err" &&
     facts "$out" >"$TMP/ours" && facts "$TMP/dump.xml" >"$TMP/theirs" && cmp -s "$TMP/ours" "$TMP/theirs" &&
     grep -q "^memory " "$TMP/theirs"; then
    ok "$what: libvirt defines it and dumpxml shows the placement"
  else
    not_ok "$what: libvirt's test driver: $(head -c 300 "$TMP/virsh.err") $(diff "$TMP/ours" "$TMP/theirs" | head -5)"
  fi
}

# ---- usage --------------------------------------------------------------------
run place --help
expect_out "--domain-xml FILE" "help names --domain-xml"; expect_out "--xl-config FILE" "help names --xl-config"
expect_out "--in-place" "help names --in-place"; expect_out "--flavor the flavor is the guest" "help says a flavor wins"
run claim --help; expect_out "--domain-xml FILE" "claim takes documents too"
run place "${host[@]}" --domain-xml "$D/libvirt/domain-test.xml" --xl-config "$D/xl/guest-pv.cfg"
expect_rc 2 "two documents"; expect_one_line_err "two documents"
run place "${host[@]}" --domain-xml "$D/libvirt/domain-test.xml" --request x.json; expect_rc 2 "document and --request"
run place "${host[@]}" --flavor vcpus=1,ram=512 --in-place; expect_rc 2 "--in-place without a document"
run place "${host[@]}" --domain-xml - --in-place; expect_rc 2 "--in-place of standard input"
run place "${host[@]}" --domain-xml "$D/libvirt/domain-test.xml" --in-place -o x.xml; expect_rc 2 "--in-place and -o"
run place "${host[@]}" --domain-xml "$D/libvirt/domain-test.xml" --flavor vcpus=1,ram=512 --device-policy required
expect_rc 2 "--device-policy with a flavor"; expect_err "no --flavor" "says why"
run place "${host[@]}" --domain-xml "$D/libvirt/domain-test.xml" --device-policy near
expect_rc 2 "unknown device policy"; expect_err "preferred, required, socket, legacy" "lists them"

domain_tests() {
# ---- every domain sample: merged, and libvirt takes it --------------------------
for f in "$D"/libvirt/domain-*.xml; do
  b=$(basename "$f")
  run place "${host[@]}" --domain-xml "$f" -o "$TMP/$b"
  expect_rc 0 "$b placed"
  [ -s "$TMP/$b" ] && [ -z "$out" ] && ok "$b: written to -o, nothing on stdout" || not_ok "$b: -o"
  libvirt_judges "$TMP/$b" "$b"
done
run place "${host[@]}" --domain-xml "$D/libvirt/domain-dedicated.xml" -o -
expect_rc 0 "-o - is standard output"
expect_out '<vcpupin vcpu="3" cpuset="[0-9]+"/>' "one CPU per vCPU, as the domain had"
expect_out '<emulatorpin cpuset="[0-9]+"/>' "the emulator on a CPU of its own, as the domain had"
run place "${host[@]}" --domain-xml "$D/libvirt/domain-numa.xml" --format json
expect_rc 0 "--format: the plan instead of the document"
json_ok "d['fits'] and sorted(c['node'] for c in d['cells']) == [0, 1] and all(c['pagesize_kb'] == 2048 for c in d['cells'])" \
  "two cells on 2 MiB pages on nodes 0 and 1 (12 apart)"
run_stdin "$D/libvirt/domain-numa.xml" place "${host[@]}" --domain-xml - --format libvirt
expect_rc 0 "--domain-xml - reads standard input"; expect_out "<memnode cellid='1'" "pieces as before"

# With a flavor, the flavor is the guest; the domain takes its size.
run place "${host[@]}" --domain-xml "$D/libvirt/domain-virt-install.xml" --flavor 'vcpus=6,ram=4096,hw:numa_nodes=2' -o "$TMP/flavor.xml"
expect_rc 0 "flavor into a domain"
grep -q '<vcpu placement="static">6</vcpu>' "$TMP/flavor.xml" && grep -q '<memory unit="KiB">4194304</memory>' "$TMP/flavor.xml" &&
  ok "the domain takes the flavor's 6 vCPUs and 4 GiB" || not_ok "flavor's size"
libvirt_judges "$TMP/flavor.xml" "flavor into virt-install's domain"

# ---- PCI devices by address ----------------------------------------------------
run place "${host[@]}" --domain-xml "$D/libvirt/domain-hostdev.xml" --format json
json_ok "[c['node'] for c in d['cells']] == [2] and d['score']['device_misses'] == 0" "the GPU's guest goes to the GPU's node 2"
run place "${host[@]}" --domain-xml "$D/libvirt/domain-sriov.xml" --format json
json_ok "[c['node'] for c in d['cells']] == [3]" "the VF's guest goes to node 3, not to node 1 with the same NIC model"
# Node 2 full: a NUMA guest with the GPU goes elsewhere (preferred), or nowhere (required).
cat >"$TMP/fill2.json" <<'EOF'
{"schema": "numaplace.request/1", "vcpus": 1, "memory_mb": 30000, "cells": [{"vcpus": [0], "memory_mb": 30000, "host_node": 2}]}
EOF
run claim --state "$TMP/host.state" --id fill "${host[@]}" --request "$TMP/fill2.json" --format json; expect_rc 0 "node 2 filled"
sed "s|<cpu mode='host-passthrough'/>|<cpu mode='host-passthrough'><numa><cell id='0' cpus='0-7' memory='16' unit='GiB'/></numa></cpu>|" \
  "$D/libvirt/domain-hostdev.xml" >"$TMP/gpu-numa.xml"
run place "${host[@]}" --state "$TMP/host.state" --domain-xml "$TMP/gpu-numa.xml" --format json
expect_rc 0 "preferred: fits off the GPU's node"; json_ok "d['score']['device_misses'] == 2" "both functions missed"
run place "${host[@]}" --state "$TMP/host.state" --domain-xml "$TMP/gpu-numa.xml" --device-policy required -o "$TMP/none.xml"
expect_rc 1 "required: no fit"; [ ! -e "$TMP/none.xml" ] && ok "no fit: -o not even created" || not_ok "no fit wrote -o"
expect_err "no placement fits" "says so on stderr"

# ---- hostile domains: exit 2, one line --------------------------------------------
printf '<domain><vcpu>2</vcpu>\n<memory>1</memory\n' >"$TMP/broken.xml"
run place "${host[@]}" --domain-xml "$TMP/broken.xml"; expect_rc 2 "broken XML"; expect_one_line_err "broken XML"
expect_err "broken.xml: line [0-9]+: " "names the file and line"
sed 's|<numatune>|<numatune><memory mode="strict"/></numatune>\n  <numatune>|' "$D/libvirt/domain-numa.xml" >"$TMP/two.xml"
run place "${host[@]}" --domain-xml "$TMP/two.xml"; expect_rc 2 "two <numatune>"; expect_one_line_err "two <numatune>"
expect_err "line [0-9]+: a second <numatune>" "says which"
run place "${host[@]}" --domain-xml "$TMP/two.xml" --flavor vcpus=1,ram=512; expect_rc 2 "two <numatune> with a flavor too"
sed 's|>4</vcpu>|>70000</vcpu>|' "$D/libvirt/domain-dedicated.xml" >"$TMP/many.xml"
run place "${host[@]}" --domain-xml "$TMP/many.xml"; expect_rc 2 "70000 vCPUs"; expect_one_line_err "70000 vCPUs"
sed "s|bus='0x3b' slot='0x00' function='0x1'|bus='0x99' slot='0x00' function='0x0'|" "$D/libvirt/domain-hostdev.xml" >"$TMP/nodev.xml"
run place "${host[@]}" --domain-xml "$TMP/nodev.xml"; expect_rc 2 "a hostdev the host lacks"; expect_one_line_err "hostdev the host lacks"
expect_err "nodev.xml: PCI device 0000:99:00.0 is not on this host" "names the document and the device"
run place "${host[@]}" --domain-xml "$D/libvirt/host-4cell.xml"; expect_rc 2 "capabilities are no domain"
expect_err "root element is <capabilities>" "says what it is"
run place "${host[@]}" --domain-xml "$TMP/missing.xml"; expect_rc 2 "a missing file"; expect_one_line_err "missing file"

# ---- no fit: exit 1, nothing written --------------------------------------------
cp "$D/libvirt/domain-test.xml" "$TMP/keep.xml"
run place "${host[@]}" --domain-xml "$TMP/keep.xml" --flavor 'vcpus=2,ram=999999'
expect_rc 1 "no fit"; [ -z "$out" ] && ok "no fit: nothing on stdout" || not_ok "no fit printed"
run place "${host[@]}" --domain-xml "$TMP/keep.xml" --flavor 'vcpus=2,ram=999999' --in-place
expect_rc 1 "no fit in place"; cmp -s "$TMP/keep.xml" "$D/libvirt/domain-test.xml" && ok "no fit: the file is as it was" || not_ok "no fit changed the file"

# ---- --in-place ---------------------------------------------------------------------
cp "$D/libvirt/domain-numa.xml" "$TMP/vm.xml"; chmod 640 "$TMP/vm.xml"
run place "${host[@]}" --domain-xml "$TMP/vm.xml" --in-place
expect_rc 0 "in place"; [ -z "$out" ] && ok "in place: nothing on stdout" || not_ok "in place printed"
[ "$(stat -c %a "$TMP/vm.xml")" = 640 ] && ok "in place: mode 640 kept" || not_ok "mode now $(stat -c %a "$TMP/vm.xml")"
grep -q '<vcpupin vcpu="0" cpuset="0-3,16-19"/>' "$TMP/vm.xml" && ok "in place: the placement is in the file" || not_ok "in place content"
[ "$(ls "$TMP" | grep -c '\.np-')" = 0 ] && ok "in place: no temporary file left" || not_ok "temporary files left: $(ls "$TMP")"
cp "$TMP/vm.xml" "$TMP/vm.before"
run place "${host[@]}" --domain-xml "$TMP/vm.xml" --in-place
cmp -s "$TMP/vm.xml" "$TMP/vm.before" && ok "in place again: not a byte changes" || not_ok "second merge changed the file"
ln -s vm.xml "$TMP/link.xml"
run place "${host[@]}" --domain-xml "$TMP/link.xml" --in-place
expect_rc 2 "in place through a symbolic link"; expect_err "a symbolic link" "refused, saying why"
[ -L "$TMP/link.xml" ] && cmp -s "$TMP/vm.xml" "$TMP/vm.before" && ok "the link and its file untouched" || not_ok "link replaced or file changed"

# ---- claim ------------------------------------------------------------------------------
run claim --state "$TMP/c.state" --id nfv1 "${host[@]}" --domain-xml "$D/libvirt/domain-numa.xml" -o "$TMP/claimed.xml"
expect_rc 0 "claim a domain"; libvirt_judges "$TMP/claimed.xml" "claimed domain"
run claim --state "$TMP/c.state" --id nfv1 "${host[@]}" --domain-xml "$D/libvirt/domain-numa.xml"
expect_rc 0 "claim again"; expect_err "already claimed" "says so"
[ "$out" = "$(cat "$TMP/claimed.xml")" ] && ok "claiming again prints the same domain" || not_ok "reprint differs"
run claim --state "$TMP/c.state" --id nfv2 "${host[@]}" --domain-xml "$D/libvirt/domain-numa.xml" --format json
json_ok "sorted(c['node'] for c in d['cells']) == [0, 3]" "the second copy goes where pages are left (node 1 had 256 pages)"

}

if have xml; then
  domain_tests
else
  # Domain documents need module xml (libxml2): exit 3, one line saying so.
  run place "${host[@]}" --domain-xml "$D/libvirt/domain-test.xml"
  expect_rc 3 "domain XML without module xml"; expect_one_line_err "no xml module"
  expect_err "no libxml2 support" "domain XML: says libxml2 is missing"
  echo "# skip: the domain XML tests need libxml2 (this build has none)"
fi

# ---- schedule: the fleet picks the host, the document comes back merged -------------
# Two hosts like pci-4node.json in a SQLite store (a build without SQLite: exit 3, skipped).
fleet="sqlite:$TMP/fleet.db"
schedule_tests() {
run schedule --store "$fleet" --id x --domain-xml "$D/libvirt/domain-test.xml" --in-place --dry-run
expect_rc 2 "--dry-run with --in-place"; expect_one_line_err "--dry-run with --in-place"
run schedule --store "$fleet" --id x --in-place --flavor vcpus=1,ram=512; expect_rc 2 "schedule --in-place without a document"
run schedule --store "$fleet" --id x --image hw_mem_page_size=2048 --domain-xml "$D/libvirt/domain-test.xml"
expect_rc 2 "--image without --flavor"; expect_err "--image goes with --flavor" "says so"
run schedule --store "$fleet" --id x; expect_rc 2 "no guest"; expect_err "--domain-xml FILE or --xl-config FILE" "names the documents"
run schedule --store "$fleet" --id x --domain-xml "$TMP/broken.xml"; expect_rc 2 "schedule: broken XML"
expect_err "broken.xml: line [0-9]+: " "names the file and line"

run schedule --store "$fleet" --id nfv --domain-xml "$D/libvirt/domain-numa.xml" -o "$TMP/s-nfv.xml"
expect_rc 0 "schedule a domain"; expect_err "^numaplace: 'nfv' -> h[12]$" "the host on stderr"
[ -z "$out" ] && ok "schedule: the document to -o, nothing on stdout" || not_ok "schedule printed: $out"
libvirt_judges "$TMP/s-nfv.xml" "scheduled domain"
run place "${host[@]}" --domain-xml "$D/libvirt/domain-numa.xml"
[ "$out" = "$(cat "$TMP/s-nfv.xml")" ] && ok "the first on an empty host: the document place writes" || not_ok "schedule and place differ"
run schedule --store "$fleet" --id nfv --domain-xml "$D/libvirt/domain-numa.xml"
expect_rc 0 "schedule it again"; expect_err "'nfv' is placed on h[12]" "says where it is"
[ "$out" = "$(cat "$TMP/s-nfv.xml")" ] && ok "again: the same document" || not_ok "again: another document"
run schedule --store "$fleet" --id nfv --domain-xml "$D/libvirt/domain-numa.xml" --format json
json_ok "d['existing'] and sorted(c['node'] for c in d['plan']['cells']) == [0, 1]" "--format json: the plan, not the document"
run schedule --store "$fleet" --id nfv --domain-xml "$D/libvirt/domain-numa.xml" --format json -o "$TMP/s-nfv.json"
expect_rc 0 "--format json -o FILE"; [ -z "$out" ] && python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if d["id"] == "nfv" and d["existing"] else 1)' "$TMP/s-nfv.json" &&
  ok "schedule -o: the JSON in the file, nothing on stdout" || not_ok "schedule --format json -o"

cp "$D/libvirt/domain-dedicated.xml" "$TMP/s-ded.xml"
run schedule --store "$fleet" --id ded --domain-xml "$TMP/s-ded.xml" --in-place
expect_rc 0 "schedule in place"; [ -z "$out" ] && ok "in place: nothing on stdout" || not_ok "in place printed"
libvirt_judges "$TMP/s-ded.xml" "domain scheduled in place"
cp "$TMP/s-ded.xml" "$TMP/s-ded.before"
run schedule --store "$fleet" --id ded --domain-xml "$TMP/s-ded.xml" --in-place
expect_rc 0 "in place again: the merged domain asks for the same guest"
cmp -s "$TMP/s-ded.xml" "$TMP/s-ded.before" && ok "in place again: not a byte changes" || not_ok "in place again changed the file"

run schedule --store "$fleet" --id gpu --domain-xml "$D/libvirt/domain-hostdev.xml" --format json
expect_rc 0 "a domain with a GPU"; json_ok "[c['node'] for c in d['plan']['cells']] == [2] and d['plan']['score']['device_misses'] == 0" \
  "the GPU's guest goes to the GPU's node 2 of its host"
run schedule --store "$fleet" --id nodev --domain-xml "$TMP/nodev.xml" -o "$TMP/s-nodev.xml"
expect_rc 1 "a hostdev no host has: nothing fits"; expect_err "2 hosts: no PCI device at 0000:99:00.0" "every host says so"
[ ! -e "$TMP/s-nodev.xml" ] && ok "no fit: -o not created" || not_ok "no fit wrote -o"
cp "$D/libvirt/domain-test.xml" "$TMP/s-keep.xml"
run schedule --store "$fleet" --id big --domain-xml "$TMP/s-keep.xml" --flavor 'vcpus=2,ram=999999' --in-place
expect_rc 1 "schedule: no fit in place"
cmp -s "$TMP/s-keep.xml" "$D/libvirt/domain-test.xml" && ok "no fit: the file is as it was" || not_ok "no fit changed the file"
run schedule --store "$fleet" --id web --domain-xml "$D/libvirt/domain-virt-install.xml" --flavor 'vcpus=6,ram=4096,hw:numa_nodes=2' -o "$TMP/s-web.xml"
expect_rc 0 "a flavor into a domain"
grep -q '<vcpu placement="static">6</vcpu>' "$TMP/s-web.xml" && ok "the domain takes the flavor's size" || not_ok "flavor's size"
libvirt_judges "$TMP/s-web.xml" "flavor scheduled into a domain"
}
run fleet add --store "$fleet" --name h1 "${host[@]}"
if [ "$rc" = 3 ]; then
  echo "# skip: schedule tests need the SQLite store (this build has none)"
else
  expect_rc 0 "fleet host h1"; run fleet add --store "$fleet" --name h2 "${host[@]}"; expect_rc 0 "fleet host h2"
  have xml && schedule_tests
  cp "$D/xl/guest-hvm.cfg" "$TMP/s-hvm.cfg"
  run schedule --store "$fleet" --id db1 --xl-config "$TMP/s-hvm.cfg" --in-place
  expect_rc 0 "schedule an xl.cfg in place"; expect_err "^numaplace: 'db1' -> h[12]$" "the host on stderr"
  if [ -n "${XLCFG_SAME:-}" ]; then
    "$XLCFG_SAME" "$D/xl/guest-hvm.cfg" "$TMP/s-hvm.cfg" -m cpus -m vnuma -w cpus >"$TMP/same" 2>&1 &&
      ok "scheduled xl.cfg: Xen's parser reads it, every other setting as it was" || not_ok "scheduled xl.cfg: $(cat "$TMP/same")"
  fi
  cp "$TMP/s-hvm.cfg" "$TMP/s-hvm.before"
  run schedule --store "$fleet" --id db1 --xl-config "$TMP/s-hvm.cfg" --in-place
  expect_rc 0 "xl.cfg in place again"; expect_err "'db1' is placed on" "the same placement"
  cmp -s "$TMP/s-hvm.cfg" "$TMP/s-hvm.before" && ok "xl.cfg in place again: not a byte changes" || not_ok "xl.cfg changed again"
  run fleet check --store "$fleet"; expect_rc 0 "the store checks after all of it"
fi

# ---- xl.cfg: Xen's parser judges ----------------------------------------------------
for f in "$D"/xl/guest-*.cfg; do
  b=$(basename "$f")
  run place "${host[@]}" --xl-config "$f" -o "$TMP/$b"
  expect_rc 0 "$b placed"
  if [ -n "${XLCFG_SAME:-}" ]; then
    aff=cpus; grep -q '^cpus_soft' "$f" && aff=cpus_soft
    if "$XLCFG_SAME" "$f" "$TMP/$b" -m cpus -m cpus_soft -m vnuma -w "$aff" >"$TMP/same" 2>&1; then
      ok "$b: Xen's parser reads it; every other setting as it was ($(cat "$TMP/same"))"
    else
      not_ok "$b: xlcfg-same: $(cat "$TMP/same")"
    fi
  fi
done
[ -n "${XLCFG_SAME:-}" ] || echo "# skip: Xen's parser (libxlutil, Debian libxen-dev) not built: xlcfg-same missing"
run place "${host[@]}" --xl-config "$D/xl/guest-hvm.cfg" --flavor 'vcpus=2,ram=1024' -o "$TMP/flavor.cfg"
expect_rc 0 "flavor into an xl.cfg"
if [ -n "${XLCFG_SAME:-}" ]; then
  "$XLCFG_SAME" "$D/xl/guest-hvm.cfg" "$TMP/flavor.cfg" -m cpus -m vnuma -m vcpus -m maxvcpus -m memory -m maxmem -w cpus \
    >"$TMP/same" 2>&1 && ok "flavor's xl.cfg: Xen reads it, the rest unchanged" || not_ok "flavor's xl.cfg: $(cat "$TMP/same")"
  "$XLCFG_SAME" "$D/xl/guest-hvm.cfg" "$TMP/flavor.cfg" -m cpus >/dev/null 2>&1 &&
    not_ok "xlcfg-same must see the changed vnuma" || ok "xlcfg-same sees what changed (it can fail)"
fi
grep -q '^vcpus=2 ; maxvcpus = 2$' "$TMP/flavor.cfg" && grep -q '^maxmem = 1024$' "$TMP/flavor.cfg" && ! grep -q '^vnuma' "$TMP/flavor.cfg" &&
  ok "the flavor's size in maxvcpus= and maxmem=, no vnuma=" || not_ok "flavor's xl.cfg: $(cat "$TMP/flavor.cfg")"
cp "$D/xl/guest-pv.cfg" "$TMP/pv.cfg"
run place "${host[@]}" --xl-config "$TMP/pv.cfg" --in-place; expect_rc 0 "xl.cfg in place"
grep -q '^cpus_soft = "0-3,16-19"   # keep near node 0$' "$TMP/pv.cfg" && ok "cpus_soft= replaced, its comment kept" || not_ok "pv in place: $(cat "$TMP/pv.cfg")"

for f in "$D"/xl/bad-*.cfg; do
  b=$(basename "$f")
  run place "${host[@]}" --xl-config "$f"; expect_rc 2 "$b refused"; expect_one_line_err "$b"
done
if [ -n "${XLCFG_SAME:-}" ]; then
  for b in bad-add.cfg bad-crlf.cfg bad-upper.cfg; do
    "$XLCFG_SAME" "$D/xl/$b" "$D/xl/$b" >/dev/null 2>&1
    [ $? = 2 ] && ok "$b: Xen's parser refuses it as well" || not_ok "$b: Xen's parser reads it"
  done
fi
run place "${host[@]}" --xl-config "$D/xl/bad-pci.cfg"; expect_err "bad-pci.cfg: PCI device 0000:99:00.0 is not on this host" "names the file"
run place "${host[@]}" --xl-config "$D/xl/guest-hvm.cfg" --mem-policy interleave
expect_rc 2 "xl cannot interleave"; expect_err "cannot interleave" "says why"

finish
