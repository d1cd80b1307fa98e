/*
 * json-util.h - what numaplace's JSON readers (topology, plan, state, Nova
 * case) share on top of jansson: saying what a value is, for messages of
 * the form "PATH: expected X, not Y".
 */
#ifndef NP_JSON_UTIL_H
#define NP_JSON_UTIL_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

/*
 * A few words for V: "12", "2.0" (a real shows its fraction, since that is
 * usually what is wrong with it), "\"abc...\"" (printable characters only,
 * cut), "an object", "an array", "true", "false", "null".
 */
void np__json_describe(const json_t *v, char *out, size_t size);

/*
 * Did json_loadb() fail for want of memory rather than for the text?
 * jansson says so with json_error_out_of_memory, or by leaving the
 * message empty (an allocation failed before it could read anything).
 * Readers answer NP_ENOMEM then, never a syntax error.
 */
bool np__json_out_of_memory(const json_error_t *je);

/*
 * json_loadb() for a document from a file or a client.  jansson takes a
 * NUL byte for the end of the text and says "'}' expected near end of
 * file"; here a NUL byte anywhere is refused as what it is: JE's text is
 * "a NUL byte (not a text document)", its line and column the NUL's.
 */
json_t *np__json_loadb(const char *buf, size_t len, size_t flags, json_error_t *je);

/* A PCI vendor or product id as Nova writes it, exactly 4 hex digits ("8086"): true and *OUT. */
bool np__json_pci_id(const json_t *v, unsigned *out);

/*
 * Are the N bytes at S well-formed UTF-8 (no overlong forms, surrogates or
 * code points above U+10FFFF), as jansson wants its strings?  Asking
 * jansson means allocating, and a failed allocation would then pass for
 * bad text.
 */
bool np__utf8_valid(const char *s, size_t n);

/*
 * jansson 2.14 does not always fail cleanly when an allocation fails: its
 * json_dumps() may leave out a piece of the text and return the rest
 * ("{\"fits\":true}" comes out as "{\":true}"), and its parser may drop a
 * character of a string or number and return a document.  Where numaplace
 * keeps JSON (the state file), it checks:
 *
 * np__json_dumps_checked(): json_dumps(V, JSON_COMPACT), read back and
 * compared with V; NULL when out of memory or the text came out wrong.
 * np__json_dumps_checked_with(): the same with json_dumps() FLAGS (the
 * workload generator's indentation and real precision).
 *
 * np__json_is_text(): does V hold exactly TEXT (LEN bytes), JSON that
 * numaplace wrote itself with integers and plain strings only?  V dumped
 * compact must be TEXT without its blanks outside strings.  1, 0 when it
 * differs, NP_ENOMEM.
 */
char *np__json_dumps_checked(const json_t *v);
char *np__json_dumps_checked_with(const json_t *v, size_t flags);
int np__json_is_text(const json_t *v, const char *text, size_t len);

#endif
