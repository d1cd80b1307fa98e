#!/usr/bin/env bash
# tests/service/flavors.sh - `numaplace serve --flavors FILE`: every
# placement keeps room for the flavors the cloud sells (the catalogue,
# docs/formats/flavors.md, through np_fleet_sched_opts.flavors), and a bad
# catalogue is a bad configuration: exit 2, one line naming the file,
# before the server listens (a FIFO is refused, not waited on).
. "$(dirname "$0")/lib.sh"

# One host of two nodes, 4 CPUs and 4 GiB each (node n: CPUs 4n..4n+3).
small_host 2 4096 >"$TMP/h.json"
printf '%s' '[{"vcpus": 1, "memory_mb": 3072, "extra_specs": {"hw:cpu_policy": "dedicated"}}]' >"$TMP/cat3.json"

# A, then B, then G (dedicated CPUs): A (1 CPU, 512 MiB) takes node 0, B
# (2 CPUs, 2 GiB) node 1; G (1 CPU, 1 GiB) goes to node 0 when only the
# recent guests are the demand.  A catalogue selling 3 GiB guests, which
# now fit only on node 0 (3.5 GiB free there, 2 GiB on node 1), keeps
# node 0's room: G goes to node 1.
nodes_of_g() { # NAME SERVER-ARGS...: where A, B and G land on a new store NAME, e.g. "0 1 0"
  local name=$1 where="" id v m; shift
  svc_start "$name" --store "sqlite:$TMP/$name.db" --listen "unix:$TMP/$name.sock" --log /dev/null "$@" ||
    { echo "server did not start"; return; }
  SVC=unix:$TMP/$name.sock
  http PUT /v1/hosts/h1 "$TMP/h.json"
  for g in a:1:512 b:2:2048 g:1:1024; do
    IFS=: read -r id v m <<<"$g"
    printf '{"id": "%s", "flavor": {"vcpus": %d, "memory_mb": %d, "extra_specs": {"hw:cpu_policy": "dedicated"}}}' \
      "$id" "$v" "$m" >"$TMP/req.json"
    http POST /v1/placements "$TMP/req.json"
    where="$where${where:+ }$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["plan"]["cells"][0]["node"])' "$TMP/body" 2>/dev/null || echo "HTTP-$status")"
  done
  svc_stop "$name"
  echo "$where"
}
got=$(nodes_of_g plain)
if [ "$got" = "0 1 0" ]; then ok "without a catalogue: A node 0, B node 1, G node 0"
else not_ok "without a catalogue: want '0 1 0', got '$got'"; fi
got=$(nodes_of_g catalogue --flavors "$TMP/cat3.json")
if [ "$got" = "0 1 1" ]; then ok "--flavors with 3 GiB guests keeps node 0's room: G on node 1"
else not_ok "--flavors: want '0 1 1', got '$got'"; fi

# Bad catalogues: exit 2 and one line naming the file, nothing served.
bad_catalogue() { # WHAT FILE PATTERN
  run serve --store "sqlite:$TMP/bad.db" --listen "unix:$TMP/bad.sock" --flavors "$2"
  expect_rc 2 "$1"; expect_one_line_err "$1"; expect_err "$3" "$1: the file and the problem are named"
  if [ -e "$TMP/bad.sock" ]; then not_ok "$1: a socket was made"; else ok "$1: nothing listens"; fi
}
bad_catalogue "a missing catalogue" "$TMP/none.json" "none\\.json.*no such file"
printf '[{' >"$TMP/badjson.json"
bad_catalogue "a catalogue that is not JSON" "$TMP/badjson.json" "badjson\\.json.*line"
printf '%s' '[{"vcpus": 1, "memory_mb": 1, "ram": 2}]' >"$TMP/badkey.json"
bad_catalogue "a catalogue with an unknown key" "$TMP/badkey.json" "badkey\\.json.*unknown key 'ram'"
mkfifo "$TMP/fifo.json"
bad_catalogue "a FIFO as the catalogue" "$TMP/fifo.json" "fifo\\.json.*not a regular file"
# It steers every placement: only a file no one else may write is trusted.
ln -s "$TMP/cat3.json" "$TMP/link.json"
bad_catalogue "a catalogue through a symbolic link" "$TMP/link.json" "link\\.json.*symbolic link"
cp "$TMP/cat3.json" "$TMP/open.json"; chmod 666 "$TMP/open.json"
bad_catalogue "a catalogue anyone may write" "$TMP/open.json" "open\\.json.*writable by others \\(mode 0666\\)"
if [ "$(id -u)" = 0 ]; then
  cp "$TMP/cat3.json" "$TMP/theirs.json"; chown 65534 "$TMP/theirs.json"
  bad_catalogue "another user's catalogue" "$TMP/theirs.json" "theirs\\.json.*owned by uid 65534"
fi
finish
