#!/usr/bin/env bash
# tests/cli/topology.sh - `numaplace topology` end to end: every source
# option, every format, files and standard input, help and bad usage.  In a
# build without hwloc or libvirt, their sources must fail with exit 3 and
# one line saying so, and the rest runs on saved JSON.
. "$(dirname "$0")/lib.sh"

# unsupported WHAT LIBRARY: the last run said, in one line, that this build lacks LIBRARY.
unsupported() {
  expect_rc 3 "$1 without $2"; expect_one_line_err "$1 without $2"
  expect_err "^numaplace: this numaplace has no $2 support \(built without it\)$" "$1: says $2 is missing"
}

# Help and usage.
run --help;                 expect_rc 0 "numaplace --help"; expect_out "topology" "--help lists the topology verb"
run help topology;          expect_rc 0 "help topology";    expect_out "^usage: numaplace topology" "help shows usage"
run topology --help;        expect_rc 0 "topology --help";  expect_out "--sysfs DIR" "usage names --sysfs"
run --version;              expect_rc 0 "--version";        expect_out "^numaplace [0-9]+\.[0-9]+" "version line"
proj=$(sed -n "s/^  version: '\([^']*\)',$/\1/p" "$NP_SRC/meson.build" | head -n1)
if [ -n "$proj" ] && [ "$out" = "numaplace $proj" ]; then ok "--version is meson.build's ($proj)"; else not_ok "--version '$out' is not meson.build's '$proj'"; fi
run;                        expect_rc 2 "no verb"
run frobnicate;             expect_rc 2 "unknown verb";     expect_one_line_err "unknown verb"
run help frobnicate;        expect_rc 2 "help of unknown verb"
run topology --bogus;       expect_rc 2 "unknown option";   expect_one_line_err "unknown option"
run topology --format;      expect_rc 2 "option without value"; expect_err "needs a value" "says the value is missing"
run topology --format xml;  expect_rc 2 "unknown format";   expect_err "unknown format 'xml'" "names the format"
run topology extra;         expect_rc 2 "stray argument"
run topology --json a --xl b; expect_rc 2 "two sources";    expect_err "only once" "says one source"
run topology --source nowhere:x; expect_rc 2 "unknown source kind"; expect_err "unknown topology source 'nowhere'" "names the kind"
run topology --source json; expect_rc 2 "source without path"

# This machine.
run topology
if have hwloc; then
  expect_rc 0 "local topology";   expect_out "^host: [0-9]+ nodes?, [0-9]+ CPUs" "summary line"
  expect_out "^distances" "local distance table"
else
  unsupported "local topology" hwloc
fi

# Missing and bad files: exit 2, one line naming the file.
run topology --json "$TMP/nope.json"; expect_rc 2 "missing json file"
expect_one_line_err "missing file"; expect_err "nope.json" "message names the file"
printf 'hello world\n' >"$TMP/garbage"
run topology --host "$TMP/garbage"; expect_rc 2 "unrecognised file"; expect_one_line_err "unrecognised file"
if have hwloc; then
  run topology --sysfs "$TMP/nodir"; expect_rc 2 "missing sysfs dir"; expect_err "nodir" "message names the dir"
  run topology --host "$TMP"; expect_rc 2 "a dir that is not a sysfs root"; expect_one_line_err "not a sysfs root"
else
  run topology --sysfs "$TMP/nodir"; unsupported "--sysfs" hwloc
  run topology --host "$TMP"; unsupported "--host DIR" hwloc
fi

# A real machine from the fixtures: 8 nodes, 64 CPUs, distances 10/16/22
# (without hwloc: the same machine saved as JSON).
if have hwloc; then
  root=$(fixture 64amd64-4s2n4ca2co)
  run topology --sysfs "$root"; expect_rc 0 "sysfs fixture"
  expect_out "^host: 8 nodes, 64 CPUs \(4 sockets, 64 cores, 1 thread per core\)" "8 nodes, 64 CPUs; core ids repeat per node, cores do not merge"
  expect_out "^ +0  0-7 " "node 0 has CPUs 0-7"
  expect_out "^ +0 +10 +16 +16 +22 " "distance row of node 0"
  run topology --source "sysfs:$root" --format json -o "$TMP/h.json"; expect_rc 0 "--source sysfs:DIR -o FILE"
else
  cp "$NP_SRC/tests/data/json/64amd64-4s2n4ca2co.json" "$TMP/h.json"
fi
if grep -q '"schema": *"numaplace.topology/1"' "$TMP/h.json"; then ok "json has the schema"; else not_ok "json has the schema"; fi
run topology --json "$TMP/h.json" --format json; expect_rc 0 "json read back"
if cmp -s "$TMP/out" "$TMP/h.json"; then ok "json round trip through the tool is the identity"; else not_ok "json round trip"; fi
run topology --host "$TMP/h.json"; expect_rc 0 "--host detects json"; expect_out "^host: 8 nodes" "same host"
run_stdin "$TMP/h.json" topology --json - --format json; expect_rc 0 "json from stdin"
if cmp -s "$TMP/out" "$TMP/h.json"; then ok "stdin gives the same topology"; else not_ok "stdin round trip"; fi
run topology --host "$TMP/h.json" --format svg; expect_rc 0 "svg"; expect_out "<svg" "svg document"
run topology --host "$TMP/h.json" -o /dev/full; expect_rc 1 "write error"; expect_one_line_err "write error"

