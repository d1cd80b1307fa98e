#!/usr/bin/env bash
# tests/cli/examples.sh - every example printed anywhere runs as written:
# the "Example(s):" of `numaplace VERB --help` (every verb `numaplace
# --help` lists), the EXAMPLES section of every man page in docs/man/
# (its numaplace commands, and its curl(1) requests: sent with --fail to a
# server on a store that holds host-1, so an HTTP error fails them), and
# every command line of README.md's ```sh blocks.
#
# Each example runs with bash in a fresh work directory holding what it
# names: `numaplace` is the built tool (on PATH, and as build/cli/numaplace
# for README's lines), and the placeholder files of PLACEHOLDER below are
# made there (absolute ones such as /tmp/dump under the work directory, the
# only change made to an example's text).  It must exit 0.  RULES says,
# for the examples that need what this machine may not have (several NUMA
# nodes, libvirtd, a running guest) or that must not touch this machine
# (its /run/numaplace, its guests), under which condition each runs here,
# or why it does not; every such line is printed with its reason.
#
# A new verb's examples run without a change here; a new placeholder file
# is one line in PLACEHOLDER.  An example that fails prints its command,
# exit status, stdout and stderr.
. "$(dirname "$0")/lib.sh"
need hwloc
need libvirt
need runtime
need sim

FX=$(fixture 64amd64-4s2n4ca2co) || { echo "not ok - unpack the 64amd64 fixture"; exit 1; }
"$NUMAPLACE" topology --sysfs "$FX" --format json -o "$TMP/host.json" ||
  { echo "not ok - make host.json"; exit 1; }
mkdir -p "$TMP/bin"
ln -s "$NUMAPLACE" "$TMP/bin/numaplace"

# A process standing in for a running QEMU guest; pidof names it.
sleep infinity &
GUEST=$!
# Servers the placeholders start (their `timeout 300` pids, which pass a
# signal on) end with the test, not 300 s after.
trap 'kill "$GUEST" $(cat "$TMP/servers" 2>/dev/null) 2>/dev/null; rm -rf "$TMP"' EXIT
real_pidof=$(command -v pidof || echo /bin/pidof)
cat >"$TMP/bin/pidof" <<EOF
#!/bin/sh
[ "\$*" = qemu-system-x86_64 ] && { echo $GUEST; exit 0; }
exec $real_pidof "\$@"
EOF
chmod +x "$TMP/bin/pidof"

# The make-room host's claims (tests/cli/moves.sh), made once: node 0 holds
# A and B, node 1 C and E (arranged by strategy alone: --no-demand); a
# guest of 4 CPUs and 8 GiB fits only after E moves (room-plan.json: that plan).
room_host="$NP_SRC/tests/data/json/make-room-2n.json"
room_flavor=hw:cpu_policy=dedicated
{ "$NUMAPLACE" claim --state "$TMP/room.state" --id A --host "$room_host" --flavor "vcpus=4,ram=8192,$room_flavor" --strategy pack --no-demand &&
  "$NUMAPLACE" claim --state "$TMP/room.state" --id B --host "$room_host" --flavor "vcpus=2,ram=4096,$room_flavor" --strategy pack --no-demand &&
  "$NUMAPLACE" claim --state "$TMP/room.state" --id C --host "$room_host" --flavor "vcpus=4,ram=8192,$room_flavor" --no-demand &&
  "$NUMAPLACE" claim --state "$TMP/room.state" --id E --host "$room_host" --flavor "vcpus=2,ram=2048,$room_flavor" --no-demand &&
  "$NUMAPLACE" place --state "$TMP/room.state" --host "$room_host" --flavor "vcpus=4,ram=8192,$room_flavor" \
    --allow-moves 1 --format json >"$TMP/room-plan.json"; } >/dev/null ||
  { echo "not ok - make the make-room state"; exit 1; }

