/*
 * util.c - the helpers of util.h.
 *
 * Text parsers here are fed untrusted input (saved sysfs files, fuzzers):
 * they check every bound and never read past the terminating NUL.
 *
 * Files: every file the library reads goes through np__read_file(), which
 * opens without blocking and reads only regular files, so that a FIFO
 * nobody writes to (or a symbolic link to one, or /dev/zero) is refused at
 * once instead of hanging or filling memory; np_read_file() adds "-" for
 * standard input, where a pipe is what one expects.
 */
#include "util.h"

#include <numaplace/util.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

int np__verr(struct np_error *err, int code, const char *fmt, va_list ap)
{
	if (err) {
		err->code = code;
		err->reason[0] = '\0';
		vsnprintf(err->message, sizeof(err->message), fmt, ap);
		/* One line, whatever input the message quotes (a newline in a document). */
		for (char *p = err->message; *p; p++)
			if ((unsigned char)*p < ' ' || *p == 0x7f)
				*p = '?';
	}
	return code;
}

int np__err_reason(struct np_error *err, int code, const char *reason, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	np__verr(err, code, fmt, ap);
	va_end(ap);
	if (err)
		snprintf(err->reason, sizeof(err->reason), "%s", reason);
	return code;
}

int np__err(struct np_error *err, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	np__verr(err, code, fmt, ap);
	va_end(ap);
	return code;
}

const char *np_strerror(int code)
{
	switch (code) {
	case NP_OK: return "success";
	case NP_ENOMEM: return "out of memory";
	case NP_EINPUT: return "bad input";
	case NP_EIO: return "cannot read input";
	case NP_EUNSUPPORTED: return "not supported here";
	case NP_ENOFIT: return "no placement";
	case NP_EOS: return "operation failed";
	}
	return "unknown error";
}

void *np__calloc(size_t n, size_t size)
{
	if (n == 0)
		n = 1;
	return calloc(n, size);
}

bool np__sorted(const void *base, int n, size_t size, int (*cmp)(const void *, const void *))
{
	const char *p = base;

	for (int i = 1; i < n; i++)
		if (cmp(p + (size_t)(i - 1) * size, p + (size_t)i * size) > 0)
			return false;
	return true;
}

int np__grow(void **arr, size_t *cap, size_t need, size_t size)
{
	size_t ncap = *cap ? *cap : 8;
	void *p;

	if (need <= *cap)
		return 0;
	while (ncap < need) {
		if (ncap > SIZE_MAX / 2 / size)
			return -1;
		ncap *= 2;
	}
	p = realloc(*arr, ncap * size);
	if (!p)
		return -1;
	memset((char *)p + *cap * size, 0, (ncap - *cap) * size);
	*arr = p;
	*cap = ncap;
	return 0;
}

const char *np__file_kind(unsigned mode)
{
	switch (mode & S_IFMT) {
	case S_IFREG: return "a regular file";
	case S_IFDIR: return "a directory";
	case S_IFIFO: return "a FIFO";
	case S_IFCHR: return "a character device";
	case S_IFBLK: return "a block device";
	case S_IFSOCK: return "a socket";
	case S_IFLNK: return "a symbolic link";
	}
	return "of an unknown kind";
}

int np__open_regular(const char *path, int flags, unsigned mode, const char **kind)
{
	struct stat st;
	int fd, e;

	*kind = NULL;
	fd = open(path, flags | O_NONBLOCK | O_CLOEXEC, (mode_t)mode);
	/*
	 * Linux's protected_symlinks answers EACCES, not ELOOP, for another
	 * user's link in a sticky directory: it is a link all the same.
	 */
	if (fd < 0 && errno == EACCES && (flags & O_NOFOLLOW) && lstat(path, &st) == 0 &&
	    S_ISLNK(st.st_mode))
		errno = ELOOP;
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0)
		goto fail;
	if (!S_ISREG(st.st_mode)) {
		*kind = np__file_kind(st.st_mode);
		goto fail;
	}
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0)
		goto fail;
	return fd;
fail:
	e = errno;
	close(fd);
	errno = e;
	return -1;
}

/* strerror(E) in lower case, as numaplace messages are: "no such file...". */
static void reason(int e, char *buf, size_t size)
{
	snprintf(buf, size, "%s", strerror(e));
	if (isupper((unsigned char)buf[0]) && islower((unsigned char)buf[1]))
		buf[0] = (char)tolower((unsigned char)buf[0]);
}

