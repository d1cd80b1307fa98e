#!/usr/bin/env bash
# tests/cli/install.sh - `meson install` into a temporary DESTDIR, then the
# installed tool run from there.  The prefix is not real, so
# LD_LIBRARY_PATH points at the DESTDIR's libdir, as a package under test
# would be run; the library then finds its modules in libdir/numaplace/
# beside itself (lib/module/module.h), never in the build tree: taking a
# module out of the DESTDIR must make its source unsupported.
. "$(dirname "$0")/lib.sh"
: "${NP_BUILD:?NP_BUILD must name the build dir}"

dest="$TMP/dest"
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
for m in ${NP_FEATURES-hwloc libvirt runtime}; do
  case $m in hwloc|libvirt) f=numaplace-$m.so ;; runtime) f=numaplace-numa.so ;; *) continue ;; esac
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
