/*
 * source.c - one entry point, np_topo_load()/np_topo_parse(), over the
 * table of sources (one file each: src-*.c), and the detection of a file's
 * kind for --host.
 *
 * Detection looks only at the first non-blank bytes and a few marker
 * words, so that a wrong guess is rare and always ends in the chosen
 * parser's own precise error.
 *
 * The sources that need a heavy library are in loadable modules
 * (module/module.h): the table names the module, which is loaded when
 * that kind is asked for, and not before.
 */
#include "topo-int.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "module/module.h"
#include "util/util.h"

static const struct {
	enum np_source_kind kind;
	const char *name;
	const struct np__source *src; /* in the core, or */
	const char *module;           /* in this module */
} sources[] = {
	{ NP_SOURCE_LOCAL, "local", NULL, "hwloc" },
	{ NP_SOURCE_SYSFS, "sysfs", NULL, "hwloc" },
	{ NP_SOURCE_HWLOC_XML, "hwloc-xml", NULL, "hwloc" },
	{ NP_SOURCE_LIBVIRT_XML, "libvirt-xml", NULL, "xml" },
	{ NP_SOURCE_LIBVIRT_URI, "libvirt", NULL, "libvirt" },
	{ NP_SOURCE_XL_INFO, "xl", &np__source_xl_info, NULL },
	{ NP_SOURCE_JSON, "json", &np__source_json, NULL },
	{ NP_SOURCE_AUTO, "auto", NULL, NULL },
};

const char *np_source_kind_name(enum np_source_kind kind)
{
	for (size_t i = 0; i < NP__ARRAY_SIZE(sources); i++)
		if (sources[i].kind == kind)
			return sources[i].name;
	return "unknown";
}

int np_source_kind_from_name(const char *name, enum np_source_kind *out)
{
	for (size_t i = 0; i < NP__ARRAY_SIZE(sources); i++)
		if (strcmp(sources[i].name, name) == 0) {
			*out = sources[i].kind;
			return 0;
		}
	return NP_EINPUT;
}

/*
 * The source of KIND into *SRC (NULL for auto), loading its module: 0, or
 * NP_EUNSUPPORTED naming what this numaplace lacks, or NP_EINPUT.
 */
static int lookup(enum np_source_kind kind, const struct np__source **src,
		  struct np_error *err)
{
	const struct np__module *m;
	int rc;

	for (size_t i = 0; i < NP__ARRAY_SIZE(sources); i++) {
		if (sources[i].kind != kind)
			continue;
		if (!sources[i].module) {
			*src = sources[i].src;
			return 0;
		}
		if ((rc = np__module_get(sources[i].module, &m, err)))
			return rc;
		for (size_t k = 0; m->sources && m->sources[k]; k++)
			if (m->sources[k]->kind == kind) {
				*src = m->sources[k];
				return 0;
			}
		return np__err(err, NP_EUNSUPPORTED, "module '%s' has no %s source",
			       sources[i].module, sources[i].name);
	}
	return np__err(err, NP_EINPUT, "unknown topology source");
}

/* Guess the kind of a topology document from its first bytes. */
static bool detect(const char *buf, size_t len, enum np_source_kind *kind)
{
	const char *p = buf;

	while ((size_t)(p - buf) < len && strchr(" \t\r\n", *p) && *p)
		p++;
	if (*p == '{') {
		*kind = NP_SOURCE_JSON;
	} else if (*p == '<') {
		if (strstr(p, "<capabilities"))
			*kind = NP_SOURCE_LIBVIRT_XML;
		else if (strstr(p, "<topology"))
			*kind = NP_SOURCE_HWLOC_XML;
		else
			return false;
	} else if (strstr(p, "numa_info") || strstr(p, "cpu_topology") ||
		   strstr(p, "nr_nodes")) {
		*kind = NP_SOURCE_XL_INFO;
	} else {
		return false;
	}
	return true;
}

int np_topo_parse(enum np_source_kind kind, const char *buf, size_t len,
		  const char *name, np_topo **out, struct np_error *err)
{
	const struct np__source *src;
	np__tb *b;
	int rc;

	if (!name)
		name = "<buffer>";
	if (memchr(buf, '\0', len))
		return np__err(err, NP_EINPUT, "cannot load '%s': contains a NUL byte", name);
	if (kind == NP_SOURCE_AUTO && !detect(buf, len, &kind))
		return np__err(err, NP_EINPUT,
			       "cannot load '%s': not a topology numaplace knows "
			       "(json, hwloc-xml, libvirt-xml, xl)", name);
	if ((rc = lookup(kind, &src, err)))
		return rc;
	if (!src || !src->parse)
		return np__err(err, NP_EINPUT, "cannot load '%s': %s is not a text format",
			       name, np_source_kind_name(kind));
	b = np__tb_new(kind, name);
	if (b)
		src->parse(b, buf, len);
	return np__tb_finish(b, out, err);
}

int np_topo_load(enum np_source_kind kind, const char *arg, np_topo **out,
		 struct np_error *err)
{
	const struct np__source *src;
	struct stat st;
	char *buf;
	size_t len;
	np__tb *b;
	int rc;

	if (kind == NP_SOURCE_AUTO) {
		if (!arg)
			return np__err(err, NP_EINPUT, "no topology file given");
		if (stat(arg, &st) == 0 && S_ISDIR(st.st_mode))
			kind = NP_SOURCE_SYSFS;
	}
	if ((rc = lookup(kind, &src, err)))
		return rc;
	if (kind != NP_SOURCE_AUTO && src->load) {
		if (!arg && kind != NP_SOURCE_LOCAL)
			return np__err(err, NP_EINPUT, "source %s needs a path or URI",
				       np_source_kind_name(kind));
		b = np__tb_new(kind, arg);
		if (b)
			src->load(b, arg);
		return np__tb_finish(b, out, err);
	}
	rc = np__read_file(arg, NP_FILE_MAX, &buf, &len, err);
	if (rc)
		return rc;
	rc = np_topo_parse(kind, buf, len, arg, out, err);
	free(buf);
	return rc;
}
