/*
 * json-util.c - the helpers of json-util.h.
 */
#include "util/json-util.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"

/* S with every byte that is not printable ASCII as '?', cut to SIZE. */
static void printable(const char *s, char *out, size_t size)
{
	size_t i;

	for (i = 0; s[i] && i + 1 < size; i++)
		out[i] = isprint((unsigned char)s[i]) ? s[i] : '?';
	out[i] = '\0';
}

void np__json_describe(const json_t *v, char *out, size_t size)
{
	char s[28];

	switch (json_typeof(v)) {
	case JSON_INTEGER:
		snprintf(out, size, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		break;
	case JSON_REAL:
		snprintf(s, sizeof(s), "%.15g", json_real_value(v));
		snprintf(out, size, "%s%s", s, strspn(s, "-0123456789") == strlen(s) ? ".0" : "");
		break;
	case JSON_STRING:
		printable(json_string_value(v), s, sizeof(s));
		snprintf(out, size, "\"%s%s\"", s,
			 strlen(json_string_value(v)) >= sizeof(s) ? "..." : "");
		break;
	case JSON_OBJECT: snprintf(out, size, "an object"); break;
	case JSON_ARRAY: snprintf(out, size, "an array"); break;
	case JSON_TRUE: snprintf(out, size, "true"); break;
	case JSON_FALSE: snprintf(out, size, "false"); break;
	case JSON_NULL: snprintf(out, size, "null"); break;
	}
}

bool np__json_out_of_memory(const json_error_t *je)
{
	/* The code is stored only with a message: read it only then. */
	return !je->text[0] || json_error_code(je) == json_error_out_of_memory;
}

json_t *np__json_loadb(const char *buf, size_t len, size_t flags, json_error_t *je)
{
	int column = 0, line = np__nul_line(buf, len, &column);

	if (!line)
		return json_loadb(buf, len, flags, je);
	memset(je, 0, sizeof(*je));
	je->line = line;
	je->column = column;
	je->position = (int)((const char *)memchr(buf, '\0', len) - buf);
	snprintf(je->source, sizeof(je->source), "<buffer>");
	snprintf(je->text, sizeof(je->text), "a NUL byte (not a text document)");
	return NULL;
}

bool np__utf8_valid(const char *s, size_t n)
{
	static const unsigned lowest[4] = { 0, 0x80, 0x800, 0x10000 };
	const unsigned char *p = (const unsigned char *)s, *end = p + n;

	while (p < end) {
		unsigned c = *p++, cp;
		int more = c < 0x80 ? 0 : (c & 0xe0) == 0xc0 ? 1 : (c & 0xf0) == 0xe0 ? 2
			   : (c & 0xf8) == 0xf0 ? 3 : -1;

		if (more < 0 || end - p < more)
			return false;
		cp = more ? c & (0x3fu >> more) : c;
		for (int k = 0; k < more; k++, p++) {
			if ((*p & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (*p & 0x3fu);
		}
		if (cp < lowest[more] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
	}
	return true;
}

char *np__json_dumps_checked(const json_t *v)
{
	return np__json_dumps_checked_with(v, JSON_COMPACT | JSON_ENCODE_ANY);
}

char *np__json_dumps_checked_with(const json_t *v, size_t flags)
{
	char *text = json_dumps(v, flags);
	json_t *back = text ? json_loads(text, JSON_DECODE_ANY, NULL) : NULL;
	bool same = back && json_equal(back, v);

	json_decref(back);
	if (!same) {
		free(text);
		return NULL;
	}
	return text;
}

int np__json_is_text(const json_t *v, const char *text, size_t len)
{
	char *d = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	const char *p = d;
	bool in_string = false, escaped = false, same = true;

	if (!d)
		return NP_ENOMEM;
	for (size_t i = 0; same && i < len; i++) {
		char c = text[i];

		if (!in_string && strchr(" \t\n\r", c) && c)
			continue; /* a blank the compact form leaves out */
		same = c == *p++;
		if (in_string)
			in_string = escaped || c != '"';
		else
			in_string = c == '"';
		escaped = in_string && !escaped && c == '\\';
	}
	same = same && !*p;
	free(d);
	return same;
}

bool np__json_pci_id(const json_t *v, unsigned *out)
{
	const char *s = v && json_is_string(v) ? json_string_value(v) : NULL;
	unsigned x = 0;

	if (!s || strlen(s) != 4)
		return false;
	for (int i = 0; i < 4; i++) {
		if (!isxdigit((unsigned char)s[i]))
			return false;
		x = x * 16 + (unsigned)(isdigit((unsigned char)s[i]) ? s[i] - '0'
								  : tolower((unsigned char)s[i]) - 'a' + 10);
	}
	*out = x;
	return true;
}
