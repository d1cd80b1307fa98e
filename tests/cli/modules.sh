#!/usr/bin/env bash
# tests/cli/modules.sh - the loadable modules (lib/module/module.h) seen
# from the tool: verbs that need no module load none of the heavy
# libraries; a source whose module is missing, broken, of another build or
# without its library fails at once with exit 3 and one line saying which;
# $NUMAPLACE_MODULE_DIR chooses the folder.  (tests/cli/install.sh: an
# installed tree finds its modules by itself.)
. "$(dirname "$0")/lib.sh"

host="$NP_SRC/tests/data/json/64amd64-4s2n4ca2co.json"
flavor=(--flavor 'vcpus=8,ram=8192,hw:numa_nodes=2')
heavy='libvirt|hwloc|libnuma\.so|libxml2|gnutls|glib|libcurl|microhttpd|/numaplace-'
# The tool as a user runs it: its libraries through its own run path (meson
# test sets LD_LIBRARY_PATH, which would also find what a module lacks).
unset LD_LIBRARY_PATH

# loaded ARGS...: the shared objects the tool maps for ARGS, one a line.
loaded() {
  LD_DEBUG=files "$NUMAPLACE" "$@" 2>&1 >/dev/null |
    sed -n 's/^ *[0-9]*:[[:space:]]*file=\([^ ]*\) \[0\];  generating link map$/\1/p' | sort -u
}

# has_loaded WHAT RE ARGS...: the objects mapped for ARGS include RE (or, RE !..., exclude it).
has_loaded() {
  local what=$1 re=$2; shift 2
  local objs; objs=$(loaded "$@")
  if [ -z "$objs" ]; then not_ok "$what: LD_DEBUG showed nothing"; return; fi
  case $re in
    !*) if grep -Eq -- "${re#!}" <<<"$objs"; then not_ok "$what: loads $(grep -E -- "${re#!}" <<<"$objs" | tr '\n' ' ')"; else ok "$what"; fi ;;
    *) if grep -Eq -- "$re" <<<"$objs"; then ok "$what"; else not_ok "$what: no /$re/ in $(tr '\n' ' ' <<<"$objs")"; fi ;;
  esac
}

# The verbs that need no module load none, and none of the heavy libraries.
has_loaded "topology --host loads nothing heavy" "!$heavy" topology --host "$host" --format json
has_loaded "place --host loads nothing heavy" "!$heavy" place --host "$host" "${flavor[@]}"
has_loaded "--version loads nothing heavy" "!$heavy" --version
if have hwloc; then
  has_loaded "--sysfs loads the hwloc module" "numaplace-hwloc\.so" topology --sysfs "$(fixture 64amd64-4s2n4ca2co)"
  has_loaded "--sysfs does not load libvirt" "!libvirt" topology --sysfs "$(fixture 64amd64-4s2n4ca2co)"
fi
if have libvirt; then
  has_loaded "--libvirt loads the libvirt module" "numaplace-libvirt\.so" topology --libvirt test:///default
fi
if have xml; then
  # libvirt's saved documents are read with libxml2 alone: libvirt stays out.
  has_loaded "--libvirt-xml loads the xml module" "numaplace-xml\.so" topology --libvirt-xml "$NP_SRC/tests/data/libvirt/host-4cell.xml"
  has_loaded "--libvirt-xml does not load libvirt" "!libvirt|gnutls|glib" topology --libvirt-xml "$NP_SRC/tests/data/libvirt/host-4cell.xml"
  has_loaded "--domain-xml does not load libvirt" "!libvirt|gnutls|glib" place --host "$host" --domain-xml "$NP_SRC/tests/data/libvirt/domain-numa.xml"
fi
if have service; then
  # The service plugin, found by the library's module search in the build tree's service/.
  has_loaded "serve loads the service plugin" "service/numaplace-serve\.so" serve --store "sqlite:$TMP/serve.db" --listen unix:/nonexistent/dir/s.sock
fi
if have agent; then
  has_loaded "agent loads the curl module" "numaplace-curl\.so" agent --server unix:/nonexistent/s --once --name h1 --host "$host"
fi

# An empty module folder: the core still works, a module source says what is missing.
mkdir -p "$TMP/empty"
export NUMAPLACE_MODULE_DIR="$TMP/empty"
run place --host "$host" "${flavor[@]}"; expect_rc 0 "place without any module"
run topology --xl "$NP_SRC/tests/data/xl/asym-4node.txt"
expect_rc 0 "xl without any module"
if have agent; then
  run agent --server unix:/nonexistent/s --once --name h1 --host "$host"; expect_rc 3 "no curl module"
  expect_err "^numaplace: this numaplace has no libcurl support \(module 'curl' not installed\)$" "the agent says the curl module is not installed"
