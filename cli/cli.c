/*
 * cli.c - exit codes, messages and the topology source options shared by
 * the verbs.
 */
#include "cli.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cli_exit_code(int np_code)
{
	switch (np_code) {
	case NP_OK: return CLI_OK;
	case NP_EINPUT:
	case NP_EIO: return CLI_BAD_INPUT;
	case NP_EUNSUPPORTED: return CLI_UNSUPPORTED;
	default: return CLI_FAILED;
	}
}

int cli_fail(const struct np_error *err)
{
	fprintf(stderr, "numaplace: %s\n", err->message[0] ? err->message
							   : np_strerror(err->code));
	return cli_exit_code(err->code);
}

int cli_usage_error(const char *verb, const char *fmt, ...)
{
	va_list ap;

	fputs("numaplace: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (verb)
		fprintf(stderr, "\ntry 'numaplace %s --help'\n", verb);
	else
		fputs("\ntry 'numaplace help'\n", stderr);
	return CLI_BAD_INPUT;
}

static int set_source(const char *verb, struct cli_source *src,
		      enum np_source_kind kind, const char *arg)
{
	if (src->given)
		return cli_usage_error(verb, "give the host topology only once"), -2;
	src->kind = kind;
	src->arg = arg;
	src->given = true;
	return 1;
}

int cli_source_option(const char *verb, int opt, const char *arg,
		      struct cli_source *src)
{
	enum np_source_kind kind;
	const char *colon;
	char name[32];

	switch (opt) {
	case CLI_OPT_SYSFS: return set_source(verb, src, NP_SOURCE_SYSFS, arg);
	case CLI_OPT_HWLOC_XML: return set_source(verb, src, NP_SOURCE_HWLOC_XML, arg);
	case CLI_OPT_LIBVIRT_XML: return set_source(verb, src, NP_SOURCE_LIBVIRT_XML, arg);
	case CLI_OPT_LIBVIRT: return set_source(verb, src, NP_SOURCE_LIBVIRT_URI, arg);
	case CLI_OPT_XL: return set_source(verb, src, NP_SOURCE_XL_INFO, arg);
	case CLI_OPT_JSON: return set_source(verb, src, NP_SOURCE_JSON, arg);
	case CLI_OPT_HOST: return set_source(verb, src, NP_SOURCE_AUTO, arg);
	case CLI_OPT_SOURCE: break;
	default: return 0;
	}
	colon = strchr(arg, ':');
	snprintf(name, sizeof(name), "%.*s",
		 (int)(colon ? (size_t)(colon - arg) : strlen(arg)), arg);
	if (np_source_kind_from_name(name, &kind))
		return cli_usage_error(verb, "unknown topology source '%s' (local, sysfs, "
				       "hwloc-xml, libvirt-xml, libvirt, xl, json, auto)",
				       name), -2;
	if (kind != NP_SOURCE_LOCAL && (!colon || !colon[1]))
		return cli_usage_error(verb, "source '%s' needs a path or URI: --source %s:ARG",
				       name, name), -2;
	return set_source(verb, src, kind, colon && colon[1] ? colon + 1 : NULL);
}

/* Read all of standard input; NULL on failure (message printed). */
static char *read_stdin(size_t *len)
{
	size_t cap = 1 << 16, n = 0, got;
	char *buf = malloc(cap + 1), *p;

	while (buf && (got = fread(buf + n, 1, cap - n, stdin)) > 0) {
		n += got;
		if (n == cap) {
			if (cap >= NP_FILE_MAX || !(p = realloc(buf, 2 * cap + 1))) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = p;
			cap *= 2;
		}
	}
	if (!buf || ferror(stdin)) {
		fputs("numaplace: cannot read standard input\n", stderr);
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

int cli_load_topology(const struct cli_source *src, np_topo **out)
{
	struct np_error err = { 0 };
	enum np_source_kind kind = src->given ? src->kind : NP_SOURCE_LOCAL;
	int rc;

	if (src->given && src->arg && strcmp(src->arg, "-") == 0 &&
	    kind != NP_SOURCE_LIBVIRT_URI && kind != NP_SOURCE_SYSFS) {
		size_t len;
		char *buf = read_stdin(&len);

		if (!buf)
			return CLI_BAD_INPUT;
		rc = np_topo_parse(kind, buf, len, "<stdin>", out, &err);
		free(buf);
	} else {
		rc = np_topo_load(kind, src->given ? src->arg : NULL, out, &err);
	}
	return rc ? cli_fail(&err) : CLI_OK;
}
