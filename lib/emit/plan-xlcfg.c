/*
 * plan-xlcfg.c - np_plan_merge_xl_config(): a plan merged into a whole
 * xl.cfg file, every byte of it kept but the settings the plan replaces.
 *
 * The plan is said once, by plan-xl.c (the one mapping of a plan to xl,
 * with its refusals); its lines are parsed back (request/xl-cfg.h) and
 * each of its settings set in the file:
 *  - cpus=, cpus_soft=, vnuma=: the plan's value replaces the value of the
 *    first setting of that name (its name, spacing, ';' and any comment
 *    after it stay), later settings of the name are removed, and one the
 *    file lacks is added at the end.  The one of cpus=/cpus_soft= the plan
 *    does not use is removed, as is vnuma= for a plan without guest cells:
 *    an old pinning left beside the new one would change it.
 *  - the size: vcpus=/maxvcpus= and memory=/maxmem= only where they
 *    differ from the plan's (a guest read from this file keeps them
 *    untouched): the maximum (maxvcpus=, maxmem=) when the file sets it,
 *    else vcpus= and memory=, and vcpus=/memory= lowered when above it.
 * A removed setting takes its whole line when nothing else is on it.  The
 * comments plan-xl.c writes are left out: merged again, a file would
 * collect them.
 *
 * Nothing is written unless everything worked: the file is made in
 * memory and written to OUT at once.
 */
#include <stdlib.h>
#include <string.h>

#include <numaplace/doc.h>

#include "emit/plan-emit.h"
#include "request/xl-cfg.h"

struct edit {
	size_t start, end; /* bytes of the file replaced by TEXT */
	const char *text;  /* NULL: removed */
	size_t tlen;
};

struct xm {
	const char *buf, *name;
	size_t len;
	struct np__xlcfg doc, plan;
	const char *pbuf; /* the plan's lines */
	struct edit *e;
	int ne;
	size_t cap;
	char *tail; /* settings added at the end */
	size_t ntail;
	FILE *tailf;
	struct np_error *err;
};

static int add_edit(struct xm *m, size_t start, size_t end, const char *text, size_t tlen)
{
	if (np__grow((void **)&m->e, &m->cap, (size_t)m->ne + 1, sizeof(*m->e)) < 0)
		return np__err(m->err, NP_ENOMEM, "out of memory");
	m->e[m->ne++] = (struct edit){ start, end, text, tlen };
	return 0;
}

static bool blank_or(const char *s, size_t from, size_t to, const char *also)
{
	for (size_t i = from; i < to; i++)
		if (s[i] != ' ' && s[i] != '\t' && !strchr(also, s[i]))
			return false;
	return true;
}

/* Remove setting S: its whole line when nothing else is on it. */
static int remove_set(struct xm *m, const struct np__xlset *s)
{
	size_t ls = s->start, le = s->end;

	while (ls > 0 && m->buf[ls - 1] != '\n')
		ls--;
	while (le < m->len && m->buf[le] != '\n')
		le++;
	if (blank_or(m->buf, ls, s->start, "") && blank_or(m->buf, s->end, le, ";"))
		return add_edit(m, ls, le < m->len ? le + 1 : le, NULL, 0);
	return add_edit(m, s->start, s->end, NULL, 0);
}

/* Give KEY the value TEXT (TLEN bytes), or none when TEXT is NULL. */
static int set_key(struct xm *m, const char *key, const char *text, size_t tlen)
{
	bool first = true;
	int rc = 0;

	for (int i = 0; i < m->doc.n && !rc; i++) {
		const struct np__xlset *s = &m->doc.sets[i];

		if (strcmp(s->name, key) != 0)
			continue;
		if (first && text)
			rc = add_edit(m, s->value.start, s->value.end, text, tlen);
		else
			rc = remove_set(m, s);
		first = false;
	}
	if (!rc && first && text)
		fprintf(m->tailf, "%s=%.*s\n", key, (int)tlen, text);
	return rc;
}

/* KEY as the plan writes it: its value's text, or NULL. */
static const char *plan_value(const struct xm *m, const char *key, size_t *tlen)
{
	int k = np__xlcfg_last(&m->plan, key);

	if (k < 0)
		return NULL;
	*tlen = m->plan.sets[k].value.end - m->plan.sets[k].value.start;
	return m->pbuf + m->plan.sets[k].value.start;
}

/*
 * The size in the pair MAXKEY / KEY (maxvcpus / vcpus, maxmem / memory):
 * the plan's WANT, written only where the file says otherwise.
 */