fi
if have service; then
  run serve --store "sqlite:$TMP/serve.db" --listen unix:/nonexistent/dir/s.sock; expect_rc 3 "no service plugin"
  expect_err "^numaplace: this numaplace has no service \(cannot load '$TMP/empty/numaplace-serve\.so'\)$" "serve looks in \$NUMAPLACE_MODULE_DIR"
fi
if have hwloc; then
  run topology --sysfs "$TMP"; expect_rc 3 "no hwloc module"; expect_one_line_err "no hwloc module"
  expect_err "^numaplace: this numaplace has no hwloc support \(module 'hwloc' not installed\)$" "says the module is not installed"
else
  run topology --sysfs "$TMP"; expect_rc 3 "built without hwloc"
  expect_err "^numaplace: this numaplace has no hwloc support \(built without it\)$" "says it was built without"
fi
if have libvirt; then
  run topology --libvirt test:///default; expect_rc 3 "no libvirt module"; expect_one_line_err "no libvirt module"
  expect_err "no libvirt support \(module 'libvirt' not installed\)" "names libvirt"
fi
if have xml; then
  run topology --libvirt-xml "$NP_SRC/tests/data/libvirt/host-4cell.xml"; expect_rc 3 "no xml module"
  expect_err "^numaplace: this numaplace has no libxml2 support \(module 'xml' not installed\)$" "--libvirt-xml names the xml module"
fi
if have libvirt && have xml; then
  # The live source reads libvirt's answer through module xml: without it, one line.
  mkdir -p "$TMP/only-libvirt" && cp "$NP_BUILD/lib/numaplace-libvirt.so" "$TMP/only-libvirt/"
  NUMAPLACE_MODULE_DIR="$TMP/only-libvirt" run topology --libvirt test:///default
  expect_rc 3 "libvirt without the xml module"; expect_one_line_err "libvirt without the xml module"
  expect_err "no libxml2 support \(module 'xml' not installed\)" "the live source names the xml module it needs"
fi
if have runtime; then
  run observe --pid $$ --json "$host"; expect_rc 3 "no numa module"; expect_one_line_err "no numa module"
  expect_err "no libnuma support \(module 'numa' not installed\)" "names libnuma"
fi

if have hwloc; then
  # Not a shared object at all: dlopen's reason, one line.
  mkdir -p "$TMP/junk" && printf 'not an ELF file\n' >"$TMP/junk/numaplace-hwloc.so"
  NUMAPLACE_MODULE_DIR="$TMP/junk" run topology --sysfs "$TMP"
  expect_rc 3 "a broken module"; expect_one_line_err "a broken module"
  expect_err "^numaplace: cannot load module 'hwloc': .*numaplace-hwloc\.so" "dlopen's reason, naming the file"

  # A module of another build.
  mkdir -p "$TMP/abi" && cp "$NP_FAKE_MODULES/fake-abi.so" "$TMP/abi/numaplace-hwloc.so"
  NUMAPLACE_MODULE_DIR="$TMP/abi" run topology --sysfs "$TMP"
  expect_rc 3 "a module of another ABI"; expect_one_line_err "a module of another ABI"
  expect_err "is not this numaplace's hwloc module \(ABI 999, want [0-9]+\)" "says which ABI"

  # A module whose library is not installed (libhwloc missing, say).
  mkdir -p "$TMP/gone" && cp "$NP_FAKE_MODULES/fake-gone.so" "$TMP/gone/numaplace-hwloc.so"
  NUMAPLACE_MODULE_DIR="$TMP/gone" run topology --sysfs "$TMP"
  expect_rc 3 "a module without its library"; expect_one_line_err "a module without its library"
  expect_err "^numaplace: cannot load module 'hwloc': libnp-test-gone\.so: cannot open shared object file" "names the missing library"

  # The real module, copied elsewhere and chosen by the variable, works.
  mkdir -p "$TMP/copy" && cp "$NP_BUILD/lib/numaplace-hwloc.so" "$TMP/copy/"
  NUMAPLACE_MODULE_DIR="$TMP/copy" run topology --sysfs "$(fixture 64amd64-4s2n4ca2co)"
  expect_rc 0 "a module from \$NUMAPLACE_MODULE_DIR"; expect_out "^host: 8 nodes" "loads the fixture"
fi
unset NUMAPLACE_MODULE_DIR
finish
