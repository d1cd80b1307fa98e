/*
 * plan-domain.c - np_plan_merge_domain_xml(): a plan merged into a whole
 * libvirt domain document.  The plan is said once, by plan-libvirt.c (the
 * one mapping of a plan to libvirt's elements, with its refusals); its
 * output is grafted into the document by domain-merge.c, the libxml2
 * part in module xml, which knows documents and nothing of plans.
 *
 * Nothing is written unless everything worked: the merged document is
 * made in memory and written to OUT at once.
 */
#include <stdlib.h>

#include <numaplace/doc.h>

#include "emit/plan-emit.h"
#include "module/module.h"

/* The xml module's libxml2 does the merge (domain-merge.c). */
static int merge(const char *buf, size_t len, const char *name, const char *pieces, size_t plen,
		 uint64_t memory_mb, char **out, size_t *outlen, struct np_error *err)
{
	const struct np__module *m;
	int rc = np__module_get("xml", &m, err);

	if (rc)
		return rc;
	return ((const struct np__mod_xml *)m->ops)->domain_merge(buf, len, name, pieces, plen,
								  memory_mb, out, outlen, err);
}

int np_plan_merge_domain_xml(const np_plan *plan, const np_host *host, const np_request *req,
			     const char *buf, size_t len, const char *name, FILE *out,
			     struct np_error *err)
{
	char *pieces = NULL, *doc = NULL;
	size_t plen = 0, dlen = 0;
	uint64_t mem = 0;
	FILE *m;
	int rc;

	name = name ? name : "domain";
	if (!buf)
		return np__err(err, NP_EINPUT, "%s: no document", name);
	if (!plan->fits)
		return np__err(err, NP_EINPUT, "%s: the plan does not fit: nothing to merge", name);
	if (!(m = open_memstream(&pieces, &plen)))
		return np__err(err, NP_ENOMEM, "out of memory");
	rc = np__plan_write_libvirt(plan, host, req, m, err);
	if (fclose(m) && !rc)
		rc = np__err(err, NP_ENOMEM, "out of memory");
	for (int i = 0; i < plan->ncells; i++)
		mem += plan->cells[i].memory_mb;
	if (!rc)
		rc = merge(buf, len, name, pieces, plen, mem, &doc, &dlen, err);
	if (!rc && fwrite(doc, 1, dlen, out) != dlen)
		rc = np__err(err, NP_EOS, "cannot write the domain: output error");
	free(pieces);
	free(doc);
	return rc;
}
