#!/usr/bin/env bash
# scripts/checksrc.sh - source rules no compiler checks (like curl's
# checksrc).  Every tracked .c/.h file:
#   - opens with a comment saying what it is for;
#   - calls none of sprintf, vsprintf, strcpy, strcat, atoi, atol, gets
#     (snprintf, memcpy, np__parse_int instead).
# lib/ (the library: no printing, no exit):
#   - no printf, vprintf, puts, putchar, perror, exit, _exit, _Exit,
#     quick_exit, abort, and no stdout or stderr at all: a writer prints to
#     the FILE * its caller gives (fprintf(out, ...) is fine).
# cli/ and service/ (public API only):
#   - no np__ names (the library's internals);
#   - #include "..." only of a header in the same folder (the tool's own).
# Comments and string literals are not code: they may say "exit()".  A
# line that must break a rule says why and ends with /* checksrc: allow */.
#
#   scripts/checksrc.sh                 the tracked files of this checkout
#   scripts/checksrc.sh -C DIR [FILE..] files of another tree (paths from DIR)
# Exit status 1 and one "FILE:LINE: what" line per finding.
set -uo pipefail
cd "$(dirname "$0")/.."
root=.
if [ "${1:-}" = "-C" ]; then
  root=$2
  shift 2
fi
cd "$root" || exit 2
if [ $# -gt 0 ]; then
  files=$(printf '%s\n' "$@")
else
  files=$(git ls-files --cached --others --exclude-standard '*.c' '*.h' 2>/dev/null ||
          find lib cli include tests bench -name '*.[ch]')
fi
printf '%s\n' "$files" | exec /usr/bin/python3 -c '
import os, re, sys

BANNED = re.compile(r"\b(v?sprintf|strcpy|strcat|atoi|atol|gets)\s*\(")
LIB_CALLS = re.compile(r"\b(printf|vprintf|puts|putchar|perror|exit|_exit|_Exit|quick_exit|abort)\s*\(")
LIB_STREAMS = re.compile(r"\b(stdout|stderr)\b")
INTERNAL = re.compile(r"\bnp__\w*")
INCLUDE = re.compile(r"^\s*#\s*include\s*\"([^\"]*)\"")
ALLOW = "checksrc: allow"

def code_only(text):
    """TEXT with comments and string/char literals blanked, lines kept."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif c in "\"\x27":
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            out.append(c + " " * (min(j, n) - i - 1) + (c if j < n else ""))
            i = j + 1
        else:
            out.append(c)
            i += 1
    return "".join(out)

bad = 0
def report(path, line, what):
    global bad
    bad = 1
    print(f"checksrc: {path}:{line}: {what}")

files = [f for f in sys.stdin.read().split() if f]
for path in files:
    if not os.path.isfile(path):
        continue
    with open(path, encoding="utf-8", errors="replace") as f:
        text = f.read()
    if not text.startswith("/*"):
        report(path, 1, "does not open with a comment saying what it is for")
    raw = text.split("\n")
    code = code_only(text).split("\n")
    top = path.split("/")[0]
    for no, (line, src) in enumerate(zip(code, raw), 1):
        if ALLOW in src:
            continue
        m = BANNED.search(line)
        if m:
            report(path, no, f"{m.group(1)}() is banned (snprintf, memcpy, np__parse_int instead)")
        if top == "lib":
            m = LIB_CALLS.search(line) or LIB_STREAMS.search(line)
            if m:
                report(path, no, f"{m.group(1)}: the library prints nothing and never exits "
                       "(write to the caller'"'"'s FILE *, return an NP_E* code)")
        if top in ("cli", "service"):
            m = INTERNAL.search(line)
            if m:
                report(path, no, f"{m.group(0)}: an internal of the library; "
                       "the tool and the service use only include/numaplace/")
            m = INCLUDE.match(src)
            if m and ("/" in m.group(1) or
                      not os.path.isfile(os.path.join(os.path.dirname(path), m.group(1)))):
                report(path, no, f"#include \"{m.group(1)}\": not a header of {top}/; "
                       "the library'"'"'s are <numaplace/...>")
if not bad:
    print(f"checksrc: {len(files)} files ok")
sys.exit(bad)
'