static int set_size(struct xm *m, const char *maxkey, const char *key, long dflt)
{
	const char *t;
	size_t tlen = 0;
	long want = 0, cur = dflt, max = -1;
	int line, rc;

	if (!(t = plan_value(m, key, &tlen)))
		return np__err(m->err, NP_EINPUT, "internal error: the plan's lines have no %s=",
			       key);
	if ((rc = np__xlcfg_long(&m->plan, "plan", key, &want, &line, m->err)) < 0)
		return rc;
	if ((rc = np__xlcfg_long(&m->doc, m->name, key, &cur, &line, m->err)) < 0 ||
	    (rc = np__xlcfg_long(&m->doc, m->name, maxkey, &max, &line, m->err)) < 0)
		return rc;
	if (max >= 0 && max != want && (rc = set_key(m, maxkey, t, tlen)))
		return rc;
	if ((max >= 0 ? cur > want : cur != want))
		return set_key(m, key, t, tlen);
	return 0;
}

static int plan_keys(struct xm *m)
{
	static const char *const keys[] = { "cpus", "cpus_soft", "vnuma" };
	int rc = 0;

	if ((rc = set_size(m, "maxvcpus", "vcpus", 1)) || (rc = set_size(m, "maxmem", "memory", 0)))
		return rc;
	for (size_t i = 0; i < NP__ARRAY_SIZE(keys) && !rc; i++) {
		size_t tlen = 0;
		const char *t = plan_value(m, keys[i], &tlen);

		rc = set_key(m, keys[i], t, tlen);
	}
	return rc;
}

static int cmp_edit(const void *a, const void *b)
{
	const struct edit *x = a, *y = b;

	return (x->start > y->start) - (x->start < y->start);
}

/* The file with the edits and the tail, to OUT in one write. */
static int write_out(struct xm *m, FILE *out)
{
	char *doc = NULL;
	size_t dlen = 0, at = 0;
	FILE *f = open_memstream(&doc, &dlen);
	int rc = 0;

	if (!f)
		return np__err(m->err, NP_ENOMEM, "out of memory");
	if (m->ne)
		qsort(m->e, (size_t)m->ne, sizeof(*m->e), cmp_edit);
	for (int i = 0; i < m->ne; i++) {
		if (m->e[i].start < at)
			continue; /* inside a line already removed */
		fwrite(m->buf + at, 1, m->e[i].start - at, f);
		if (m->e[i].text)
			fwrite(m->e[i].text, 1, m->e[i].tlen, f);
		at = m->e[i].end;
	}
	fwrite(m->buf + at, 1, m->len - at, f);
	if (m->ntail && m->len && m->buf[m->len - 1] != '\n')
		fputc('\n', f);
	if (m->ntail)
		fwrite(m->tail, 1, m->ntail, f);
	if (fclose(f))
		rc = np__err(m->err, NP_ENOMEM, "out of memory");
	else if (fwrite(doc, 1, dlen, out) != dlen)
		rc = np__err(m->err, NP_EOS, "cannot write the xl.cfg: output error");
	free(doc);
	return rc;
}

/* The plan as plan-xl.c's lines, parsed. */
static int plan_lines(struct xm *m, const np_plan *plan, const np_host *host,
		      const np_request *req, char **pbuf, size_t *plen)
{
	FILE *f = open_memstream(pbuf, plen);
	int rc;

	if (!f)
		return np__err(m->err, NP_ENOMEM, "out of memory");
	rc = np__plan_write_xl(plan, host, req, f, m->err);
	if (fclose(f) && !rc)
		rc = np__err(m->err, NP_ENOMEM, "out of memory");
	m->pbuf = *pbuf;
	if (!rc && (rc = np__xlcfg_parse(*pbuf, *plen, "plan", &m->plan, m->err)) == NP_EINPUT)
		rc = np__err(m->err, NP_EINPUT, "internal error: the plan's xl lines do not parse");
	return rc;
}

int np_plan_merge_xl_config(const np_plan *plan, const np_host *host, const np_request *req,
			    const char *buf, size_t len, const char *name, FILE *out,
			    struct np_error *err)
{
	struct xm m = { .buf = buf, .name = name ? name : "xl.cfg", .len = len, .err = err };
	char *pbuf = NULL;
	size_t plen = 0;
	int rc;

	if (!buf)
		return np__err(err, NP_EINPUT, "%s: no document", m.name);
	if (!plan->fits)
		return np__err(err, NP_EINPUT, "%s: the plan does not fit: nothing to merge",
			       m.name);
	if (!(m.tailf = open_memstream(&m.tail, &m.ntail)))
		return np__err(err, NP_ENOMEM, "out of memory");
	rc = np__xlcfg_parse(buf, len, m.name, &m.doc, err);
	if (!rc)
		rc = plan_lines(&m, plan, host, req, &pbuf, &plen);
	if (!rc)
		rc = plan_keys(&m);
	if (fclose(m.tailf) && !rc)
		rc = np__err(err, NP_ENOMEM, "out of memory");
	if (!rc)
		rc = write_out(&m, out);
	np__xlcfg_free(&m.doc);
	np__xlcfg_free(&m.plan);
	free(m.e);
	free(m.tail);
	free(pbuf);
	return rc;
}
