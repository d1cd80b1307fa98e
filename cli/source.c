/*
 * source.c - the topology source options every verb that reads a host
 * shares (--host, --sysfs, --json, ... --source KIND:ARG), and loading
 * the topology they name.
 *
 * One source at most: a second one is a usage error, whichever options
 * name them.  A FILE of "-" is read from standard input through the one
 * reader (cli_read_file) and parsed; everything else is the library's
 * np_topo_load(), which reads files through the same reader.
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

const struct cli_opt cli_source_opts[] = {
	{ .id = CLI_OPT_HOST, .name = "host", .type = CLI_INPUT, .meta = "PATH",
	  .help = "a file or sysfs root of any kind below, detected" },
	{ .id = CLI_OPT_SYSFS, .name = "sysfs", .type = CLI_DIR,
	  .help = "a saved Linux sysfs/procfs root (hwloc-gather-topology)" },
	{ .id = CLI_OPT_HWLOC_XML, .name = "hwloc-xml", .type = CLI_INPUT,
	  .help = "an hwloc XML export (lstopo --of xml)" },
	{ .id = CLI_OPT_LIBVIRT_XML, .name = "libvirt-xml", .type = CLI_INPUT,
	  .help = "libvirt capabilities XML (virsh capabilities)" },
	{ .id = CLI_OPT_LIBVIRT, .name = "libvirt", .type = CLI_TEXT, .meta = "URI",
	  .help = "a live libvirt connection, e.g. qemu:///system" },
	{ .id = CLI_OPT_XL, .name = "xl", .type = CLI_INPUT, .help = "the output of `xl info -n`" },
	{ .id = CLI_OPT_JSON, .name = "json", .type = CLI_INPUT,
	  .help = "numaplace topology JSON (numaplace.topology/1)" },
	{ .id = CLI_OPT_SOURCE, .name = "source", .type = CLI_TEXT, .meta = "KIND[:ARG]",
	  .help = "any of the above by name, or `local`" },
	{ .type = CLI_NOTE, .help = "A FILE of - is read from standard input." },
	CLI_OPT_END,
};

/* --source KIND[:ARG] into SRC; 0 or a usage error's exit code. */
static int source_by_name(const struct cli_verb *verb, const char *arg, struct cli_source *src)
{
	const char *colon = strchr(arg, ':');
	char name[32];

	snprintf(name, sizeof(name), "%.*s",
		 (int)(colon ? (size_t)(colon - arg) : strlen(arg)), arg);
	if (np_source_kind_from_name(name, &src->kind))
		return cli_usage_error(verb, "unknown topology source '%s' (local, sysfs, "
				       "hwloc-xml, libvirt-xml, libvirt, xl, json, auto)", name);
	if (src->kind != NP_SOURCE_LOCAL && (!colon || !colon[1]))
		return cli_usage_error(verb, "source '%s' needs a path or URI: --source %s:ARG",
				       name, name);
	src->arg = colon && colon[1] ? colon + 1 : NULL;
	return CLI_OK;
}

int cli_source_get(const struct cli_args *a, bool skip_libvirt, struct cli_source *src)
{
	static const struct {
		int id;
		enum np_source_kind kind;
	} kinds[] = {
		{ CLI_OPT_SYSFS, NP_SOURCE_SYSFS },	      { CLI_OPT_HWLOC_XML, NP_SOURCE_HWLOC_XML },
		{ CLI_OPT_LIBVIRT_XML, NP_SOURCE_LIBVIRT_XML }, { CLI_OPT_LIBVIRT, NP_SOURCE_LIBVIRT_URI },
		{ CLI_OPT_XL, NP_SOURCE_XL_INFO },	      { CLI_OPT_JSON, NP_SOURCE_JSON },
		{ CLI_OPT_HOST, NP_SOURCE_AUTO },
	};

	*src = (struct cli_source){ 0 };
	for (int i = 0; i < a->nseen; i++) {
		int id = a->seen[i].opt->id;

		if (id < CLI_OPT_SOURCE || id > CLI_OPT_SOURCE_LAST ||
		    (skip_libvirt && id == CLI_OPT_LIBVIRT))
			continue;
		if (src->given)
			return cli_usage_error(a->verb, "give the host topology only once");
		src->given = true;
		src->arg = a->seen[i].text;
		if (id == CLI_OPT_SOURCE && source_by_name(a->verb, src->arg, src))
			return CLI_BAD_INPUT;
		for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
			if (kinds[k].id == id)
				src->kind = kinds[k].kind;
	}
	return CLI_OK;
}

int cli_load_topology(const struct cli_source *src, np_topo **out)
{
	struct np_error err = { 0 };
	enum np_source_kind kind = src->given ? src->kind : NP_SOURCE_LOCAL;
	int rc;

	/* The tool reports a connection that fails to open itself (error.h). */
	if (kind == NP_SOURCE_LIBVIRT_URI)
		np_set_quiet();

	if (src->given && src->arg && strcmp(src->arg, "-") == 0 &&
	    kind != NP_SOURCE_LIBVIRT_URI && kind != NP_SOURCE_SYSFS) {
		size_t len;
		char *buf;

		if ((rc = cli_read_file("-", &buf, &len)))
			return rc;
		rc = np_topo_parse(kind, buf, len, "<stdin>", out, &err);
		free(buf);
	} else {
		rc = np_topo_load(kind, src->given ? src->arg : NULL, out, &err);
	}
	return rc ? cli_fail(&err) : CLI_OK;
}
