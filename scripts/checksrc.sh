#!/usr/bin/env bash
# scripts/checksrc.sh - source rules no compiler checks (like curl's
# checksrc): no sprintf/strcpy/strcat/atoi/gets family in C sources, and
# every C file opens with a comment saying what it is for.
set -uo pipefail
cd "$(dirname "$0")/.."
bad=0
files=$(git ls-files --cached --others --exclude-standard '*.c' '*.h' 2>/dev/null || find lib cli include tests bench -name '*.[ch]')
for f in $files; do
  [ -f "$f" ] || continue
  if grep -nE '\b(v?sprintf|strcpy|strcat|atoi|atol|gets)\s*\(' "$f" | grep -v 'checksrc: allow'; then
    echo "checksrc: $f uses a banned function (snprintf, memcpy, np__parse_int instead)"
    bad=1
  fi
  if ! head -c 3 "$f" | grep -q '^/\*'; then
    echo "checksrc: $f does not open with a comment saying what it is for"
    bad=1
  fi
done
n=$(echo "$files" | wc -w)
if [ $bad -eq 0 ]; then echo "checksrc: $n files ok"; fi
exit $bad
