/*
 * topo-format.c - np_topo_write(): pick the writer for a format, and turn
 * a failing stream into one error; np__topo_write_string(), the same into
 * memory.  Only that: what the writers share is in topo-group.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emit/emit-int.h"
#include "util/util.h"

static const struct {
	const char *name;
	enum np_topo_format format;
	int (*write)(const np_topo *, FILE *);
} formats[] = {
	{ "text", NP_TOPO_TEXT, np__topo_write_text },
	{ "json", NP_TOPO_JSON, np__topo_write_json },
	{ "svg", NP_TOPO_SVG, np__topo_write_svg },
};

int np_topo_format_from_name(const char *name, enum np_topo_format *out)
{
	for (size_t i = 0; i < NP__ARRAY_SIZE(formats); i++)
		if (strcmp(formats[i].name, name) == 0) {
			*out = formats[i].format;
			return 0;
		}
	return NP_EINPUT;
}

int np_topo_write(const np_topo *topo, enum np_topo_format format, FILE *out,
		  struct np_error *err)
{
	for (size_t i = 0; i < NP__ARRAY_SIZE(formats); i++) {
		int rc;

		if (formats[i].format != format)
			continue;
		rc = formats[i].write(topo, out);
		if (rc == NP_ENOMEM)
			return np__err(err, NP_ENOMEM, "cannot write the topology: out of memory");
		if (rc || fflush(out) || ferror(out))
			return np__err(err, NP_EOS, "cannot write the topology: output error");
		return 0;
	}
	return np__err(err, NP_EINPUT, "unknown topology format %d", (int)format);
}

int np__topo_write_string(const np_topo *topo, enum np_topo_format format, char **out,
			  struct np_error *err)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	int rc;

	if (!m)
		return np__err(err, NP_ENOMEM, "out of memory");
	rc = np_topo_write(topo, format, m, err);
	if (fclose(m) && !rc)
		rc = np__err(err, NP_ENOMEM, "out of memory");
	if (rc)
		free(buf);
	else
		*out = buf;
	return rc;
}
