#!/usr/bin/env bash
# tests/cli/simulate.sh - `numaplace simulate` end to end: help and usage,
# built-in experiments, experiment files (good and bad), every format, the
# host replaced by a topology source, the same result from the same seed.
# Simulated durations are short: the whole script takes seconds.  JSON is
# read with python3's json module.
. "$(dirname "$0")/lib.sh"
need sim

# pyjson FILE EXPR: true when the Python expression EXPR holds for the JSON
# document d of FILE.
pyjson() {
  python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
sys.exit(0 if eval("(" + sys.argv[2] + ")") else 1)' "$1" "$2" 2>/dev/null
}
# pyedit IN OUT STATEMENT: run STATEMENT on the JSON document d of IN, write OUT.
pyedit() {
  python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
exec(sys.argv[3])
json.dump(d, open(sys.argv[2], "w"), indent=1)' "$1" "$2" "$3"
}
# noperf FILE: the document without its "perf" member, keys sorted.
noperf() {
  python3 -c 'import json, sys
d = json.load(open(sys.argv[1])); d.pop("perf", None)
print(json.dumps(d, sort_keys=True))' "$1"
}

run --help;                  expect_out "simulate" "--help lists the simulate verb"
run help simulate;           expect_rc 0 "help simulate"; expect_out "^usage: numaplace simulate" "usage"
run simulate --help;         expect_rc 0 "simulate --help"; expect_out "stuck-vcpus" "usage lists the built-ins"
run simulate;                expect_rc 2 "no experiment"; expect_one_line_err "no experiment"
run simulate --bogus;        expect_rc 2 "unknown option"; expect_one_line_err "unknown option"
run simulate lpc2012 --format xml; expect_rc 2 "unknown format"; expect_err "unknown format 'xml'" "names the format"
run simulate lpc2012 extra;  expect_rc 2 "stray argument"
run simulate lpc2012 --set nokey; expect_rc 2 "--set without ="
run simulate lpc2012 --threads 0; expect_rc 2 "--threads 0"
run simulate nowhere-experiment; expect_rc 2 "neither a file nor a built-in"; expect_one_line_err "unknown experiment"
expect_err "nowhere-experiment" "names it"

run simulate --list;         expect_rc 0 "--list"; expect_out "^lpc2012 " "lists lpc2012"
expect_out "^stuck-vcpus " "lists stuck-vcpus"
run simulate --constants;    expect_rc 0 "--constants"; expect_out "^smt_factor " "lists smt_factor"
expect_out "^remote_latency_scale +1 " "remote latency scale defaults to 1 (local x distance/10)"
run simulate --show lpc2012; expect_rc 0 "--show"; expect_out "numaplace.experiment/1" "prints the JSON"
cp "$TMP/out" "$TMP/lpc.json"

# A built-in, shortened, as text and JSON.
short=(--set duration_s=2 --set repetitions=2 --set guest_counts=2,6,10)
run simulate lpc2012 "${short[@]}"; expect_rc 0 "lpc2012 short"
expect_out "^2 guests +auto-pinning " "a row per case and configuration"
expect_out "^gain over all-cpus" "gains table"; expect_out "published" "published gains shown"
run simulate lpc2012 "${short[@]}" --format json -o "$TMP/a.json"; expect_rc 0 "json to a file"
if pyjson "$TMP/a.json" 'd["experiment"] == "lpc2012" and len(d["rows"]) == 9 and all(
     isinstance(r["guests"], int) and r["config"] in ("all-cpus", "auto-pinning", "auto-affinity")
     and isinstance(r["throughput_mean"], float) and isinstance(r["throughput_stddev"], float)
     for r in d["rows"])'; then ok "json rows have guests, config, throughput_mean, throughput_stddev"
else not_ok "json rows"; fi
if pyjson "$TMP/a.json" 'len([g for g in d["gains"] if "published" in g]) == 3'; then
  ok "three published gains compared"; else not_ok "published gains in json"; fi
if pyjson "$TMP/a.json" 'all(r["remote_fraction"] == 0 for r in d["rows"] if r["config"] == "auto-pinning")'; then
  ok "pinned guests never touch remote memory"; else not_ok "pinned remote fraction"; fi

# Same seed, same result (perf aside); another seed, another result.
run simulate lpc2012 "${short[@]}" --format json --threads 1 -o "$TMP/b.json"
if [ "$(noperf "$TMP/a.json")" = "$(noperf "$TMP/b.json")" ]; then
  ok "same seed, same result, with 1 or 2 threads"; else not_ok "determinism"; fi
run simulate lpc2012 "${short[@]}" --set seed=99 --format json -o "$TMP/c.json"
if [ "$(noperf "$TMP/a.json")" != "$(noperf "$TMP/c.json")" ]; then
  ok "another seed, another result"; else not_ok "seed has no effect"; fi

