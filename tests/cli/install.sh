#!/usr/bin/env bash
# tests/cli/install.sh - `meson install` into a temporary DESTDIR, then the
# installed tool run from there, and every other part checked: headers and
# pkg-config file (a program built with them), a man page for every verb
# that `man` finds, the bash completion where bash-completion loads it.  The prefix is not real, so
# LD_LIBRARY_PATH points at the DESTDIR's libdir, as a package under test
# would be run; the library then finds its modules in libdir/numaplace/
# beside itself (lib/module/module.h), never in the build tree: taking a
# module out of the DESTDIR must make its source unsupported.
. "$(dirname "$0")/lib.sh"
: "${NP_BUILD:?NP_BUILD must name the build dir}"

dest="$TMP/dest"

# Headers and pkg-config: every public header, and a program built with
# `pkg-config --cflags --libs numaplace` alone runs on the installed library.
installed_headers() {
  local h inc prefix pc out
  inc=$(find "$dest" -type d -path '*/include/numaplace' | head -n 1)
  for h in "$NP_SRC"/include/numaplace/*.h version.h; do
    h=$(basename "$h")
    [ -f "$inc/$h" ] || { not_ok "header numaplace/$h installed"; return; }
  done
  ok "every public header installed in includedir/numaplace"
  [ -f "$libdir/libnumaplace.a" ] && [ -L "$libdir/libnumaplace.so" ] &&
    ok "libnumaplace.a and the libnumaplace.so link installed" || not_ok "libnumaplace.a and libnumaplace.so"
  pc=$libdir/pkgconfig/numaplace.pc
  [ -f "$pc" ] || { not_ok "pkgconfig/numaplace.pc installed"; return; }
  ok "pkgconfig/numaplace.pc installed"
  cat >"$TMP/prog.c" <<'C'
#include <stdio.h>
#include <string.h>
#include <numaplace/numaplace.h>
int main(void)
{
	printf("%s %s\n", np_version(), NP_VERSION_STRING);
	return strcmp(np_version(), NP_VERSION_STRING) != 0;
}
C
  # A sanitized build's library needs the program sanitized too (its runtime first).
  local san
  san=$(meson introspect --buildoptions "$NP_BUILD" |
        python3 -c 'import json,sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"] == "b_sanitize"))')
  [ "$san" = none ] && san= || san=-fsanitize=$san
  # shellcheck disable=SC2046 # pkg-config's words, split on purpose
  if cc $san -o "$TMP/prog" "$TMP/prog.c" $(PKG_CONFIG_PATH="$libdir/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$dest" \
       pkg-config --cflags --libs numaplace) 2>"$TMP/cc.err" && out=$(LD_LIBRARY_PATH="$libdir" "$TMP/prog"); then
    ok "a program built with pkg-config numaplace runs on the installed library ($out)"
  else
    not_ok "a program built with pkg-config numaplace: $(head -c 300 "$TMP/cc.err")"
  fi
  prefix=$(PKG_CONFIG_PATH="$libdir/pkgconfig" pkg-config --variable=prefix numaplace)
  [ -n "$prefix" ] && [ -d "$dest$prefix/bin" ] && ok "pkg-config's prefix is the install's ($prefix)" ||
    not_ok "pkg-config's prefix '$prefix' is the install's"
  out=$(find "$dest" \( -type f -o -type l \) ! -path "$dest$prefix/*" | head -n 3)
  [ -z "$out" ] && ok "nothing installed outside the prefix" || not_ok "installed outside the prefix $prefix: $out"
}

# Man pages: numaplace(1) and one for every verb the installed tool lists,
# each read by man from the DESTDIR without a warning; the installed pages
# are docs/man/'s (whose EXAMPLES tests/cli/examples.sh runs) and links to them.
installed_man() {
  local man1 verb page missing="" err
  man1=$(find "$dest" -type d -path '*/share/man/man1' | head -n 1)
  [ -n "$man1" ] && [ -f "$man1/numaplace.1" ] || { not_ok "man1/numaplace.1 installed"; return; }
  for verb in $("$bin" --help | awk '/^Verbs:/ { v = 1; next } v && /^  [a-z]/ { print $1 } v && /^$/ { v = 0 }'); do
    [ -e "$man1/numaplace-$verb.1" ] || missing="$missing $verb"
  done
  [ -z "$missing" ] && ok "a man page for every verb installed" || not_ok "no man page installed for:$missing"
  for page in "$man1"/numaplace*.1; do
    if [ -L "$page" ]; then
      [ -f "$(dirname "$page")/$(readlink "$page")" ] || not_ok "$(basename "$page"): a dangling link"
    elif [ ! -f "$NP_SRC/docs/man/$(basename "$page")" ]; then
      not_ok "$(basename "$page") is not one of docs/man/ (examples.sh would not run its EXAMPLES)"
    fi
  done
  command -v man >/dev/null || { not_ok "man is not installed (man-db, scripts/setup.sh)"; return; }
  local bad=0
  for page in numaplace $(cd "$man1" && ls numaplace-*.1 | sed 's/\.1$//'); do
    if ! err=$(MANPATH="$(dirname "$man1")" MANWIDTH=80 man --warnings -P cat "$page" 2>&1 >"$TMP/man.out") ||
       [ -n "$err" ] || ! grep -q "^EXAMPLES" "$TMP/man.out"; then
      not_ok "man $page: $(head -c 300 <<<"$err")"; bad=1
    fi
  done
  [ "$bad" = 1 ] || ok "man finds every installed page and renders it without a warning, EXAMPLES included"
  MANPATH="$(dirname "$man1")" MANWIDTH=80 man -P cat numaplace >"$TMP/man.out" 2>&1
  grep -q "numaplace - NUMA placement for virtual machines" "$TMP/man.out" &&
    ok "man numaplace works after install" || not_ok "man numaplace: $(head -c 200 "$TMP/man.out")"
  MANPATH="$(dirname "$man1")" MANWIDTH=80 man -P cat numaplace-release >"$TMP/man.out" 2>&1
  grep -q "numaplace release --state" "$TMP/man.out" &&
    ok "man numaplace-release shows release (with claim)" || not_ok "man numaplace-release"
}

