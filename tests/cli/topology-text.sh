#!/usr/bin/env bash
# tests/cli/topology-text.sh - what `numaplace topology` prints for people:
# the distance line says the true reason when it assumes distances (and
# never claims the firmware gave none when sysfs has a distance file),
# online CPUs in no node are shown, and long CPU lists wrap inside their
# column on the 64-node, 17-node, sparse and interleaved hosts.
. "$(dirname "$0")/lib.sh"
need hwloc

# Every node row of the last output keeps the memory column at offset 23
# (4 + 2 + 16 + 1), and every continuation line holds only CPU ids.
columns_hold() {
  if awk -v what="$1" '
    /^ *[0-9]+  / && !/^ *[0-9]+( +([0-9]+|-))+$/ { # a node row (not a distance row)
      m = substr($0, 24)
      if (m !~ /^(([0-9.]+ [KMG]iB|unknown) \/ [0-9.]+ [KMG]iB|\(no memory\))/) { print what ": " $0; bad = 1 }
      if (length(substr($0, 7, 16)) > 16) bad = 1
    }
    /^      [0-9.]/ && !/^      [0-9,-]+$/ && !/^      \.\.\. \([0-9]+ CPUs\)$/ { print what ": " $0; bad = 1 }
    /^      [0-9,-]+$/ && length($0) > 22 { print what ": " $0; bad = 1 }
    END { exit bad }' "$TMP/out"; then ok "$1: columns hold"; else not_ok "$1: a row breaks the columns"; fi
}

# This machine: sysfs has distance files, so nothing is assumed.
run topology; expect_rc 0 "this machine"
if ls /sys/devices/system/node/node*/distance >/dev/null 2>&1; then
  if grep -q "assuming" "$TMP/out"; then not_ok "this machine has sysfs distance files: nothing assumed"
  else ok "this machine has sysfs distance files: nothing assumed"; fi
fi
if grep -q "given by the firmware" "$TMP/out"; then not_ok "no 'none given by the firmware'"; else ok "no 'none given by the firmware'"; fi

# One node left online (offline-cpu0-node0): node 1's row "21 10" has one
# value per possible node; CPUs of the offline node 0 are online in no node.
fx=$(fixture offline-cpu0-node0)
run topology --sysfs "$fx"; expect_rc 0 "offline-cpu0-node0"
expect_out "^distances:$" "one-node host: the kernel's row is read, nothing assumed"
expect_out "^   1   10$" "node 1's own distance is 10"
expect_out "^online CPUs in no node \(9\): 4,6,8,10,12,14,16,18,20$" "online CPUs without a node are shown"
expect_out "^offline CPUs \(7\): 0-3,21-23$" "offline CPUs"
expect_out "^   1  5,7,9,11,13,15, " "node 1's list wraps at a comma"
expect_out "^      17,19$" "and goes on below"
columns_hold "offline-cpu0-node0"

# A saved root without distance files, and one with a broken row.
cp -r "$fx" "$TMP/nodist"
rm -f "$TMP"/nodist/sys/devices/system/node/node*/distance
run topology --sysfs "$TMP/nodist"; expect_rc 0 "no distance files"
expect_out "^distances: assuming 10 local, 20 remote \(sysfs has no node distance files\)$" "says sysfs has none"
cp -r "$(fixture 64amd64-4s2n4ca2co)" "$TMP/baddist"
echo "10 16 x" >"$TMP/baddist/sys/devices/system/node/node3/distance"
run topology --sysfs "$TMP/baddist"; expect_rc 0 "a broken distance row is not fatal"
expect_out "^distances:" "distance section"
if grep -q "given by the firmware" "$TMP/out"; then not_ok "broken row: no false reason"; else ok "broken row: no false reason"; fi
if grep -q "^distances: assuming" "$TMP/out"; then
  expect_out "^distances: assuming 10 local, 20 remote \(sysfs node3/distance is not a row" "the reason names the broken file"
else ok "hwloc kept its matrix"; fi

# Other sources say which source gave none.
run topology --libvirt test:///default; expect_rc 0 "libvirt test driver"
expect_out "^distances: assuming 10 local, 20 remote \(libvirt gives no <distances>\)$" "libvirt: the reason"
run topology --json "$NP_SRC/tests/data/json/minimal.json"
expect_out "^distances: assuming 10 local, 20 remote \(the json source gives none\)$" "json: the reason"

# Wide hosts keep their columns.
for f in 256ia64-64n2s2c 128ia64-17n4s2c 48amd64-4pa2n6c-sparse; do
  run topology --sysfs "$(fixture "$f")"; expect_rc 0 "$f"
  columns_hold "$f"
done
run topology --json "$NP_SRC/tests/data/json/interleaved.json"; expect_rc 0 "interleaved CPU numbering"
columns_hold "interleaved"
expect_out "^   0  0,2,4,6,8,10,12, unknown / 256\.0 GiB" "node 0 starts its list in the column"
expect_out "^      \.\.\. \(128 CPUs\)$" "a list longer than 4 lines ends with the count"
expect_out "^      35,37,39$" "a shorter one is shown whole"
expect_out "^   2  300,302          unknown / 1\.0 GiB" "short lists are as before"
finish