# SVG plots.
run simulate lpc2012 "${short[@]}" --format svg -o "$TMP/a.svg"; expect_rc 0 "svg"
if [ "$(grep -o 'class="series"' "$TMP/a.svg" | wc -l)" -eq 6 ] && grep -q '</svg>' "$TMP/a.svg"; then
  ok "svg: a throughput line and a timeline per configuration"; else not_ok "svg series"; fi
if command -v xmllint >/dev/null; then
  if xmllint --noout "$TMP/a.svg" 2>/dev/null; then ok "svg is well-formed XML"; else not_ok "svg XML"; fi
fi

# An experiment file, and the same on another host from a topology source.
run simulate "$TMP/lpc.json" --set duration_s=1 --set repetitions=1 --set guest_counts=2
expect_rc 0 "a saved experiment file"
run simulate "$TMP/lpc.json" --json "$NP_SRC/tests/data/json/full.json" --set duration_s=1 \
    --set repetitions=1 --set guest_counts=4
expect_rc 0 "--json host"; expect_out "^host: 2 nodes, 7 pCPUs" "runs on the given host (one CPU offline)"
if have hwloc; then
  root=$(fixture 64amd64-4s2n4ca2co)
  run simulate bursty --sysfs "$root" --set duration_s=1 --set repetitions=1; expect_rc 0 "--sysfs host"
  expect_out "^host: 8 nodes, 64 pCPUs" "runs on a 64-CPU sysfs fixture"
fi

# Bad experiment files: exit 2, one line naming the file and the JSON path.
bad() { # NAME PYTHON-EDIT NEEDLE
  pyedit "$TMP/lpc.json" "$TMP/$1.json" "$2"
  run simulate "$TMP/$1.json"; expect_rc 2 "$1"; expect_one_line_err "$1"
  expect_err "$1.json" "$1: names the file"; expect_err "$3" "$1: says where"
}
bad vcpus 'd["guests"][0]["vcpus"] = "many"' "guests\[0\]\.vcpus: expected an integer"
bad unknownkey 'd["guests"][0]["vpcus"] = 2' "guests\[0\]: unknown key 'vpcus'"
bad workload 'd["guests"][0]["workload"] = "nope"' "guests\[0\]\.workload: no workload 'nope'"
bad placement 'd["configs"][1]["placement"] = "pinned"' "configs\[1\]\.placement: 'pinned' is none of"
bad model 'd["model"] = {"smt_factor": -1}' "model\.smt_factor"
bad baseline 'd["baseline"] = "none"' "baseline: no configuration 'none'"
bad schema 'd["schema"] = "x"' "schema"
bad nohost 'del d["host"]' "host"
printf '{"schema": "numaplace.experiment/1",\n "name": ' >"$TMP/trunc.json"
run simulate "$TMP/trunc.json"; expect_rc 2 "truncated JSON"; expect_one_line_err "truncated"
expect_err "line 2" "truncated: names the line"
printf '\0\1\2garbage' >"$TMP/garbage.json"
run simulate "$TMP/garbage.json"; expect_rc 2 "garbage"; expect_one_line_err "garbage"
run simulate "$TMP"; expect_rc 2 "a folder"; expect_one_line_err "a folder"
run simulate lpc2012 --set model.smt_factor=9; expect_rc 2 "--set out of range"
expect_err "model.smt_factor" "names the key"; expect_one_line_err "--set out of range"
pyedit "$TMP/lpc.json" "$TMP/big.json" 'd["guests"][0]["memory_mb"] = 100000' 
run simulate "$TMP/big.json" --set duration_s=1 --set repetitions=1
expect_rc 2 "a guest that does not fit"; expect_err "do not fit" "says it does not fit"

# The stuck vCPUs, shortened: stuck under credit1, home under numaplace.
"$NUMAPLACE" simulate --show stuck-vcpus >"$TMP/stuck-base.json"
pyedit "$TMP/stuck-base.json" "$TMP/stuck.json" 'd.update(measure_from_s=10, duration_s=14,
  repetitions=3, events=[{"at_s": 2, "action": "pause", "guest": "A"},
  {"at_s": 4, "action": "unpause", "guest": "A"}, {"at_s": 4, "action": "pause", "guest": "B"}])'
run simulate "$TMP/stuck.json" --format json -o "$TMP/stuck.out.json"; expect_rc 0 "stuck-vcpus short"
if pyjson "$TMP/stuck.out.json" '[r["outside_vcpus"] for r in d["rows"] if r["config"] == "credit1"][0] >= 2
     and [r["outside_vcpus"] for r in d["rows"] if r["config"] == "numaplace"][0]
       < [r["outside_vcpus"] for r in d["rows"] if r["config"] == "credit1"][0] / 2'; then
  ok "credit1 leaves vCPUs stuck outside, numaplace brings them home"
else not_ok "stuck vCPUs: $(noperf "$TMP/stuck.out.json" | head -c 300)"; fi
finish
