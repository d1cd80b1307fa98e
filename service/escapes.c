/*
 * escapes.c - percent-escapes in a request's path and query, decoded so
 * that a segment stays one segment and nothing is decoded twice (svc.h:
 * svc_url_unescape, svc_segment_unescape).  libmicrohttpd's own decoding
 * made "a%2Fb" two segments (a 404 for the name "a/b", which an older
 * numaplace could store) and "h1%00x" the name "h1" (DELETE removed h1).
 * Apart from the transport so that the fuzzer (fuzz-service-body) checks
 * it against a one-pass decoder.
 */
#include "svc.h"

/* The value of hex digit C, -1 if it is none. */
static int hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The byte %HH at S names, -1 when S is no escape. */
static int escape_at(const char *s)
{
	int hi, lo;

	if (s[0] != '%' || (hi = hex(s[1])) < 0 || (lo = hex(s[2])) < 0)
		return -1;
	return hi * 16 + lo;
}

size_t svc_url_unescape(char *s)
{
	char *o = s;

	for (const char *i = s; *i;) {
		int c = escape_at(i);

		if (c < 0 && *i == '%') {
			/*
			 * A '%' that starts no escape (invalid in a URL) must
			 * not start one with what we decode next ("%%32F"
			 * would become "%2F", a '/' once the segment is
			 * decoded): DEL, a control character, which no name,
			 * id or number takes.
			 */
			*o++ = '\x7f';
			i++;
			continue;
		}
		if (c < 0 || c == '/' || c == '%' || c == 0) {
			*o++ = *i++; /* not an escape, or one kept for the segment */
			continue;
		}
		*o++ = (char)c;
		i += 3;
	}
	*o = '\0';
	return (size_t)(o - s);
}

int svc_segment_unescape(char *s)
{
	char *o = s;

	for (const char *i = s; *i;) {
		int c = escape_at(i);

		if (c == 0)
			return -1;
		if (c != '/' && c != '%') {
			*o++ = *i++; /* svc_url_unescape() decoded the rest already */
			continue;
		}
		*o++ = (char)c;
		i += 3;
	}
	*o = '\0';
	return 0;
}
