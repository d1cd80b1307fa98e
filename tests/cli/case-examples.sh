#!/usr/bin/env bash
# tests/cli/case-examples.sh - the Nova cases we ship and document answer,
# and agree with Nova (tests/nova/case_examples.py); host.distances is
# used when it is a matrix over the cells and ignored (as Nova ignores it)
# otherwise, never refused; --case --explain adds "reasons" to each answer.
. "$(dirname "$0")/lib.sh"
data=$NP_SRC/tests/data/nova
py=/usr/bin/python3; [ -x "$py" ] || py=python3

"$py" "$NP_SRC/tests/nova/case_examples.py" --numaplace "$NUMAPLACE" >"$TMP/ex" 2>&1
sed -n '/ - /p; /^#/p' "$TMP/ex"
passed=$(sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1/p' "$TMP/ex")
failed=$(sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\2/p' "$TMP/ex")
[ -n "$passed" ] || { passed=0; failed=1; echo "not ok - case_examples.py ran"; }

# field KEY: a field of the last answer, as Python prints it
field() { "$py" -c 'import json,sys; a = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$TMP/out" "$1"; }

run place --case "$data/case-format-example.json"
expect_rc 2 "CASE_FORMAT.md's example: Nova refuses its request, so do we"
expect_out '"code": "image_page_size_forbidden"' "with Nova's reason (MemoryPageSizeForbidden)"
if grep -q "cannot load" "$TMP/err"; then not_ok "its one-cell host with a 2x2 distances matrix loads"; else ok "its one-cell host with a 2x2 distances matrix loads"; fi

run place --case "$data/distances-3cells.json"; expect_rc 0 "a matrix over the cells"
[ "$(field '[c["host_cell"] for c in a["cells"]]')" = "[0, 2]" ] && ok "is used: the close cells 0 and 2" || not_ok "the close cells 0 and 2: $(field 'a["cells"]')"
[ "$(field '"reasons" in a')" = False ] && ok "no \"reasons\" without --explain" || not_ok "\"reasons\" without --explain"
run place --case "$data/distances-wrong-shape.json"; expect_rc 0 "a 2x2 matrix for 3 cells is no reason to refuse"
[ "$(field '[c["host_cell"] for c in a["cells"]]')" = "[0, 1]" ] && ok "it is ignored: 10/20, lowest ids" || not_ok "ignored: $(field 'a["cells"]')"

run place --case "$data/distances-3cells.json" --explain; expect_rc 0 "--case --explain"
expect_out '"reasons": \[' "each answer has \"reasons\""
expect_out 'why not \{0,1\}: distance 30' "saying why the far pair lost"
run place --case "$data/case-format-example.json" --explain; expect_rc 2 "--explain with an invalid request"
run place --case "$data/distances-3cells.json" --format json; expect_rc 2 "--case with --format"
expect_err "only --strategy and --explain go with it" "the usage error names what goes with --case"
finish