int np__open_fail(struct np_error *err, int code, const char *verb, const char *path,
		  const char *kind)
{
	char why[128];

	if (kind)
		snprintf(why, sizeof(why), "not a regular file (%s)", kind);
	else if (errno == ELOOP)
		snprintf(why, sizeof(why), "a symbolic link");
	else
		reason(errno, why, sizeof(why));
	return np__err(err, code, "cannot %s '%s': %s", verb, path, why);
}

/* Wait until FD (left non-blocking by whoever gave it to us) has data. */
static bool wait_readable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, -1) >= 0 || errno == EINTR;
}

int np__read_fd(int fd, const char *name, size_t max, char **buf, size_t *len,
		struct np_error *err)
{
	char shown[PATH_MAX + 8], why[128];
	char *data = NULL;
	size_t cap = 0, n = 0;
	struct stat st;
	int rc = NP_OK;

	if (name)
		snprintf(shown, sizeof(shown), "'%s'", name);
	else
		snprintf(shown, sizeof(shown), "standard input");
	/* A regular file says its size: refuse a large one before reading it. */
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
		if ((uint64_t)st.st_size > max)
			return np__err(err, NP_EINPUT, "cannot read %s: larger than %zu bytes",
				       shown, max);
		/* Room for all of it at once (and a little growth), not doubling. */
		cap = (size_t)st.st_size + 4097;
		if (!(data = malloc(cap)))
			return np__err(err, NP_ENOMEM, "cannot read %s: out of memory", shown);
	}
	for (;;) {
		ssize_t got;

		if (np__grow((void **)&data, &cap, n + 4097, 1) < 0) {
			rc = np__err(err, NP_ENOMEM, "cannot read %s: out of memory", shown);
			goto out;
		}
		got = read(fd, data + n, cap - n - 1);
		if (got < 0 && (errno == EINTR || (errno == EAGAIN && wait_readable(fd))))
			continue;
		if (got < 0) {
			reason(errno, why, sizeof(why));
			rc = np__err(err, NP_EIO, "cannot read %s: %s", shown, why);
			goto out;
		}
		if (got == 0)
			break;
		n += (size_t)got;
		if (n > max) {
			rc = np__err(err, NP_EINPUT, "cannot read %s: larger than %zu bytes", shown,
				     max);
			goto out;
		}
	}
	data[n] = '\0';
	*buf = data;
	*len = n;
	data = NULL;
out:
	free(data);
	return rc;
}

int np__nul_line(const char *buf, size_t len, int *column)
{
	const char *nul = len ? memchr(buf, '\0', len) : NULL;
	int line = 1, col = 1;

	if (!nul)
		return 0;
	for (const char *c = buf; c < nul; c++, col++)
		if (*c == '\n') {
			line++;
			col = 0;
		}
	if (column)
		*column = col;
	return line;
}

int np__read_file(const char *path, size_t max, char **buf, size_t *len,
		  struct np_error *err)
{
	const char *kind;
	int fd = np__open_regular(path, O_RDONLY, 0, &kind), rc;

	if (fd < 0)
		return np__open_fail(err, errno == ENOMEM && !kind ? NP_ENOMEM : NP_EIO, "read",
				     path, kind);
	rc = np__read_fd(fd, path, max, buf, len, err);
	close(fd);
	return rc;
}

const char *np__untrusted(const struct stat *st, bool secret, char *buf, size_t size)
{
	unsigned mode = (unsigned)(st->st_mode & 07777);

	if (st->st_uid != 0 && st->st_uid != geteuid())
		snprintf(buf, size, "owned by uid %u (neither this user, uid %u, nor root)",
			 (unsigned)st->st_uid, (unsigned)geteuid());
	else if (st->st_mode & (S_IWGRP | S_IWOTH))
		snprintf(buf, size, "writable by others (mode %04o)", mode);
	else if (secret && (st->st_mode & S_IRWXO))
		snprintf(buf, size, "readable by others (mode %04o: want 0600 or 0400)", mode);
	else
		return NULL;
	return buf;
}

int np_read_trusted(const char *path, const char *what, size_t max, unsigned flags,
		    char **buf, size_t *len, struct np_error *err)
{
	const char *kind;
	char verb[64], why[128];
	struct stat st;
	int fd, rc;

	if (!path || !what || !buf || !len)
		return np__err(err, NP_EINPUT, "np_read_trusted: no path");
	if (max == 0)
		max = NP_FILE_MAX;
	snprintf(verb, sizeof(verb), "read the %s", what);
	fd = np__open_regular(path, O_RDONLY | O_NOFOLLOW, 0, &kind);
	if (fd < 0)
		return np__open_fail(err, errno == ENOMEM && !kind ? NP_ENOMEM : NP_EINPUT, verb,
				     path, kind);
	/* Judged on the file read, not on the name: nothing can be swapped in between. */
	if (fstat(fd, &st) != 0)
		rc = np__err(err, NP_EIO, "cannot %s '%s': %s", verb, path, strerror(errno));
	else if (np__untrusted(&st, flags & NP_READ_SECRET, why, sizeof(why)))
		rc = np__err(err, NP_EINPUT, "%s '%s' is %s", what, path, why);
	else
		rc = np__read_fd(fd, path, max, buf, len, err);
	close(fd);
	return rc;
}