# The completion, where bash-completion looks (completions/numaplace under
# the prefix's datadir), sourced into bash and asked as bash would ask it.
installed_completion() {
  local file got want
  file=$(find "$dest" -path '*/share/bash-completion/completions/numaplace' | head -n 1)
  [ -f "$file" ] || { not_ok "bash completion installed in datadir/bash-completion/completions"; return; }
  ok "bash completion installed in datadir/bash-completion/completions"
  comp() { # WORDS...: what the completion offers for the last word
    PATH="$(dirname "$bin"):$PATH" bash -c '. "$1"; shift
      COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
      _numaplace; printf "%s\n" "${COMPREPLY[@]}" | sort | tr "\n" " "' _ "$file" "$@"
  }
  want=$("$bin" --help | awk '/^Verbs:/ { v = 1; next } v && /^  [a-z]/ { print $1 } v && /^$/ { v = 0 }' | sort | tr '\n' ' ')
  got=$(comp numaplace "")
  [ "$got" = "$(printf '%s\n' $want help --help --version | sort | tr '\n' ' ')" ] &&
    ok "completion: the verbs, help, --help, --version" || not_ok "completion: the verbs: '$got', want '$want'"
  got=$(comp numaplace pl); [ "$got" = "place " ] && ok "completion: pl -> place" || not_ok "completion: pl: '$got'"
  got=$(comp numaplace place --mem-p); [ "$got" = "--mem-policy " ] && ok "completion: an option" || not_ok "completion: --mem-p: '$got'"
  got=$(comp numaplace place --mem-policy ""); [ "$got" = "interleave preferred strict " ] &&
    ok "completion: a choice's words" || not_ok "completion: --mem-policy: '$got'"
  got=$(comp numaplace topology -f s); [ "$got" = "svg " ] && ok "completion: a short option's words" || not_ok "completion: -f s: '$got'"
  got=$(comp numaplace fleet ""); [ "$got" = "add check list release remove show " ] &&
    ok "completion: fleet's actions" || not_ok "completion: fleet actions: '$got'"
  mkdir -p "$TMP/cwd/some-dir" && touch "$TMP/cwd/some-file.json"
  got=$(cd "$TMP/cwd" && comp numaplace topology --json some-); [ "$got" = "some-dir some-file.json " ] &&
    ok "completion: a file option completes paths" || not_ok "completion: --json: '$got'"
  if have sim; then
    got=$(comp numaplace simulate lpc); [ "$got" = "lpc2012 lpc2012-sysbench " ] &&
      ok "completion: simulate's experiments" || not_ok "completion: simulate lpc: '$got'"
  fi
}

installed_parts() {
  installed_headers
  installed_man
  installed_completion
}
if ! meson install -C "$NP_BUILD" --destdir "$dest" --no-rebuild --quiet >"$TMP/install.log" 2>&1; then
  not_ok "meson install --destdir: $(tail -n 3 "$TMP/install.log")"
  finish