# POWER7: packages without a kernel id still group SMT4 siblings.
if have hwloc; then
  ppc=$(fixture 256ppc-8n8s4t)
  run topology --sysfs "$ppc"; expect_rc 0 "POWER7 fixture"
  expect_out "^host: 8 nodes, 256 CPUs \(64 sockets, 64 cores, 4 threads per core\)" "SMT4 siblings found"
fi

# Truncated JSON: one line with a line number.
head -c 300 "$TMP/h.json" >"$TMP/trunc.json"
run topology --json "$TMP/trunc.json"; expect_rc 2 "truncated json"
expect_one_line_err "truncated json"; expect_err "trunc.json.*line [0-9]+" "names file and line"

# hwloc XML that crashed libhwloc 2.9.0 before we checked it (fuzzer finds).
for f in "$NP_SRC"/tests/data/hwloc/bad-*.xml; do
  run topology --hwloc-xml "$f"
  if have hwloc; then
    expect_rc 2 "hwloc xml $(basename "$f")"; expect_one_line_err "$(basename "$f")"
  else
    unsupported "--hwloc-xml" hwloc
  fi
done
if have hwloc; then
  # A version this libhwloc cannot read is named (exit 3: not supported here).
  run topology --hwloc-xml "$NP_SRC/tests/data/hwloc/hwloc-v3.xml"; expect_rc 3 "hwloc xml version 3.0"
  expect_err "hwloc XML version 3\.0" "names the version"; expect_one_line_err "hwloc xml version 3.0"
  # One bus id in two PCI hierarchies: the host is kept, with both devices.
  run topology --hwloc-xml "$NP_SRC/tests/data/hwloc/dup-pci-busid.xml"; expect_rc 0 "one bus id twice"
  expect_out "^0000:04:00.0 +8086:1d6b" "the first device"; expect_out "^0000:04:00.0#2 +15b3:1013" "the second, as #2"
  run topology --hwloc-xml "$NP_SRC/tests/data/hwloc/dup-pci-busid.xml" --format json
  printf '%s\n' "$out" >"$TMP/dup.json"; run topology --json "$TMP/dup.json"; expect_rc 0 "#2 reads back from JSON"
  # A v1 export's distance matrix (hwloc gives it no name).
  run topology --hwloc-xml "$NP_SRC/tests/data/hwloc/distances-v1.xml"; expect_rc 0 "v1 distances"
  expect_out "^ +0 +10 +21$" "v1 distances read"
  # A 2.x root NUMANode crashed libhwloc 2.9.0 (it removed the root as empty,
  # then freed the NULL root): refused, naming it.  A 1.x root NUMA node (as
  # 1.x wrote it, "Node") is put under a Machine, as hwloc does, and read.
  run topology --hwloc-xml "$NP_SRC/tests/data/hwloc/bad-numa-root-v2.xml"
  expect_rc 2 "2.x root NUMANode"; expect_one_line_err "2.x root NUMANode"
  expect_err "line 1: the root object is a NUMANode, not a Machine$" "names the root's type"
  run topology --hwloc-xml "$NP_SRC/tests/data/hwloc/numa-root-v1.xml"; expect_rc 0 "1.x root NUMA node"
  expect_out "^host: 1 node, 1 CPUs, 1\.0 GiB memory" "its node, CPU and memory read"
fi

# Other sources through the tool.
if have libvirt; then
  run topology --libvirt test:///default; expect_rc 0 "libvirt test driver"; expect_out "^host: 2 nodes, 16 CPUs" "2 nodes, 16 CPUs"
  # No libvirt answers (no driver, no daemon): unsupported here, not bad input.
  run topology --libvirt bogus:///x; expect_rc 3 "a libvirt URI nobody serves here"; expect_one_line_err "libvirt uri nobody serves"
  expect_err "^numaplace: cannot load 'bogus:///x': cannot connect: " "libvirt's own line is silenced"
  if [ ! -S /var/run/libvirt/libvirt-sock-ro ] && [ ! -S /run/libvirt/libvirt-sock-ro ]; then
    run topology --libvirt qemu:///system; expect_rc 3 "qemu:///system without libvirtd"
    expect_one_line_err "qemu:///system without libvirtd"; expect_err "\\(is libvirtd running\\?\\)$" "asks whether libvirtd runs"
  fi
else
  run topology --libvirt test:///default; unsupported "--libvirt" libvirt
fi
# A saved capabilities file needs libxml2 (module xml), not libvirt.
if have xml; then
  run topology --libvirt-xml "$NP_SRC/tests/data/libvirt/host-4cell.xml"; expect_rc 0 "--libvirt-xml"
  expect_out "^host: 4 nodes" "--libvirt-xml: 4 nodes read"
else
  run topology --libvirt-xml "$NP_SRC/tests/data/libvirt/host-4cell.xml"; unsupported "--libvirt-xml" libxml2
fi
finish
