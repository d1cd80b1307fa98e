/*
 * fleet-cli.h - what `numaplace fleet` and `numaplace schedule` share:
 * the store URL (--store, else $NUMAPLACE_STORE), opening it, and JSON
 * strings for their --format json.  Each function prints its own error
 * and returns the tool's exit code (cli.h).
 */
#ifndef NP_FLEET_CLI_H
#define NP_FLEET_CLI_H

#include <stdio.h>

#include "cli.h"

/* URL, or $NUMAPLACE_STORE when URL is NULL; NULL when neither is set. */
const char *fleet_store_url(const char *url);
/* Open the store (FLAGS: NP_FLEET_CREATE); on failure print and return the exit code. */
int fleet_open(const struct cli_verb *verb, const char *url, unsigned flags, np_fleet **out);
/* RC, or 1 when standard output could not be written (said on stderr). */
int fleet_flushed(int rc);
/* S as a JSON string, quotes included. */
void fleet_json_str(FILE *out, const char *s);

/*
 * A name or id from the store, for text output: control bytes and broken
 * UTF-8 as \xNN (cli_error's form), cut with "..." past the buffer.  The
 * verbs refuse such names, but a store edited by hand may hold anything,
 * and an escape sequence must not reach the terminal.  Returns BUF.
 */
enum { FLEET_SHOWN_MAX = 4 * 255 + 16 };
const char *fleet_shown(const char *s, char buf[FLEET_SHOWN_MAX]);

#endif
