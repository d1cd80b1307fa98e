#!/bin/bash
# bench/topology.sh - time loading a big saved host and printing it:
# `numaplace topology --sysfs ROOT --format json` against hwloc's own
# `lstopo-no-graphics -i ROOT --of xml` on the same root, in one hyperfine
# run, so both see the same machine load; prints hyperfine's table and the
# ratio of the medians (numaplace / lstopo: below 1 means numaplace is
# faster).
#
#   bench/topology.sh [--quick] [BUILD_DIR] [FIXTURE.tar.bz2]
#
# BUILD_DIR defaults to ./build, FIXTURE to the 64-node IA64 dump
# 256ia64-64n2s2c from shared/fixtures/hwloc-linux.  Both commands are
# run once first and must succeed, so a broken loader is not timed.
# Whole processes are timed: start-up (dynamic linking of hwloc, libxml2,
# jansson, libvirt) included, as a user sees it.
set -euo pipefail

quick=0
if [ "${1:-}" = "--quick" ]; then
	quick=1
	shift
fi
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
shared=${NP_SHARED:-$here/../../shared}
fixture=${2:-$shared/fixtures/hwloc-linux/256ia64-64n2s2c.tar.bz2}
np=$build/cli/numaplace

for tool in hyperfine lstopo-no-graphics; do
	command -v "$tool" > /dev/null || { echo "topology.sh: $tool is not installed" >&2; exit 1; }
done
[ -x "$np" ] || { echo "topology.sh: no $np (build first)" >&2; exit 1; }
[ -f "$fixture" ] || { echo "topology.sh: no fixture $fixture" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
tar -xjf "$fixture" -C "$tmp"
root=$(find "$tmp" -mindepth 1 -maxdepth 1 -type d | head -1)

# lstopo warns on stderr that this build has no pci component: harmless,
# so stderr is dropped in the timed runs (hyperfine discards stdout).
cmd_np="$np topology --sysfs $root --format json"
cmd_hw="lstopo-no-graphics -i $root --of xml"
$cmd_np > "$tmp/np.json"
$cmd_hw > "$tmp/hw.xml" 2> /dev/null
nodes_np=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["nodes"]))' "$tmp/np.json")
nodes_hw=$(grep -c '<object type="NUMANode"' "$tmp/hw.xml" || true)
echo "fixture: $(basename "$fixture")"
echo "numaplace json: $(wc -c < "$tmp/np.json") bytes; lstopo xml: $(wc -c < "$tmp/hw.xml") bytes; NUMA nodes: numaplace $nodes_np, lstopo $nodes_hw"

if [ $quick = 1 ]; then runs=(--warmup 2 --min-runs 10); else runs=(--warmup 10 --min-runs 100); fi
hyperfine -N "${runs[@]}" --export-json "$tmp/h.json" --export-markdown "$tmp/h.md" \
	-n numaplace "$cmd_np" -n lstopo "sh -c '$cmd_hw 2>/dev/null'" \
	-n "numaplace --version" "$np --version" -n "lstopo --version" "lstopo-no-graphics --version" \
	> /dev/null
# The lstopo arm runs through sh -c to drop its warning; time an empty
# sh -c in the same way so its start-up can be reported next to it.
hyperfine -N "${runs[@]}" --export-json "$tmp/sh.json" -n sh "sh -c true" > /dev/null
cat "$tmp/h.md"
python3 - "$tmp/h.json" "$tmp/sh.json" << 'EOF'
import json, sys
r = {x['command']: x for x in json.load(open(sys.argv[1]))['results']}
sh = json.load(open(sys.argv[2]))['results'][0]['median'] * 1000
n, h = r['numaplace']['median'] * 1000, r['lstopo']['median'] * 1000
print()
print('median ms: numaplace %.2f, lstopo %.2f (of which sh -c start-up %.2f)' % (n, h, sh))
print('ratio numaplace/lstopo: %.2f (lstopo without sh: %.2f)' % (n / h, n / max(h - sh, 1e-9)))
nm, hm = r['numaplace']['min'] * 1000, r['lstopo']['min'] * 1000
print('fastest runs (least disturbed by other load): numaplace %.2f ms, lstopo %.2f ms, ratio %.2f'
      % (nm, hm, nm / hm))
vn, vh = r['numaplace --version']['median'] * 1000, r['lstopo --version']['median'] * 1000
print('start-up alone (--version): numaplace %.2f ms, lstopo %.2f ms; '
      'without it: numaplace %.2f ms, lstopo %.2f ms, ratio %.2f' % (
          vn, vh, n - vn, h - sh - vh, (n - vn) / max(h - sh - vh, 1e-9)))
EOF
# In-process, without start-up: numaplace's load + JSON writer against
# hwloc's load + XML export (bench/topo-bench.c).
calls=100
[ $quick = 1 ] && calls=20
if [ -x "$build/bench/topo-bench" ]; then
	echo "in-process medians: $("$build/bench/topo-bench" "$root" "$calls")"
fi
