#!/usr/bin/env bash
# tests/asan/lsan-dtls.sh LSAN-DTLS PROBE-LIB - the sanitizer builds' leak
# check must not crash on a correct program because of where a dynamic
# TLS block happened to land (lsan-dtls.c says how it does otherwise).
# cli-doc failed that way under ASan: its numaplace processes load the
# libvirt module, whose libraries (libvirt, libxml2, ...) have dynamic TLS
# blocks, dozens per run of the script.  tests/meson.build gives every
# test ASAN_OPTIONS with intercept_tls_get_addr=0, so the interceptor
# records no block: the leak check then scans no dynamic TLS, as it
# already did not for every block it could not take for an old glibc's.
#
# Steers one block to 16 bytes into a page (K = 0, 1, ... until it lands
# there), then: with the tests' ASAN_OPTIONS the program exits 0 and
# LeakSanitizer says nothing; without the option it is shown to crash
# (or this runtime is not affected, said so).
set -u
prog=$1 lib=$2
passed=0 failed=0
ok() { passed=$((passed + 1)); echo "ok - $1"; }
not_ok() { failed=$((failed + 1)); echo "not ok - $1"; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

case ":${ASAN_OPTIONS:-}:" in
  *:intercept_tls_get_addr=0:*) ok "the tests' ASAN_OPTIONS turn the __tls_get_addr interceptor off" ;;
  *) not_ok "ASAN_OPTIONS ($ASAN_OPTIONS) lack intercept_tls_get_addr=0 (tests/meson.build)" ;;
esac
hit=
for ((k = 0; k < 128; k++)); do
  "$prog" "$lib" "$k" >"$tmp/out" 2>"$tmp/err"
  rc=$?
  if grep -qx "offset 16" "$tmp/out"; then hit=$k; break; fi
done
if [ -z "$hit" ]; then
  echo "skipped: no dynamic TLS block landed 16 bytes into a page (another allocator layout)"
  exit 77
fi
[ "$rc" -eq 0 ] && ! grep -q LeakSanitizer "$tmp/err" &&
  ok "a TLS block 16 bytes into a page (K=$hit): exit 0, no LeakSanitizer error" ||
  not_ok "a TLS block 16 bytes into a page (K=$hit): exit $rc: $(head -c 300 "$tmp/err")"
# Without the option: what every ASan process of the tests risked.
# (The shell's own "Aborted" line goes nowhere.)
{ ASAN_OPTIONS=${ASAN_OPTIONS//intercept_tls_get_addr=0/} "$prog" "$lib" "$hit" >/dev/null 2>"$tmp/err"; } 2>/dev/null
if [ $? -ne 0 ] && grep -q "LeakSanitizer has encountered a fatal error" "$tmp/err"; then
  ok "without it the tracer crashes on the same program: $(head -n1 "$tmp/err")"
else
  echo "# without it this runtime does not crash here (GCC >= 14 and LLVM >= 17 are fixed)"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
