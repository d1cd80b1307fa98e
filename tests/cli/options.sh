#!/usr/bin/env bash
# tests/cli/options.sh - the one option parser, on every verb the tool has:
# --help and the option table agree (every option in the table is in the
# help, every option line of the help is in the table), the verb's man
# page (docs/man) names every option of the table, and every usage
# error - unknown option, missing value, an option given twice, a value of
# the wrong type, stray operands - is exit 2 with "numaplace: <what>" and
# "try 'numaplace VERB --help'".  Verbs come from `numaplace help`, options
# from `numaplace help --options VERB`, so a new verb is tested here at once.
. "$(dirname "$0")/lib.sh"

verbs=$("$NUMAPLACE" help | sed -n 's/^  \([a-z][a-z-]*\)  .*/\1/p')
nverbs=$(echo "$verbs" | wc -w)
if [ "$nverbs" -ge 5 ]; then ok "numaplace help lists $nverbs verbs"; else not_ok "numaplace help lists $nverbs verbs"; fi

# loose_number VERB OPTION VALUE: a usage error naming the option and the
# value, in two lines (bash's own matching: this runs a few hundred times).
loose_number() {
  run_within 60 "$1" "$2" "$3"  # a verb that takes it runs on (balance --interval)
  if [ "$rc" -eq 2 ] && [[ $err == "numaplace: $2 needs "*", not '$3'"$'\n'"try 'numaplace $1 --help'" ]]; then
    ok "$1 $2 '$3': refused, naming both"
  else not_ok "$1 $2 '$3': want exit 2 and \"$2 needs ..., not '$3'\""; fi
}

# usage_error WHAT RE ARGS...: exit 2, "numaplace: ..." matching RE, then "try".
# bash's own matching on the whole of stderr (read, not forked: this runs a
# few hundred times; wc, head, grep, sed and grep were five processes each).
usage_error() {
  local what=$1 re=$2 verb=$3 all first
  shift 3
  run "$@"
  expect_rc 2 "$what"
  IFS= read -r -d '' all <"$TMP/err"
  first=${all%%$'\n'*}
  if [[ $all == "$first"$'\n'"try 'numaplace $verb --help'"$'\n' && $first =~ ^numaplace:\ $re ]]; then
    ok "$what: says '$re' and how to get help"
  else
    not_ok "$what: want 'numaplace: $re' then \"try 'numaplace $verb --help'\""
  fi
}

# first_option TABLE TYPES [ONCE]: the first option of the table (lines
# "NAME - TYPE once|many") whose type is one of TYPES ("a|b") and, with
# ONCE, that is given once; "" when none is.
first_option() {
  local name type times
  while read -r name _ type times; do
    if [[ $type =~ ^($2)$ && ( -z ${3-} || $times == "${3-}" ) ]]; then
      echo "$name"
      return
    fi
  done <"$1"
}

for v in $verbs; do
  run "$v" --help; expect_rc 0 "$v --help"; expect_out "^usage: numaplace $v" "$v --help: usage line"
  printf '%s\n' "$out" >"$TMP/help-$v"
  run "$v" -h; expect_rc 0 "$v -h"
  run help --options "$v"; expect_rc 0 "help --options $v"
  table=$TMP/table-$v
  printf '%s\n' "$out" >"$table"

  usage_error "$v: unknown option" "unknown option '--no-such-option'" "$v" "$v" --no-such-option
  usage_error "$v: unknown short option" "unknown option '-Z'" "$v" "$v" -Z
  usage_error "$v: value given to a flag" "option '--help' takes no value" "$v" "$v" --help=yes
  usage_error "$v: stray operands" "unexpected argument '[a-d]'" "$v" "$v" a b c d
  # An option with a value: given without one, given twice.
  name=$(first_option "$table" "text|input|file|output|dir" once)
  if [ -n "$name" ]; then
    usage_error "$v: $name without its value" "option '$name' needs a value" "$v" "$v" "$name"
    usage_error "$v: $name twice" "give $name only once" "$v" "$v" "$name" x "$name" y
  else
    not_ok "$v: no option with a value to test"
  fi
  name=$(first_option "$table" int)
  if [ -n "$name" ]; then
    usage_error "$v: $name not a number" "$name needs .*, not 'many'" "$v" "$v" "$name" many
    usage_error "$v: $name out of range" "$name needs .*, not '99999999999999'" "$v" "$v" "$name" 99999999999999
  fi
  # Loose spellings strtoll/strtod would take, on every number option: one
  # parser (plain decimal digits; a real may have a point and an exponent).
  while read -r name _ type _; do
    [ "$type" = int ] || [ "$type" = real ] || continue
    vals=(' 1' '0x10')
    [ "$type" = real ] && vals+=('0x1p3' 'inf' 'nan')
    for val in "${vals[@]}"; do loose_number "$v" "$name" "$val"; done
  done <"$table"
  name=$(first_option "$table" choice)
  if [ -n "$name" ]; then
    usage_error "$v: $name not a known word" "unknown .* 'nonsense' \(.*\)" "$v" "$v" "$name" nonsense
  fi
