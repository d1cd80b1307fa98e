/*
 * util.h - small helpers the numaplace tool and service share with the
 * library, so that they read files and write CPU lists the way it does:
 * one safe reader for every input file, Linux cpulists ("0-3,8"), and
 * names shown without the control characters they may hold.
 *
 * Thread-safety: every function here is safe to call from several
 * threads; none keeps state.
 */
#ifndef NUMAPLACE_UTIL_H
#define NUMAPLACE_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <numaplace/error.h>
#include <numaplace/limits.h>

#ifdef __cplusplus
extern "C" {
#endif


/*
 * Read the whole of PATH into a NUL-terminated buffer: *BUF (free() it)
 * and *LEN (without the NUL).  PATH "-" is standard input, where a pipe
 * is fine; any other PATH must be a regular file (or a symbolic link to
 * one): a FIFO, device, directory or socket is refused at once, never
 * waited on.  At most MAX bytes (0: NP_FILE_MAX).  Errors: NP_EIO "cannot
 * read 'PATH': not a regular file (a FIFO)" or the system's reason,
 * NP_EINPUT when larger than MAX, NP_ENOMEM.
 */
int np_read_file(const char *path, size_t max, char **buf, size_t *len,
		 struct np_error *err);

/* np_read_trusted() FLAGS. */
#define NP_READ_SECRET 1u /* others may not read it either (tokens, keys) */

/*
 * Read PATH as np_read_file() does, for a service that must not act on
 * what another user wrote (its token, its configuration): PATH must be a
 * regular file itself (not a symbolic link), owned by this user or root and
 * writable by nobody else; with NP_READ_SECRET not readable by others
 * either (mode 0600 or 0400; 0640 and 0440 are allowed, since systemd's
 * credentials read so: a 0400 file with an ACL entry for the service).  The checks are made on the opened file, so
 * nothing can be swapped in between.  WHAT names the file in messages
 * ("token file").  No "-".  At most MAX bytes (0: NP_FILE_MAX).  Errors: NP_EINPUT "cannot read the WHAT
 * 'PATH': a symbolic link" (or not a regular file, missing...), NP_EINPUT
 * "WHAT 'PATH' is writable by others (mode 0664)" (or owned by uid N,
 * readable by others), NP_EINPUT when larger than MAX, NP_EIO, NP_ENOMEM.
 */
int np_read_trusted(const char *path, const char *what, size_t max, unsigned flags,
		    char **buf, size_t *len, struct np_error *err);

/*
 * Replace the regular file PATH with the LEN bytes of BUF, atomically: the
 * content goes into a new file beside it (created exclusively, never
 * through a symbolic link), given PATH's mode (and owner and group where
 * allowed), synced and renamed over PATH.  A reader sees the old or the
 * new file, never a part; on failure PATH is as it was.  PATH must be a
 * regular file: a symbolic link is refused.  Errors: NP_EIO "cannot
 * replace 'PATH': why", NP_ENOMEM.
 */
int np_file_replace(const char *path, const void *buf, size_t len, struct np_error *err);

/*
 * Parse a Linux cpulist ("0-3,8,10-11"; blanks and a final newline
 * allowed; "" is the empty list) into *IDS (free() it), increasing and
 * without duplicates, and *N.  Ids above LIMIT are refused, so a range
 * cannot ask for much memory.  NP_EINPUT "bad list 'TEXT'", NP_ENOMEM.
 */
int np_cpulist_parse(const char *text, int limit, int **ids, int *n,
		     struct np_error *err);

/*
 * Write the N increasing ids IDS as a cpulist ("0-3,8") into BUF of SIZE
 * bytes, always NUL-terminated; a list that does not fit ends in "...".
 * Returns BUF.
 */
char *np_cpulist_format(const int *ids, int n, char *buf, size_t size);

/*
 * TEXT as it may be shown on a terminal or in a log: printable ASCII and
 * valid UTF-8 that is no control character as they are, every other byte
 * (C0 and C1 controls, DEL, broken UTF-8) as \xNN, so that an escape
 * sequence in a name never reaches a terminal.  Cut short with "..." to
 * fit OUT's SIZE bytes (at least 16), always NUL-terminated.  Returns OUT.
 */
char *np_text_shown(const char *text, char *out, size_t size);

/*
 * Is TEXT a plain decimal number: an optional sign, digits and, when
 * FRACTION, an optional point and decimal exponent ("-2", "1.5", "4e2")?
 * strtoll and strtod also take leading white space, and strtod hex
 * floats, "inf" and "nan": check with this first where a number a user
 * typed or sent is meant ("0x10" and " 4" are not).
 */
bool np_text_is_decimal(const char *text, bool fraction);

/*
 * S (NULL: empty) to OUT as a JSON string: quotes and backslashes escaped,
 * control characters and DEL as \u00NN, other bytes as they are.
 */
void np_json_str_write(FILE *out, const char *s);

/*
 * Text written through a stdio stream into one malloc'd block, as with
 * open_memstream(), for the short documents a request writes (a plan's
 * JSON, the service's answers): glibc's open_memstream callocs and clears
 * an 8 KiB buffer per stream, more than such a document costs to write.
 * Here stdio buffers in IO (the struct lives on the caller's stack, and
 * must not move while open) and the text grows as that buffer is flushed.
 * One stream, one thread.
 */
struct np_memout {
	FILE *f; /* write here between open and close */
	char *text;
	size_t len, cap; /* cap > len once anything is written: room for the NUL */
	char io[4096];
};
/* Open M's stream; false when out of memory. */
bool np_memout_open(struct np_memout *m);
/*
 * Close M's stream: 0 and *TEXT the text written, NUL-terminated (free()
 * it), its length in *LEN when LEN is not NULL; or NP_ENOMEM (a write
 * failed), *TEXT NULL and nothing left to free.
 */
int np_memout_close(struct np_memout *m, char **text, size_t *len);

#ifdef __cplusplus
}
#endif
#endif
