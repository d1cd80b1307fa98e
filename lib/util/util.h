/*
 * util.h - small helpers shared inside libnumaplace: error filling, whole
 * file reading, Linux cpulist/bitmap text, checked integer parsing.
 *
 * None of these print or exit.  Names start with np__ because they are
 * internal: the tool and the service must not use them.
 */
#ifndef NP_UTIL_H
#define NP_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <numaplace/error.h>
#include <numaplace/limits.h>

#define NP__ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
/* A number macro as a string literal, for messages: NP__STR(NP_NODES_MAX) is "4096". */
#define NP__STR(x) NP__STR_(x)
#define NP__STR_(x) #x

#if defined(__GNUC__)
#define NP__PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define NP__PRINTF(f, a)
#endif

/*
 * Fill ERR (if not NULL) with CODE and a formatted message, made one line
 * (control characters it quotes from the input become '?'); return CODE.
 */
int np__err(struct np_error *err, int code, const char *fmt, ...) NP__PRINTF(3, 4);
/* The same, also setting err->reason to the stable rule name REASON. */
int np__err_reason(struct np_error *err, int code, const char *reason, const char *fmt, ...)
	NP__PRINTF(4, 5);
int np__verr(struct np_error *err, int code, const char *fmt, va_list ap);

/*
 * Read the whole file PATH into a NUL-terminated buffer (*BUF, *LEN without
 * the NUL).  Only a regular file is read: a FIFO, device, directory or
 * socket (or a symbolic link to one) is refused at once, never waited on.
 * Refuses files over MAX bytes (NP_EINPUT); NP_EIO with "cannot read
 * 'PATH': reason" when it cannot be read; NP_ENOMEM.  PATH is taken
 * literally ("-" is a file named "-"; np_read_file() reads standard input).
 */
int np__read_file(const char *path, size_t max, char **buf, size_t *len,
		  struct np_error *err);
/*
 * Read descriptor FD (any kind: a pipe is fine) to its end, as
 * np__read_file does; NAME for messages, NULL for "standard input".
 */
int np__read_fd(int fd, const char *name, size_t max, char **buf, size_t *len,
		struct np_error *err);
/*
 * The line (from 1) of the first NUL byte in BUF's LEN bytes, and its
 * column in *COLUMN (from 1; COLUMN may be NULL); 0 when there is none.
 * jansson and libxml2 take a NUL for the end of the text, so a reader of a
 * file or a client's body asks first and says "line N: a NUL byte".
 */
int np__nul_line(const char *buf, size_t len, int *column);
/*
 * open() PATH with FLAGS (and MODE for O_CREAT) so that it never blocks:
 * O_NONBLOCK and O_CLOEXEC for the open, then fstat(), then O_NONBLOCK
 * cleared.  Returns the descriptor; or -1 with errno set and *KIND NULL
 * when open() failed; or -1 with *KIND saying what the path is ("a FIFO")
 * when it is not a regular file.
 */
int np__open_regular(const char *path, int flags, unsigned mode, const char **kind);
/*
 * Fill ERR with CODE and "cannot VERB 'PATH': why" after np__open_regular()
 * failed with KIND (NULL: from errno; ELOOP reads "a symbolic link", as
 * with O_NOFOLLOW).  Returns CODE.
 */
int np__open_fail(struct np_error *err, int code, const char *verb, const char *path,
		  const char *kind);
/*
 * Why a service reading as this user may not trust the file ST describes,
 * written into BUF ("owned by uid 1000 (...)", "writable by others (mode
 * 0666)"), or NULL when it may: owned by this user or root and writable by
 * nobody else; SECRET also wants no access for others.  The group's read
 * bit is allowed: on a file with an ACL it is the ACL's mask, and systemd
 * hands a service its credentials (LoadCredential=) as root's 0400 files
 * with one ACL entry for the service's user, which stat() shows as 0440.
 */
struct stat;
const char *np__untrusted(const struct stat *st, bool secret, char *buf, size_t size);
/* What a file of stat() mode MODE is, for messages: "a FIFO", "a directory"... */
const char *np__file_kind(unsigned mode);

/*
 * Parse a Linux cpulist ("0-3,8,10-11", possibly empty, trailing newline
 * and NULs allowed) into a sorted array of ids without duplicates.
 * NP_EINPUT on malformed text or ids above LIMIT.
 */
int np__parse_cpulist(const char *text, int limit, int **ids, int *n);

/*
 * Parse a Linux hex bitmap ("00000000,0000ffff", the cpumap format) into a
 * sorted id array.  NP_EINPUT when malformed.
 */
int np__parse_cpumap(const char *text, int **ids, int *n);

/* Write IDS (sorted) as a cpulist "0-3,8" into BUF; returns BUF. */
char *np__format_cpulist(const int *ids, int n, char *buf, size_t size);
/* A malloc'ed cpulist ("0-3,8") of IDS (any order, duplicates allowed); NULL on ENOMEM. */
char *np__cpulist(const int *ids, int n);
/* Sort A[0..N) and drop duplicates; returns the new count. */
int np__sort_unique(int *a, int n);

/*
 * Strict decimal parsing: the whole of TEXT (leading/trailing blanks
 * allowed) must be a number in range.  true on success.
 */
bool np__parse_int(const char *text, long min, long max, long *out);
bool np__parse_u64(const char *text, uint64_t *out);

/*
 * A PCI address "dddd:bb:dd.f" or "bb:dd.f" (domain 0), hex digits in either
 * case, into OUT as "dddd:bb:dd.f" in lower case (the form topologies keep);
 * false when IN is not one.
 */
bool np__pci_address_normalise(const char *in, char out[16]);

/*
 * Bytes in one UNIT of libvirt's scaled integers: "b" or "bytes"; "k",
 * "KiB", "M", "MiB", ... "E", "EiB" (powers of 1024); "KB", "MB", ...
 * (powers of 1000); case does not matter, as in libvirt.  False for
 * anything else.
 */
bool np__unit_bytes(const char *unit, uint64_t *bytes);

/*
 * Length of the multi-byte UTF-8 character at S when it is valid (shortest
 * form, no surrogate, at most U+10FFFF), its code point in *CP; 0
 * otherwise, also for ASCII.  Never reads past a NUL.  The one decoder of
 * the project: every check of text written by others goes through it.
 */
size_t np__utf8_decode(const unsigned char *s, uint32_t *cp);
/* np__utf8_decode()'s length when the character is no C1 control (U+0080-U+009F). */
size_t np__utf8_char(const unsigned char *s);

/* Overflow-checked allocation of N elements of SIZE, zeroed. */
void *np__calloc(size_t n, size_t size);
/* Grow *ARR (of *CAP elements of SIZE) to hold at least NEED; 0 or -1. */
int np__grow(void **arr, size_t *cap, size_t need, size_t size);
/* BASE's N elements of SIZE are in CMP's order already (qsort can be skipped). */
bool np__sorted(const void *base, int n, size_t size, int (*cmp)(const void *, const void *));

/*
 * The K-combination of 0..N-1 after IDX (increasing) in lexicographic
 * order, in place; false after the last ({0..K-1} is the first).
 */
bool np__next_comb(int *idx, int k, int n);

#endif