int np_read_file(const char *path, size_t max, char **buf, size_t *len,
		 struct np_error *err)
{
	if (!path || !buf || !len)
		return np__err(err, NP_EINPUT, "np_read_file: no path");
	if (max == 0)
		max = NP_FILE_MAX;
	if (strcmp(path, "-") == 0)
		return np__read_fd(STDIN_FILENO, NULL, max, buf, len, err);
	return np__read_file(path, max, buf, len, err);
}

size_t np__utf8_decode(const unsigned char *s, uint32_t *cp)
{
	size_t n = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc2 ? 2 : 0;
	uint32_t c;

	if (s[0] >= 0xf5 || n == 0)
		return 0;
	for (size_t i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	if (n == 2)
		c = (uint32_t)(s[0] & 0x1f) << 6 | (s[1] & 0x3f);
	else if (n == 3)
		c = (uint32_t)(s[0] & 0x0f) << 12 | (uint32_t)(s[1] & 0x3f) << 6 | (s[2] & 0x3f);
	else
		c = (uint32_t)(s[0] & 0x07) << 18 | (uint32_t)(s[1] & 0x3f) << 12 |
		    (uint32_t)(s[2] & 0x3f) << 6 | (s[3] & 0x3f);
	/* Overlong (C0/C1 leads are refused above), surrogates, past U+10FFFF. */
	if ((n == 3 && c < 0x800) || (n == 4 && (c < 0x10000 || c > 0x10ffff)) ||
	    (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return n;
}

size_t np__utf8_char(const unsigned char *s)
{
	uint32_t cp;
	size_t n = np__utf8_decode(s, &cp);

	return n && cp > 0x9f ? n : 0;
}

bool np_text_is_decimal(const char *text, bool fraction)
{
	static const char digits[] = "0123456789";
	const char *p = text ? text + (*text == '+' || *text == '-') : "";
	size_t whole = strspn(p, digits), frac = 0, exp;

	p += whole;
	if (fraction && *p == '.') {
		frac = strspn(++p, digits);
		p += frac;
	}
	if (whole + frac == 0)
		return false;
	if (fraction && (*p == 'e' || *p == 'E')) {
		p++;
		p += *p == '+' || *p == '-';
		if (!(exp = strspn(p, digits)))
			return false;
		p += exp;
	}
	return *p == '\0';
}

char *np_text_shown(const char *text, char *out, size_t size)
{
	const unsigned char *s = (const unsigned char *)(text ? text : "");
	size_t o = 0, k;

	if (!out || size == 0)
		return out;
	for (; *s && o + 8 < size; s += k) {
		k = *s >= 0x20 && *s < 0x7f ? 1 : np__utf8_char(s);
		if (k) {
			memcpy(out + o, s, k);
			o += k;
		} else {
			o += (size_t)snprintf(out + o, size - o, "\\x%02x", *s);
			k = 1;
		}
	}
	if (*s && o + 3 < size) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o < size ? o : size - 1] = '\0';
	return out;
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

/* Sort and drop duplicates in place; returns the new count. */
static int sort_unique(int *ids, int n)
{
	int i, m = 0;

	qsort(ids, (size_t)n, sizeof(*ids), cmp_int);
	for (i = 0; i < n; i++)
		if (m == 0 || ids[m - 1] != ids[i])
			ids[m++] = ids[i];
	return m;
}

static bool is_blank_tail(const char *p)
{
	while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r')
		p++;
	return *p == '\0';
}

static const char *parse_id(const char *p, int limit, long *out)
{
	long v = 0;

	if (!isdigit((unsigned char)*p))
		return NULL;
	while (isdigit((unsigned char)*p)) {
		v = v * 10 + (*p - '0');
		if (v > limit)
			return NULL;
		p++;
	}
	*out = v;
	return p;
}

int np__parse_cpulist(const char *text, int limit, int **ids, int *n)
{
	int *arr = NULL;
	size_t cap = 0, cnt = 0;
	const char *p = text;

	while (*p == ' ' || *p == '\t')
		p++;
	while (!is_blank_tail(p)) {
		long lo, hi;

		p = parse_id(p, limit, &lo);
		if (!p)
			goto bad;
		hi = lo;
		if (*p == '-') {
			p = parse_id(p + 1, limit, &hi);
			if (!p || hi < lo)
				goto bad;
		}
		for (long v = lo; v <= hi; v++) {
			if (np__grow((void **)&arr, &cap, cnt + 1, sizeof(*arr)) < 0)
				goto nomem;
			arr[cnt++] = (int)v;
		}
		if (*p == ',')
			p++;
		else if (!is_blank_tail(p))
			goto bad;
	}
	if (!arr && !(arr = np__calloc(1, sizeof(*arr))))
		goto nomem;
	*n = sort_unique(arr, (int)cnt);
	*ids = arr;
	return NP_OK;
nomem:
	free(arr);
	return NP_ENOMEM;
bad:
	free(arr);
	return NP_EINPUT;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int np__parse_cpumap(const char *text, int **ids, int *n)
{
	size_t len = strlen(text), digits = 0, i;
	int *arr = NULL;
	size_t cap = 0, cnt = 0;
	long bit = 0;

	while (len && (text[len - 1] == '\n' || text[len - 1] == ' '))
		len--;
	for (i = 0; i < len; i++) {
		if (text[i] == ',')
			continue;
		if (hexval((unsigned char)text[i]) < 0)
			return NP_EINPUT;
		digits++;
	}
	if (digits == 0 || digits > 65536 / 4)
		return NP_EINPUT;
	/* Walk from the least significant nibble. */
	for (i = len; i-- > 0;) {
		int v;

		if (text[i] == ',')
			continue;
		v = hexval((unsigned char)text[i]);
		for (int b = 0; b < 4; b++, bit++) {
			if (!(v & (1 << b)))
				continue;
			if (np__grow((void **)&arr, &cap, cnt + 1, sizeof(*arr)) < 0) {
				free(arr);
				return NP_ENOMEM;
			}
			arr[cnt++] = (int)bit;
		}
	}
	if (!arr && !(arr = np__calloc(1, sizeof(*arr))))
		return NP_ENOMEM;
	*n = sort_unique(arr, (int)cnt);
	*ids = arr;
	return NP_OK;
}

char *np__format_cpulist(const int *ids, int n, char *buf, size_t size)
{
	size_t off = 0;
	int i = 0;

	if (size == 0)
		return buf;
	buf[0] = '\0';
	while (i < n) {
		int j = i;
		int w;

		while (j + 1 < n && ids[j + 1] == ids[j] + 1)
			j++;
		if (j == i)
			w = snprintf(buf + off, size - off, "%s%d", off ? "," : "", ids[i]);
		else
			w = snprintf(buf + off, size - off, "%s%d-%d", off ? "," : "", ids[i],
				     ids[j]);
		if (w < 0 || (size_t)w >= size - off) {
			/* Truncated: end with "..." when there is room. */
			if (size >= 4)
				memcpy(buf + size - 4, "...", 4);
			return buf;
		}
		off += (size_t)w;
		i = j + 1;
	}
	return buf;
}

int np__sort_unique(int *a, int n)
{
	int k = 0;

	if (n > 0)
		qsort(a, (size_t)n, sizeof(*a), cmp_int);
	for (int i = 0; i < n; i++)
		if (k == 0 || a[k - 1] != a[i])
			a[k++] = a[i];
	return k;
}

char *np__cpulist(const int *ids, int n)
{
	int *a = np__calloc((size_t)n, sizeof(*a));
	size_t size = (size_t)(n > 0 ? n : 1) * 12 + 1;
	char *buf = malloc(size);

	if (!a || !buf) {
		free(a);
		free(buf);
		return NULL;
	}
	if (n > 0)
		memcpy(a, ids, (size_t)n * sizeof(*a));
	n = np__sort_unique(a, n);
	np__format_cpulist(a, n, buf, size);
	free(a);
	return buf;
}

bool np__parse_int(const char *text, long min, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(text, &end, 10);
	if (end == text || errno == ERANGE || v < min || v > max)
		return false;
	if (!is_blank_tail(end))
		return false;
	*out = v;
	return true;
}

bool np__parse_u64(const char *text, uint64_t *out)
{
	char *end;
	unsigned long long v;
	const char *p = text;

	while (*p == ' ' || *p == '\t')
		p++;
	if (!isdigit((unsigned char)*p))
		return false;
	errno = 0;
	v = strtoull(p, &end, 10);
	if (errno == ERANGE || !is_blank_tail(end))
		return false;
	*out = (uint64_t)v;
	return true;
}

int np_cpulist_parse(const char *text, int limit, int **ids, int *n,
		     struct np_error *err)
{
	int rc = np__parse_cpulist(text, limit, ids, n);

	if (rc == NP_ENOMEM)
		return np__err(err, rc, "out of memory");
	if (rc)
		return np__err(err, rc, "bad list '%.64s%s'", text, strlen(text) > 64 ? "..." : "");
	return 0;
}

char *np_cpulist_format(const int *ids, int n, char *buf, size_t size)
{
	return np__format_cpulist(ids, n, buf, size);
}

bool np__pci_address_normalise(const char *in, char out[16])
{
	unsigned dom = 0, bus, dev, fn;
	int used = 0;

	if (sscanf(in, "%4x:%2x:%2x.%1x%n", &dom, &bus, &dev, &fn, &used) == 4 &&
	    in[used] == '\0' && strlen(in) == 12)
		;
	else if (dom = 0, used = 0,
		 sscanf(in, "%2x:%2x.%1x%n", &bus, &dev, &fn, &used) == 3 &&
			 in[used] == '\0' && strlen(in) == 7)
		;
	else
		return false;
	for (const char *p = in; *p; p++)
		if (!isxdigit((unsigned char)*p) && *p != ':' && *p != '.')
			return false;
	if (dev > 0x1f || fn > 7)
		return false;
	snprintf(out, 16, "%04x:%02x:%02x.%x", dom, bus, dev, fn);
	return true;
}

bool np__unit_bytes(const char *unit, uint64_t *bytes)
{
	static const char prefixes[] = "kmgtpe";
	const char *p;
	uint64_t base, v = 1;

	if (strcasecmp(unit, "b") == 0 || strcasecmp(unit, "bytes") == 0) {
		*bytes = 1;
		return true;
	}
	if (!unit[0] || !(p = strchr(prefixes, tolower((unsigned char)unit[0]))))
		return false;
	if (unit[1] == '\0' || strcasecmp(unit + 1, "iB") == 0)
		base = 1024;
	else if (strcasecmp(unit + 1, "B") == 0)
		base = 1000;
	else
		return false;
	for (long i = 0; i <= p - prefixes; i++)
		v *= base;
	*bytes = v;
	return true;
}

bool np__next_comb(int *idx, int k, int n)
{
	int i = k - 1;

	while (i >= 0 && idx[i] == n - k + i)
		i--;
	if (i < 0)
		return false;
	idx[i]++;
	for (int j = i + 1; j < k; j++)
		idx[j] = idx[j - 1] + 1;
	return true;
}

void np_json_str_write(FILE *out, const char *s)
{
	fputc('"', out);
	for (const unsigned char *p = (const unsigned char *)s; p && *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(out, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(out, "\\u%04x", *p);
		else
			fputc(*p, out);
	}
	fputc('"', out);
}

/* fopencookie's write: the flushed bytes appended to the text. */
static ssize_t memout_write(void *cookie, const char *data, size_t n)
{
	struct np_memout *m = cookie;

	if (m->len + n >= m->cap) {
		size_t cap = m->cap ? m->cap : 1024;
		char *t;

		while (cap <= m->len + n)
			cap *= 2;
		if (!(t = realloc(m->text, cap)))
			return -1;
		m->text = t;
		m->cap = cap;
	}
	memcpy(m->text + m->len, data, n);
	m->len += n;
	return (ssize_t)n;
}

bool np_memout_open(struct np_memout *m)
{
	m->text = NULL;
	m->len = m->cap = 0;
	m->f = fopencookie(m, "w", (cookie_io_functions_t){ .write = memout_write });
	if (m->f && setvbuf(m->f, m->io, _IOFBF, sizeof(m->io)) == 0)
		return true;
	if (m->f)
		fclose(m->f);
	return false;
}

int np_memout_close(struct np_memout *m, char **text, size_t *len)
{
	/* A write the text refused (out of memory) leaves the stream's error set. */
	bool ok = fflush(m->f) == 0 && !ferror(m->f);

	ok = fclose(m->f) == 0 && ok;
	if (ok && !m->text && !(m->text = malloc(1)))
		ok = false;
	if (!ok) {
		free(m->text);
		*text = NULL;
		return NP_ENOMEM;
	}
	m->text[m->len] = '\0';
	*text = m->text;
	if (len)
		*len = m->len;
	return 0;
}