done

# Every verb's --help against its option table, both ways, and its man page
# (numaplace-VERB.1, or the page whose NAME names it) against the table: one
# python for all the verbs (one a verb was most of this test's time).
while IFS= read -r line; do
  case $line in
    'ok - '*) ok "${line#ok - }" ;;
    *) not_ok "${line#not ok - }" ;;
  esac
done < <(python3 - "$NP_SRC/docs/man" "$TMP" $verbs <<'EOF'
import os, re, sys
d, tmp, verbs = sys.argv[1], sys.argv[2], sys.argv[3:]
def plain(f):
    t = open(os.path.join(d, f)).read().replace("\\-", "-")
    return re.sub(r"\\f[BIRP]", "", t)
pages = {f: plain(f) for f in sorted(os.listdir(d)) if f.endswith(".1")}
def page_of(verb):
    if "numaplace-%s.1" % verb in pages:
        return pages["numaplace-%s.1" % verb]
    return next((t for t in pages.values() if re.search(
        r"\bnumaplace-%s\b" % verb, t.split(".SH NAME\n", 1)[-1].split("\n", 1)[0])), None)
def say(good, what):
    print(("ok - " if good else "not ok - ") + what)
for v in verbs:
    table = [l.split()[0] for l in open(os.path.join(tmp, "table-" + v)) if l.strip()]
    helps = {"--" + m.group(2) for m in (re.match(r"  (-[a-zA-Z], )?--([a-z0-9-]+)", l)
                                         for l in open(os.path.join(tmp, "help-" + v))) if m}
    missing = " ".join(o for o in sorted(set(table)) if o not in helps)
    extra = " ".join(o for o in sorted(helps) if o not in table)
    say(not missing, "%s: every option of the table is in --help" % v if not missing
        else "%s: not in --help: %s" % (v, missing))
    say(not extra, "%s: every option of --help is in the table" % v if not extra
        else "%s: not in the table: %s" % (v, extra))
    t = page_of(v)
    lacks = "(no man page)" if t is None else " ".join(
        o for o in table if not re.search(re.escape(o) + r"(?![\w-])", t))
    say(not lacks, "%s: its man page lists every option" % v if not lacks
        else "%s: man page lacks: %s" % (v, lacks))
EOF
)

# The parser's spellings: --name=value, unique prefixes, short clusters, "--".
host="$NP_SRC/tests/data/json/full.json"
run topology --json="$host" --format=json; expect_rc 0 "--name=value"; expect_out "numaplace.topology/1" "value after ="
run topology --js "$host" --form json; expect_rc 0 "unique prefixes"
usage_error "ambiguous prefix" "option '--f' is ambiguous \(--flavor, --flavors, --format\)" place place --f x
run topology --json "$host" -fjson; expect_rc 0 "-fVALUE"; expect_out "numaplace.topology/1" "short value attached"
run topology -- --json; expect_rc 2 "an operand after --"; expect_err "unexpected argument '--json'" "is an operand"
# More loose spellings, on one option of each type.
for val in '1 ' '+ 1' '-inf' 'infinity' 'NaN' '1e' '1e+' '.' '1..5' '1e400' '0x1P-2' ''; do
  loose_number gen --ratio "$val"
done
for val in '1 ' '+ 1' '01x' '1e2' '1.0' '-' ''; do loose_number gen --guests "$val"; done
# The plain spellings that stay: a sign, a point, an exponent.
run gen --guests +3 --seed 1; expect_rc 0 "an int with a + sign"
run gen --guests 3 --ratio 1.5e0 --seed 1; expect_rc 0 "a real with an exponent"
run gen --guests 3 --ratio .5 --seed 1; expect_rc 0 "a real with no whole part"
run gen --guests 3 --ratio 2. --seed 1; expect_rc 0 "a real with no fraction"
run help --options; expect_rc 2 "help --options without a verb"; expect_one_line_err "help --options"
run help --options nosuch; expect_rc 2 "help --options of no verb"; expect_err "no verb 'nosuch'" "names it"

finish