# ---- placeholder files: one line each -----------------------------------
# NAME (as the example writes it) -> how to make it at "$dest".
declare -A PLACEHOLDER=(
  [host.json]='cp "$TMP/host.json" "$dest"'                                  # 8 nodes: the 64amd64 fixture
  [caps.xml]='cp "$NP_SRC/tests/data/libvirt/host-4cell.xml" "$dest"'        # virsh capabilities
  [host.xml]='lstopo-no-graphics -i "$FX" --of xml "$dest" 2>/dev/null'      # lstopo --of xml
  [xl-info.txt]='cp "$NP_SRC/tests/data/xl/kaindl-2node.txt" "$dest"'        # xl info -n
  [case.json]='cp "$NP_SRC/tests/data/nova/distances-3cells.json" "$dest"'   # a Nova case
  [host.state]='numaplace claim --state "$dest" --id vm-7 --host "$TMP/host.json" --flavor vcpus=4,ram=8192 >/dev/null'
  [plan.json]='numaplace place --flavor vcpus=1,ram=256 --format json >"$dest"'  # a plan for this machine
  [my.json]='numaplace simulate --show bursty >"$dest"'                     # an experiment
  [balance.json]='cp "$NP_SRC/tests/data/runtime/balance-policy.json" "$dest"'
  [/etc/numaplace/balance.json]='cp "$NP_SRC/tests/data/runtime/balance-policy.json" "$dest"'
  [/tmp/dump]='ln -s "$FX" "$dest"'                                           # hwloc-gather-topology
  [/tmp/sysfs-dump]='ln -s "$FX" "$dest"'
  [/var/lib/numaplace/host.json]=':'                                          # a state file, made by claim
  [shared.json]='numaplace gen shared --seed 7 --ratio 4 --guests 6 -o "$dest"'  # a workload (gen)
  [./server]='printf "#!/bin/sh\nexit 0\n" >"$dest" && chmod +x "$dest"'      # a program to start
  [room.json]='cp "$NP_SRC/tests/data/json/make-room-2n.json" "$dest"'       # make-room: a guest fits after a move
  [room.state]='cp "$TMP/room.state" "$dest"'                                # its claims A, B, C, E
  [room-plan.json]='cp "$TMP/room-plan.json" "$dest"'                         # D's plan: E moves first
  [vm.xml]='cp "$NP_SRC/tests/data/libvirt/domain-virt-install.xml" "$dest"'  # virsh dumpxml
  [vm.cfg]='cp "$NP_SRC/tests/data/xl/guest-pv.cfg" "$dest"'                  # /etc/xen/NAME.cfg
  [flavors.json]='cp "$NP_SRC/tests/data/json/flavors.json" "$dest"'         # a flavor catalogue
  [token]='printf "%s\n" example-token-0123456789 >"$dest" && chmod 600 "$dest"'  # serve --token-file
  [fleet.db]='numaplace fleet add --store "sqlite:$dest" --name host-1 --host "$TMP/host.json"'  # a fleet store
  # serve's curl examples: a server on a store holding host-1 (host.json); not for the serve examples themselves, which make this socket
  [numaplace.sock]='case $cmd in curl\ *) numaplace fleet add --store "sqlite:$dest.db" --name host-1 --host "$TMP/host.json" && { timeout 300 numaplace serve --store "sqlite:$dest.db" --listen "unix:$dest" >"$dest.log" 2>&1 & echo $! >>"$TMP/servers"; }; i=0; while ! grep -q "serving on" "$dest.log" 2>/dev/null && [ $i -lt 1200 ]; do sleep 0.1; i=$((i + 1)); done ;; esac'
  [/run/numaplace/api.sock]='{ timeout 300 numaplace serve --store "sqlite:${dest%/*}/agent.db" --listen "unix:$dest" >/dev/null 2>&1 & echo $! >>"$TMP/servers"; }; i=0; while [ ! -S "$dest" ] && [ $i -lt 1200 ]; do sleep 0.1; i=$((i + 1)); done'  # a running service, for the agent (up to 120 s to start: a loaded machine)
)

