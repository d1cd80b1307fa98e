#!/usr/bin/env bash
# tests/fleet/pg-unit.sh - the fleet library's test program (test-fleet)
# against a real PostgreSQL server this script starts (tests/lib/pg.sh).
#   pg-unit.sh PATH-TO-test-fleet
set -u
. "$(dirname "$0")/../lib/pg.sh"
pg_start
NP_FLEET_URL=$(pg_createdb fleet) || exit 99
export NP_FLEET_URL
"$1"
