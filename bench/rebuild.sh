#!/usr/bin/env bash
# bench/rebuild.sh BUILD [BUILD...] - what one host's refresh costs a
# scheduler in CPU time (bench/rebuild-bench.c; docs/bench/service.md):
# a SQLite fleet of HOSTS hosts (default 1,000, 8 nodes, 60 % filled with
# fleet-bench's mixed guests: pins, 2 MiB pages, PCI devices) loaded once
# by the first BUILD, then each BUILD's rebuild-bench over it in turn,
# RUNS times (default 3) of ROUNDS passes (default 5).  Prints a JSON line
# per build and run (ns of CPU per host: clone, load, rebuild, reload),
# then the load average.  Another commit's build (say main's) needs
# bench/rebuild-bench.c and its meson.build entry copied into its tree.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 1 ] || { echo "usage: bench/rebuild.sh BUILD [BUILD...]" >&2; exit 2; }
for b in "$@"; do
  [ -x "$b/bench/rebuild-bench" ] || { echo "no $b/bench/rebuild-bench: ninja -C $b" >&2; exit 2; }
done
hosts=${HOSTS:-1000} rounds=${ROUNDS:-5} runs=${RUNS:-3}
dir=$(mktemp -d /tmp/np-rebuild-bench-XXXXXX)
trap 'rm -rf "$dir"' EXIT
"$1/bench/fleet-bench" load "sqlite:$dir/fleet.db" "$hosts" 1 60 >/dev/null
for r in $(seq "$runs"); do
  for b in "$@"; do
    printf '{"build": "%s", "run": %d, ' "$b" "$r"
    "$b/bench/rebuild-bench" "sqlite:$dir/fleet.db" "$rounds" | sed 's/^{//'
  done
done
echo "# load average $(cut -d' ' -f1-3 /proc/loadavg)"
