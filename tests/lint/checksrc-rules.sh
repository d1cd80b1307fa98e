#!/usr/bin/env bash
# tests/lint/checksrc-rules.sh - scripts/checksrc.sh finds what it says it
# finds: a small tree breaking every rule once (lib/ printing and exiting,
# cli/ using internals), with the same words in comments and strings and an
# allowed line, must give exactly the expected findings; the same tree
# without the faults must pass.  Prints "N passed, N failed".
set -u
src=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0
check() { if eval "$1"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL: $2"; fi; }

mkdir -p "$tmp/lib/emit" "$tmp/cli" "$tmp/service"
cat >"$tmp/lib/emit/bad.c" <<'EOF'
/* bad.c - a library file breaking the library's rules. */
#include <stdio.h>
#include <stdlib.h>

/* exit(), abort() and printf() in a comment say nothing */
static const char *s = "exit(1); fprintf(stderr, \"x\"); in a string say nothing";

int f(FILE *out, int x)
{
	char buf[8];

	fprintf(out, "%d\n", x);
	fprintf(stderr, "oops\n");
	printf("%d\n", x);
	fputs("x", stdout);
	if (x < 0)
		exit(1);
	if (x > 9)
		abort();
	sprintf(buf, "%d", x);
	snprintf(buf, sizeof(buf), "%d", x);
	perror("x"); /* checksrc: allow */
	return atoi(s) + puts("y");
}
EOF
printf '/* cli.h - the tool'"'"'s own header. */\n' >"$tmp/cli/cli.h"
cat >"$tmp/cli/cmd-x.c" <<'EOF'
/* cmd-x.c - a verb breaking the tool's rules. */
#include <numaplace/numaplace.h>

#include "cli.h"
#include "util/util.h"
#include "../lib/place/place-int.h"

int run(void)
{
	char s[] = "np__in_a_string";

	return np__parse_int(s, 0, 1, 0) + printf("fine in the tool\n");
}
EOF
printf '/* route.c - a service file. */\nint np__x;\n' >"$tmp/service/route.c"
printf 'int no_comment;\n' >"$tmp/lib/emit/nocomment.c"

files="lib/emit/bad.c cli/cli.h cli/cmd-x.c service/route.c lib/emit/nocomment.c"
# shellcheck disable=SC2086
out=$(bash "$src/scripts/checksrc.sh" -C "$tmp" $files)
rc=$?
check '[ $rc -eq 1 ]' "faults found: exit 1 (got $rc)"
for want in \
  'lib/emit/bad.c:13: stderr' 'lib/emit/bad.c:14: printf' 'lib/emit/bad.c:15: stdout' \
  'lib/emit/bad.c:17: exit' 'lib/emit/bad.c:19: abort' 'lib/emit/bad.c:20: sprintf()' \
  'lib/emit/bad.c:23: atoi()' 'lib/emit/bad.c:23: puts' \
  'cli/cmd-x.c:5: #include "util/util.h"' 'cli/cmd-x.c:6: #include "../lib/place/place-int.h"' \
  'cli/cmd-x.c:12: np__parse_int' 'service/route.c:2: np__x' \
  'lib/emit/nocomment.c:1: does not open with a comment'; do
  check 'printf "%s\n" "$out" | grep -qF "checksrc: $want"' "finds '$want'"
done
# Nothing else is found.
check '[ "$(printf "%s\n" "$out" | grep -c "^checksrc: ")" -eq 13 ]' \
  "exactly the expected findings, got: $out"

# The same files, fixed: no findings.
sed -i -e '/stderr, "oops/d' -e '/printf("%d/d' -e '/stdout);/d' -e '/exit(1);/d' \
  -e '/abort();/d' -e '/if (x/d' -e '/sprintf(buf, "%d", x);$/d' \
  -e 's/return atoi(s) + puts("y");/return s[0];/' "$tmp/lib/emit/bad.c"
sed -i -e '/util\/util.h/d' -e '/place-int.h/d' -e 's/np__parse_int(s, 0, 1, 0)/s[0]/' "$tmp/cli/cmd-x.c"
sed -i 's/np__x/np_x/' "$tmp/service/route.c"
rm "$tmp/lib/emit/nocomment.c"
# shellcheck disable=SC2086
out=$(bash "$src/scripts/checksrc.sh" -C "$tmp" lib/emit/bad.c cli/cli.h cli/cmd-x.c service/route.c)
rc=$?
check '[ $rc -eq 0 ]' "the fixed tree passes: $out"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