fi
ok "meson install --destdir"
bin=$(find "$dest" -path '*/bin/numaplace' -type f | head -n 1)
so=$(find "$dest" -name 'libnumaplace.so.0' | head -n 1)
if [ -x "$bin" ] && [ -n "$so" ]; then ok "installed the tool and libnumaplace.so.0"
else not_ok "installed the tool ($bin) and libnumaplace.so.0 ($so)"; finish; fi
libdir=$(dirname "$so")
for m in ${NP_FEATURES-hwloc libvirt xml runtime}; do
  case $m in hwloc|libvirt|xml) f=numaplace-$m.so ;; runtime) f=numaplace-numa.so ;; *) continue ;; esac
  if [ -f "$libdir/numaplace/$f" ]; then ok "module $f in libdir/numaplace"; else not_ok "module $f in libdir/numaplace"; fi
done

# The installed tool, on the installed library, with no hint from the build.
unset NUMAPLACE_MODULE_DIR
export LD_LIBRARY_PATH="$libdir"
NUMAPLACE=$bin  # what lib.sh's run runs
export NUMAPLACE
host="$NP_SRC/tests/data/json/64amd64-4s2n4ca2co.json"
run place --host "$host" --flavor 'vcpus=8,ram=8192,hw:numa_nodes=2'
expect_rc 0 "installed: place"; expect_out "^guest cell 1 " "installed: two cells placed"
if LD_DEBUG=files "$bin" --version 2>&1 | grep -q "file=libnumaplace.so.0 .*generating link map" &&
   ldd "$bin" | grep -q "libnumaplace.so.0 => $libdir/"; then
  ok "installed: the tool runs on the installed libnumaplace"
else
  not_ok "installed: the tool runs on the installed libnumaplace ($(ldd "$bin" | grep numaplace))"
fi

installed_parts
if have libvirt; then
  run topology --libvirt test:///default
  expect_rc 0 "installed: libvirt through the installed module"; expect_out "^host: 2 nodes, 16 CPUs" "installed: 2 nodes"
  if LD_DEBUG=files "$bin" topology --libvirt test:///default 2>&1 >/dev/null |
     grep -q "file=$libdir/numaplace/numaplace-libvirt.so .*generating link map"; then
    ok "installed: the module is the one in libdir/numaplace"
  else
    not_ok "installed: the module is the one in libdir/numaplace"
  fi
  rm "$libdir/numaplace/numaplace-libvirt.so"
  run topology --libvirt test:///default
  expect_rc 3 "installed, module removed"; expect_one_line_err "installed, module removed"
  expect_err "^numaplace: this numaplace has no libvirt support \(module 'libvirt' not installed\)$" \
    "installed, module removed: says so, and the build tree's is not used"
else
  run topology --libvirt test:///default; expect_rc 3 "installed, built without libvirt"
  expect_err "no libvirt support \(built without it\)" "installed: says it was built without"
fi
# The service plugin (built with libmicrohttpd) beside the modules; the
# installed `serve` loads it from there and serves until stopped.
if [ -f "$NP_BUILD/service/numaplace-serve.so" ]; then
  if [ -f "$libdir/numaplace/numaplace-serve.so" ]; then ok "numaplace-serve.so in libdir/numaplace"
  else not_ok "numaplace-serve.so not installed in libdir/numaplace"; fi
  run_within 2 serve --store "sqlite:$TMP/fleet.db" --listen "unix:$TMP/s.sock"
  expect_rc 124 "the installed serve loads its plugin and serves until stopped"
fi
# contrib/nova: numaplace_nova in the site-packages of -Dnova_python (README's Nova section).
pkg=$(find "$dest" -type d -name numaplace_nova -path '*-packages/*' | head -n 1)
if [ -x /usr/bin/python3 ] && [ -n "$pkg" ] && [ -f "$pkg/filter.py" ] &&
   PYTHONPATH=$(dirname "$pkg") /usr/bin/python3 -c 'import numaplace_nova.client' 2>/dev/null; then
  ok "installed: numaplace_nova in $(echo "${pkg#"$dest"}" | sed 's|/numaplace_nova$||')"
  if OS_NOVA_DISABLE_EVENTLET_PATCHING=1 /usr/bin/python3 -c 'import nova.scheduler.filters' \
     2>/dev/null; then
    if OS_NOVA_DISABLE_EVENTLET_PATCHING=1 PYTHONPATH=$(dirname "$pkg") /usr/bin/python3 -c '
import sys
from nova.scheduler import filters
c = filters.HostFilterHandler().get_matching_classes(["numaplace_nova.filter.NumaplaceFilter"])
sys.exit(0 if c and c[0].__module__ == "numaplace_nova.filter" and
         c[0].__init__.__code__.co_filename.startswith(sys.argv[1]) else 1)' "$dest"; then
      ok "installed: Nova's filter loader finds the installed NumaplaceFilter"
    else
      not_ok "installed: Nova's filter loader finds the installed NumaplaceFilter"
    fi
  fi
elif [ -x /usr/bin/python3 ] && [ -z "$pkg" ]; then
  not_ok "installed: numaplace_nova (no numaplace_nova folder under $dest)"
fi
finish
