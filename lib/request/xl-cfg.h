/*
 * xl-cfg.h - an xl.cfg file as a list of settings with the bytes each
 * takes, read by xl-cfg.c's parser of xl.cfg(5)'s syntax (the grammar of
 * Xen's libxlutil, checked against it by tests/xl/xlcfg-same.c): for the
 * request (xl-cfg.c) and for the merge that rewrites some settings and
 * keeps every other byte (emit/plan-xlcfg.c).
 *
 * Ownership: a struct np__xlcfg starts zeroed, is filled by
 * np__xlcfg_parse() and released by np__xlcfg_free() in every case.
 * Values point into nothing: strings are copies, decoded.
 */
#ifndef NP_XL_CFG_H
#define NP_XL_CFG_H

#include <stdbool.h>
#include <stddef.h>

#include <numaplace/error.h>

/* A value: a string (a NUMBER token is a string too, as in xl) or a list. */
struct np__xlv {
	bool list;
	char *str;             /* a string, its escapes decoded; NULL when it has
				  escapes numaplace does not decode (\ooo, \x) */
	bool number;           /* it was a bare number, not quoted */
	int n;                 /* a list: its items */
	struct np__xlv *items;
	size_t start, end;     /* its bytes in the text: [start, end) */
	int line;
};

/* One setting: NAME = VALUE, or NAME += VALUE (ADD). */
struct np__xlset {
	char *name;
	bool add;
	struct np__xlv value;
	size_t start, end;     /* from the name to the end of the value */
	int line;
};

struct np__xlcfg {
	int n;
	struct np__xlset *sets; /* in the order of the text */
};

/*
 * Parse the LEN bytes of BUF as xl.cfg(5) does: settings NAME = VALUE or
 * NAME += VALUE, ended by a newline or ';'; NAME lower-case letters,
 * digits, '_' and '.', starting with a letter; a value a number, a string
 * in double or single quotes (backslash escapes), or a list in brackets
 * across lines with an optional trailing comma; '#' comments.  What xl
 * refuses is refused: NP_EINPUT "NAME: line 3: ..." (an upper-case name,
 * a carriage return outside a string or comment, "+=" of a list to a
 * string, ...), or NP_ENOMEM.
 */
int np__xlcfg_parse(const char *buf, size_t len, const char *name, struct np__xlcfg *out,
		    struct np_error *err);
void np__xlcfg_free(struct np__xlcfg *c);

/* The index of the last setting of NAME made with '=', or -1. */
int np__xlcfg_last(const struct np__xlcfg *c, const char *name);
/* Does any setting of NAME use '+='? */
bool np__xlcfg_adds(const struct np__xlcfg *c, const char *name);

/*
 * The value of NAME as xl's xlu_cfg_get_long() reads it (strtol base 0:
 * "010" is 8, "0x10" 16; the strings '+=' made whole) into *OUT, with the
 * line of its last setting in *LINE: 1, or 0 when NAME is not set, or
 * NP_EINPUT ("NAME: line 4: maxmem= 'x' is not a number"), NP_ENOMEM.
 */
int np__xlcfg_long(const struct np__xlcfg *c, const char *file, const char *name, long *out,
		   int *line, struct np_error *err);

#endif