# ---- conditions ---------------------------------------------------------
# "ERE @@ MODES @@ WHY", first match wins; the ERE is matched against the
# example's text.  MODES, separated by commas:
#   fixture       this machine is the 8-node fixture (hwloc's HWLOC_FSROOT),
#                 so the answer does not depend on where the test runs
#   sub:OLD>NEW   run with OLD replaced by NEW (each "sub:" separated by ";")
#   node:N        needs kernel NUMA node N here; else not run
#   timeout:S     runs until interrupted: killed after S seconds (exit 124)
#   skip          not run here
#   run           as written (a rule that keeps a later one from matching)
RULES=(
  '^curl  @@ sub:curl >curl --fail  @@ a request to a running server: --fail, so that an HTTP error answer fails it'
  '^scripts/setup\.sh @@ skip @@ installs Debian packages as root and rebuilds (CI runs it on a fresh machine)'
  'serve .*postgresql @@ skip @@ needs the PostgreSQL server its URL names (tests/service/api.sh postgresql serves a real one)'
  'serve .*--listen 127\.0\.0\.1:8774 @@ timeout:3,sub:127.0.0.1:8774>127.0.0.1:0 @@ serves until stopped: killed after 3 s; port 0, so that it never meets a port in use'
  'serve --store @@ timeout:3 @@ serves until stopped: killed after 3 s'
  '^scripts/test\.sh @@ skip @@ runs every test suite, this one among them'
  'agent --server http://127\.0\.0\.1:8080 @@ skip @@ needs a service on TCP port 8080 of this machine holding that token; tests/agent/agent.sh runs the agent over loopback TCP with a token'
  '--domain web1.*--affinity soft @@ sub:qemu:///system>test:///default;--domain web1>--domain test --run-dir run @@ web1 is a placeholder: the test driver domain "test" stands in, and --run-dir keeps this machine'"'"'s /run/numaplace untouched'
  '--domain web1 @@ sub:qemu:///system>test:///default;--domain web1>--domain test @@ web1 is a placeholder: libvirt'"'"'s test driver domain "test" stands in'
  '--pid 4242 --nodes 1 @@ node:1 @@ acts on node 1 of this machine'
  '--nodes 1 .* --  @@ node:1 @@ starts a program on node 1 of this machine'
  'balance --interval [0-9]+ --count @@ run @@ stops by itself'
  'balance --interval [0-9]+( |$) @@ timeout:4,sub:numaplace balance >numaplace balance --run-dir run  @@ balances every second until interrupted; --run-dir gives it none of this machine'"'"'s guests'
  'balance --once --pid @@ sub:numaplace balance >numaplace balance --run-dir run  @@ the stand-in guest has no preference: --run-dir keeps this machine'"'"'s /run/numaplace out of it'
  'balance --once$ @@ sub:numaplace balance >numaplace balance --run-dir run  @@ acts on this machine'"'"'s recorded guests: --run-dir gives it none of them'
  'watch --libvirt qemu:///system @@ timeout:3,sub:qemu:///system>test:///default @@ watches until interrupted: stopped after 3 s, libvirt'"'"'s test driver standing in for libvirtd'
  'qemu:///system @@ sub:qemu:///system>test:///default @@ libvirt'"'"'s test driver stands in for this machine'"'"'s libvirtd, so the answer does not depend on where the test runs'
  '(^| )(numaplace|build/cli/numaplace) ((place|claim) (-|--flavor|--state|--id)|state show|topology --state) @@ fixture @@ reads "this machine"'
)

