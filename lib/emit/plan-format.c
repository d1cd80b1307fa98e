/*
 * plan-format.c - np_plan_write(): pick the writer for a format, check
 * once that the plan belongs to the host it is written for, and turn a
 * failing stream into one error.  Also the views of a plan the writers
 * share (guest cells, the vCPU table, cpulists).
 *
 * A plan remembers the kernel node ids of the topology it was made on
 * (np__plan_set_topo); writing it for a host whose nodes differ would
 * print the wrong node ids, so that is refused before any byte is written.
 * HOST may be NULL for the formats that need nothing but node ids (text,
 * json, numactl); libvirt and xl need the host's distances.
 */
#include <string.h>

#include "emit/plan-emit.h"
#include "plan/plan-json.h"

static const struct {
	const char *name;
	enum np_plan_format format;
	bool needs_host;
} formats[] = {
	{ "text", NP_PLAN_TEXT, false },
	{ "json", NP_PLAN_JSON, false },
	{ "libvirt", NP_PLAN_LIBVIRT, true },
	{ "xl", NP_PLAN_XL, true },
	{ "numactl", NP_PLAN_NUMACTL, false },
};

int np_plan_format_from_name(const char *name, enum np_plan_format *out)
{
	for (size_t i = 0; i < NP__ARRAY_SIZE(formats); i++)
		if (name && strcmp(formats[i].name, name) == 0) {
			*out = formats[i].format;
			return 0;
		}
	return NP_EINPUT;
}

static int dispatch(const np_plan *plan, const np_host *host, const np_request *req,
		    enum np_plan_format format, unsigned flags, FILE *out, struct np_error *err)
{
	const np_topo *topo = host ? np_host_topo(host) : NULL;

	switch (format) {
	case NP_PLAN_TEXT: return np__plan_write_text(plan, host, req, flags, out, err);
	case NP_PLAN_JSON: return np__plan_write_json(plan, topo, false, out, err);
	case NP_PLAN_LIBVIRT: return np__plan_write_libvirt(plan, host, req, out, err);
	case NP_PLAN_XL: return np__plan_write_xl(plan, host, req, out, err);
	case NP_PLAN_NUMACTL: return np__plan_write_numactl(plan, host, out, err);
	}
	return np__err(err, NP_EINPUT, "unknown plan format %d", (int)format);
}

int np_plan_write(const np_plan *plan, const np_host *host, const np_request *req,
		  enum np_plan_format format, unsigned flags, FILE *out, struct np_error *err)
{
	int rc;

	for (size_t i = 0; i < NP__ARRAY_SIZE(formats); i++)
		if (formats[i].format == format && formats[i].needs_host && !host)
			return np__err(err, NP_EINPUT,
				       "cannot write the plan as %s without its host",
				       formats[i].name);
	if (host && !np__plan_matches_topo(plan, np_host_topo(host)))
		return np__err(err, NP_EINPUT,
			       "cannot write the plan: it was made for a host with other nodes");
	if (plan->fits && plan->nnodeset == 0)
		return np__err(err, NP_EINPUT, "cannot write the plan: it has no memory nodes");
	rc = dispatch(plan, host, req, format, flags, out, err);
	if (rc == NP_EOS || (rc == 0 && (fflush(out) || ferror(out))))
		return np__err(err, NP_EOS, "cannot write the plan: output error");
	return rc;
}
