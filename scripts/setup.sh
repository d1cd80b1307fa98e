#!/usr/bin/env bash
# scripts/setup.sh - set numaplace up on a fresh Debian 12 machine: install
# the Debian packages it needs, build it (build/), and show this machine's
# NUMA topology.  Safe to run again; skips apt when everything is there.
#
#   scripts/setup.sh            as root, or with sudo available
#   BUILD=dir scripts/setup.sh  build somewhere else
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}

# What the build, the tests, the fuzzers and the NUMA VM tests need;
# python3-nova is Nova's real placement code, the anchor of the agreement tests;
# libxen-dev brings Xen's xl.cfg parser (libxlutil), the judge of the xl.cfg merge.
# SQLite and libpq are the fleet stores, postgresql-15 the server the fleet
# tests start for themselves; libmicrohttpd the service (numaplace serve),
# curl and python3-yaml its tests (real HTTP, the OpenAPI file);
# bash-completion and man-db, for the completion's install directory and
# the install test's `man numaplace`; bc and time, bench/service/run.sh's
# arithmetic and the clients' CPU time (tests/service/loadgen.sh runs it).
PACKAGES=(
  gcc libc6-dev meson ninja-build pkg-config python3 bzip2 tar
  libhwloc-dev hwloc-nox
  libvirt-dev libvirt-clients
  libxen-dev
  libjansson-dev libxml2-dev libxml2-utils libnuma-dev numactl
  clang libclang-rt-14-dev
  qemu-system-x86 linux-image-cloud-amd64 busybox-static cpio util-linux
  python3-nova glpk-utils coinor-cbc strace
  libsqlite3-dev libpq-dev postgresql-15
  bash-completion man-db
  libmicrohttpd-dev curl python3-yaml
  libcurl4-openssl-dev
  bc time
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=
  [ "$(id -u)" -eq 0 ] || SUDO=sudo
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

if [ -d "$BUILD" ] && [ -f "$BUILD/build.ninja" ]; then
  meson setup --reconfigure "$BUILD" >/dev/null
else
  meson setup "$BUILD"
fi
ninja -C "$BUILD"

echo
echo "setup: built $BUILD/cli/numaplace; this machine's NUMA topology:"
echo
"$BUILD/cli/numaplace" topology