# Which rule, if any, an example falls under: sets rule_mode, rule_why.
pick_rule() {
  local r re
  rule_mode= rule_why=
  for r in "${RULES[@]}"; do
    re=${r%% @@ *}
    if [[ $1 =~ $re ]]; then
      r=${r#* @@ }; rule_mode=${r%% @@ *}; rule_why=${r#* @@ }
      # "this machine" rules do not apply to examples that name a host.
      if [ "$rule_mode" = fixture ] && [[ $1 =~ --(host|sysfs|json|xl|libvirt|libvirt-xml|hwloc-xml|source|case)[\ =] ]]; then
        rule_mode= rule_why=; continue
      fi
      return
    fi
  done
}

fail_line() { failed=$((failed + 1)); echo "not ok - $1"; }

# ---- the examples -------------------------------------------------------
# Each is "SOURCE<TAB>COMMAND" on one line of $TMP/examples.

# --help: the lines after "Example:"/"Examples:", continuations joined.
help_examples() {
  local verb
  for verb in $("$NUMAPLACE" --help | awk '/^Verbs:/ { v = 1; next } v && /^  [a-z]/ { print $1 } v && /^$/ { v = 0 }'); do
    "$NUMAPLACE" "$verb" --help | awk -v src="help $verb" '
      /^Examples?:$/ { ex = 1; next }
      ex && /^[^ ]/ { ex = 0 }
      ex && /^ +numaplace / || (ex && cont) {
        line = $0; sub(/^ +/, "", line)
        cmd = cont ? cmd " " line : line
        cont = sub(/ *\\$/, "", cmd)
        if (!cont) print src "\t" cmd
      }'
  done
}

# docs/man/*.1: the numaplace and curl lines of EXAMPLES, roff undone.
man_examples() {
  local page
  for page in "$NP_SRC"/docs/man/*.1; do
    awk -v src="man $(basename "$page")" '
      /^\.SH / { ex = ($0 ~ /^\.SH EXAMPLES/); next }
      ex && /^\.(nf|fi|br|PP|RS|RE)/ { next }
      ex && /^\.\\"/ { next }
      ex && /^[a-z]/ && $0 ~ /^(numaplace|curl) / || (ex && cont) {
        line = $0
        gsub(/\\-/, "-", line); gsub(/\\\(aq/, "'"'"'", line); gsub(/\\\(dq/, "\"", line)
        gsub(/\\e/, "\\", line); gsub(/\\&/, "", line)
        cmd = cont ? cmd " " line : line
        cont = sub(/ *\\$/, "", cmd)
        if (!cont) print src "\t" cmd
      }' "$page"
  done
}

# README.md: every line of a ```sh block but comments; trailing "  # ..." cut.
readme_examples() {
  awk '
    /^```sh$/ { sh = 1; next }
    /^```/ { sh = 0; next }
    sh && !/^[ \t]*(#|$)/ {
      line = $0; sub(/[ \t][ \t]+#.*$/, "", line); sub(/[ \t]+$/, "", line)
      print "README.md\t" line
    }' "$NP_SRC/README.md"
}

help_examples >"$TMP/examples"
man_examples >>"$TMP/examples"
readme_examples >>"$TMP/examples"

# Every source has examples, every man page an EXAMPLES section with some.
for src in "help " "man " "README.md"; do
  n=$(grep -c "^$src" "$TMP/examples")
  [ "$n" -gt 0 ] && ok "$src: $n examples found" || fail_line "$src: no examples found"
done
for page in "$NP_SRC"/docs/man/*.1; do
  grep -q "^man $(basename "$page")	" "$TMP/examples" && ok "$(basename "$page") has EXAMPLES" ||
    fail_line "$(basename "$page") has no EXAMPLES section with a numaplace command"
done

# ---- running one --------------------------------------------------------

# Make the placeholders CMD names in WORK; print CMD with absolute ones moved there.
prepare() {
  local cmd=$1 work=$2 name dest
  for name in "${!PLACEHOLDER[@]}"; do
    if [[ $name == /* ]]; then
      [[ $cmd == *"$name"* ]] || continue
      dest=$work$name
      cmd=${cmd//"$name"/"$dest"}
    else
      [[ " $cmd " =~ [\ \'\"=\<\>:@]"$name"[\ \'\"] ]] || continue  # sqlite:fleet.db, curl's @host.json
      dest=$work/$name
    fi
    mkdir -p "$(dirname "$dest")"
    (cd "$work" && PATH="$TMP/bin:$PATH" eval "${PLACEHOLDER[$name]}") >/dev/null ||
      echo "# could not make placeholder $name" >&2
  done
  printf '%s\n' "$cmd"
}

# The same command in several places (help, man page, README with
# build/cli/numaplace) runs once; the others report its result.
declare -A DONE=()

n=0
while IFS=$'\t' read -r src example; do
  n=$((n + 1))
  key=${example//build\/cli\/numaplace/numaplace}
  if [ -n "${DONE[$key]:-}" ]; then
    if [[ ${DONE[$key]} == ok* ]]; then ok "[$src] $example (as ${DONE[$key]#ok })"
    elif [[ ${DONE[$key]} == skip* ]]; then echo "skip - [$src] $example (as ${DONE[$key]#skip })"
    else fail_line "[$src] $example (as ${DONE[$key]#fail })"; fi
    continue
  fi
  work=$TMP/ex$n
  mkdir -p "$work/build/cli" "$work/run"
  ln -s "$NUMAPLACE" "$work/build/cli/numaplace"
  pick_rule "$example"
  cmd=$example env=() secs=120 want=0 note= skip=
  IFS=',' read -ra modes <<<"$rule_mode"
  for mode in "${modes[@]}"; do
    case $mode in
      skip) skip="$rule_why" ;;
      node:*)
        [ -d "/sys/devices/system/node/node${mode#node:}" ] ||
          skip="$rule_why, which has none (tests/vm/runtime.sh runs apply on a 4-node kernel)"
        cmd=${cmd//--pid 4242/--pid $GUEST} ;;
      fixture) env=(HWLOC_FSROOT="$FX" HWLOC_COMPONENTS=linux,stop) ;;
      sub:*)
        IFS=';' read -ra subs <<<"${mode#sub:}"
        for s in "${subs[@]}"; do cmd=${cmd//"${s%%>*}"/"${s#*>}"}; done ;;
      timeout:*) secs=${mode#timeout:}; want=124 ;;
    esac
  done
  if [ -n "$skip" ]; then
    echo "skip - [$src] $example: $skip"; DONE[$key]="skip [$src]"; continue
  fi
  [ "$rule_mode" = fixture ] && note=" ($rule_why: the 8-node fixture 64amd64 stands in)"
  [[ $rule_mode == *sub:* || $rule_mode == timeout:* ]] && note=" ($rule_why)"
  [ "$want" = 124 ] && note="${note%)}: stopped after $secs s)"
  [[ $cmd =~ pidof\ qemu-system-x86_64 ]] && note="$note (a sleeping process stands in for the QEMU guest)"
  cmd=$(prepare "$cmd" "$work")
  last_args="[$src] $cmd"
  (cd "$work" && env "${env[@]}" PATH="$TMP/bin:$PATH" timeout -k 2 "$secs" bash -c "$cmd") \
    >"$TMP/out" 2>"$TMP/err" </dev/null
  rc=$?
  if [ "$rc" -eq "$want" ] && ! grep -q "internal error" "$TMP/err"; then
    ok "[$src] $example$note"; DONE[$key]="ok [$src]"
  else
    DONE[$key]="fail [$src]"
    failed=$((failed + 1))
    echo "not ok - [$src] $example$note: exit $rc, want $want"
    echo "  ran: $cmd"
    echo "  stdout: $(head -c 400 "$TMP/out")"
    echo "  stderr: $(head -c 400 "$TMP/err")"
  fi
done <"$TMP/examples"
finish
